import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { UsageError } from '../core/errors.js';

/** The variables that name a Chromium, in the order they are honoured. */
const CHROMIUM_VARIABLES = ['GAMEDAY_CHROMIUM', 'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH'] as const;

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

export interface FindChromiumOptions {
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Where an installed Chromium may be when no variable names one, most preferred first.
   * @default Playwright's own download, then Debian's /usr/bin/chromium
   */
  readonly installed?: readonly string[];
}

/**
 * The Chromium to drive: `$GAMEDAY_CHROMIUM` or `$PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH` when set,
 * else the browser a Playwright install downloaded (so users of `playwright` keep theirs), else
 * Debian's `/usr/bin/chromium`. `neededBy` names what asked, for the message when there is none:
 * "the browser probe", "--pdf".
 */
export async function findChromium(neededBy: string, options: FindChromiumOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  for (const name of CHROMIUM_VARIABLES) {
    const path = env[name];
    if (!path) continue;
    if (!existsSync(path)) throw new UsageError(`$${name} is ${path}, which does not exist; point it at a Chromium or Chrome executable`);
    return path;
  }
  const installed = options.installed ?? [...(await playwrightDownload()), DEBIAN_CHROMIUM];
  const found = installed.find((path) => existsSync(path));
  if (found) return found;
  throw new UsageError(
    `${neededBy} needs Chromium and found none: set $GAMEDAY_CHROMIUM to a Chromium or Chrome executable, ` +
      'or install one (`npx playwright install chromium`, or `apt-get install chromium` on Debian/Ubuntu)',
  );
}

/** A headless Chromium, found as findChromium() finds it. */
export async function launchChromium(neededBy: string): Promise<Browser> {
  const executablePath = await findChromium(neededBy);
  return (await loadPlaywright()).chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS });
}

/** Where Playwright's own download of Chromium would be; none when it cannot say. */
async function playwrightDownload(): Promise<string[]> {
  try {
    return [(await loadPlaywright()).chromium.executablePath()];
  } catch {
    return [];
  }
}

/**
 * playwright-core takes the better part of a second to load: only a browser probe or --pdf pays
 * for it, never `gameday validate` or `--help`.
 */
function loadPlaywright(): Promise<typeof import('playwright-core')> {
  return import('playwright-core');
}
