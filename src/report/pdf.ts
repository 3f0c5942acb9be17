import { pathToFileURL } from 'node:url';
import { launchChromium } from '../browser/chromium.js';

/** A4 minus the 12 mm margins of the print stylesheet, in CSS pixels: charts are drawn at the width they print at. */
const PRINT_WIDTH_PX = 703;

/** Prints report.html to a PDF (A4, backgrounds on) the way a person would print it from Chromium. */
export async function renderPdf(htmlPath: string, pdfPath: string): Promise<void> {
  const browser = await launchChromium('--pdf');
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
