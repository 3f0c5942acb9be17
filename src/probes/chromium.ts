import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { UsageError } from '../core/errors.js';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for an unattended headless Chromium: no sandbox (containers and CI runners rarely allow
 * one), and none of the background traffic (updates, sync, QUIC probes) that would add noise to a
 * journey's timing or try to leave a network-less machine.
 */
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * The Chromium to drive: `$GAMEDAY_CHROMIUM` or `$PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH` when set,
 * else the browser a Playwright install downloaded (so users of `playwright` keep theirs), else
 * Debian's `/usr/bin/chromium`.
 */
export async function resolveChromium(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  for (const name of ['GAMEDAY_CHROMIUM', 'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH']) {
    const path = env[name];
    if (!path) continue;
    if (!existsSync(path)) throw new UsageError(`$${name} is ${path}, which does not exist; point it at a Chromium or Chrome executable`);
    return path;
  }
  const playwrights = await playwrightChromium();
  if (playwrights && existsSync(playwrights)) return playwrights;
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  throw new UsageError(
    'the browser probe needs Chromium and found none: set $GAMEDAY_CHROMIUM to a Chromium or Chrome executable, ' +
      'or install one (`npx playwright install chromium`, or `apt-get install chromium` on Debian/Ubuntu)',
  );
}

/** Where Playwright's own download of Chromium would be; undefined when it cannot say. */
async function playwrightChromium(): Promise<string | undefined> {
  try {
    return (await loadPlaywright()).chromium.executablePath();
  } catch {
    return undefined;
  }
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = await resolveChromium();
  return (await loadPlaywright()).chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS });
}

/** playwright-core takes half a second to load: only runs with a browser probe pay for it. */
function loadPlaywright(): Promise<typeof import('playwright-core')> {
  return import('playwright-core');
}
