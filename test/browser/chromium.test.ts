import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium } from 'playwright-core';
import { findChromium, launchChromium } from '../../src/browser/chromium.js';

/** Two stand-in executables, so the order between them shows in which one is returned. */
function fakeChromiums(): { first: string; second: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gameday-chromium-'));
  const [first, second] = ['first-chrome', 'second-chrome'].map((name) => {
    const file = join(dir, name);
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o755);
    return file;
  });
  return { first: first!, second: second! };
}

/** The message a rejection carries, or 'resolved' when there was none. */
function rejection(p: Promise<unknown>): Promise<string> {
  return p.then(() => 'resolved', (err: Error) => err.message);
}

describe('browser/chromium: one way to find Chromium for the browser probe and --pdf', () => {
  const { first, second } = fakeChromiums();

  it('takes $GAMEDAY_CHROMIUM before $PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, and either before an installed one', async () => {
    const both = { GAMEDAY_CHROMIUM: first, PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: second };
    expect(await findChromium('test', { env: both, installed: ['/usr/bin/chromium'] })).to.equal(first);
    expect(await findChromium('test', { env: { PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: second }, installed: [first] })).to.equal(second);
  });

  it('names the variable and its value when it points nowhere, rather than falling back', async () => {
    expect(await rejection(findChromium('test', { env: { GAMEDAY_CHROMIUM: '/nowhere/chrome' }, installed: [first] }))).to.equal(
      '$GAMEDAY_CHROMIUM is /nowhere/chrome, which does not exist; point it at a Chromium or Chrome executable',
    );
    expect(await rejection(findChromium('test', { env: { PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH: '/nowhere/chrome' }, installed: [first] }))).to.equal(
      '$PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH is /nowhere/chrome, which does not exist; point it at a Chromium or Chrome executable',
    );
  });

  it('without a variable, takes the first installed Chromium that exists', async () => {
    expect(await findChromium('test', { env: {}, installed: ['/nowhere/chrome', second, first] })).to.equal(second);
  });

  it('looks for Playwright\'s own download before Debian\'s /usr/bin/chromium', async () => {
    const downloaded = chromium.executablePath();
    const expected = existsSync(downloaded) ? downloaded : '/usr/bin/chromium';
    expect(await findChromium('test', { env: {} })).to.equal(expected);
  });

  it('says who needed Chromium and how to get one when there is none', async () => {
    const none = { env: {}, installed: ['/nowhere/chrome'] };
    expect(await rejection(findChromium('the browser probe', none))).to.equal(
      'the browser probe needs Chromium and found none: set $GAMEDAY_CHROMIUM to a Chromium or Chrome executable, ' +
        'or install one (`npx playwright install chromium`, or `apt-get install chromium` on Debian/Ubuntu)',
    );
    expect(await rejection(findChromium('--pdf', none))).to.match(/^--pdf needs Chromium and found none: set \$GAMEDAY_CHROMIUM/);
  });

  it('launches a real headless Chromium that renders a page and runs its script', async function () {
    this.timeout(30_000);
    const browser = await launchChromium('the chromium test');
    try {
      const page = await browser.newPage();
      await page.setContent('<p id="out"></p><script>document.getElementById("out").textContent = String(6 * 7)</script>');
      expect(await page.textContent('#out')).to.equal('42');
      expect(await page.evaluate('navigator.userAgent')).to.contain('HeadlessChrome');
    } finally {
      await browser.close();
    }
  });
});
