import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { UsageError } from '../core/errors.js';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * Unattended headless Chromium: no sandbox (containers and CI runners rarely allow one) and no
 * background traffic, since a report is rendered on machines that may have no network at all.
 * The browser probe has its own launcher (src/probes/chromium.ts); reporters do not import probes.
 */
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** A4 minus the 12 mm margins of the print stylesheet, in CSS pixels: charts are drawn at the width they print at. */
const PRINT_WIDTH_PX = 703;

/**
 * The Chromium that renders PDFs: `$GAMEDAY_CHROMIUM` when set, else the browser a Playwright
 * install downloaded, else Debian's `/usr/bin/chromium`.
 */
export function resolveReportChromium(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.GAMEDAY_CHROMIUM;
  if (configured) {
    if (!existsSync(configured)) throw new UsageError(`$GAMEDAY_CHROMIUM is ${configured}, which does not exist; point it at a Chromium or Chrome executable`);
    return configured;
  }
  let downloaded: string | undefined;
  try {
    downloaded = chromium.executablePath();
  } catch {
    downloaded = undefined;
  }
  if (downloaded && existsSync(downloaded)) return downloaded;
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  throw new UsageError('--pdf needs Chromium and found none: set $GAMEDAY_CHROMIUM, or install one (`npx playwright install chromium`, or `apt-get install chromium`)');
}

export interface RenderPdfOptions {
  /** @default resolveReportChromium() */
  readonly executablePath?: string;
}

/** Prints report.html to a PDF (A4, backgrounds on) the way a person would print it from Chromium. */
export async function renderPdf(htmlPath: string, pdfPath: string, options: RenderPdfOptions = {}): Promise<void> {
  const browser = await chromium.launch({ executablePath: options.executablePath ?? resolveReportChromium(), headless: true, args: LAUNCH_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: PRINT_WIDTH_PX, height: 1000 } });
    await page.emulateMedia({ media: 'print' });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    // The charts are drawn by the page's script; a report whose script failed still prints its tables.
    await page.waitForFunction("document.documentElement.dataset.ready === 'true'", undefined, { timeout: 10_000 }).catch(() => undefined);
    await page.pdf({ path: pdfPath, format: 'A4', printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '12mm', right: '12mm' } });
  } finally {
    await browser.close();
  }
}
