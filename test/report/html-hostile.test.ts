import { join } from 'node:path';
import { expect } from 'chai';
import type { RunEvent } from '../../src/journal/events.js';
import { HtmlReporter } from '../../src/report/html.js';
import { journalPath, withTempDir } from './fixture-journals.js';
import { openReport, playEventRuns, readEvents, useChromium } from './html-fixture.js';

/**
 * Strings from the cluster (node and pod names, Event reasons and messages, condition messages,
 * probe errors) reach report.html as they came. Each payload below sets `window.__pwned` if the
 * page ever runs it, or opens a dialog; the page must show every one as text instead.
 */
const IMG = '<img src=x onerror="window.__pwned=\'img\';alert(1)">';
const CLOSE_SCRIPT = '</script><script>window.__pwned=\'script\'</script>';
const SVG = '<svg onload="window.__pwned=\'svg\'"></svg>';
const QUOTES = `x" onmouseover="window.__pwned='attr'" autofocus onfocus="window.__pwned='attr' y='`;
const NODE = `worker"><img src=y onerror="window.__pwned='node'">`;
const POD = `Pod shop/web-1<script>window.__pwned='pod'</script>`;

/** The node-partition run, with every cluster-sourced string in it replaced by a hostile one. */
function hostileRun(): RunEvent[] {
  const events = readEvents(journalPath('node-partition')).map((e): RunEvent => {
    switch (e.type) {
      case 'cluster.event':
        return { ...e, reason: `Evil${QUOTES}`, message: `${IMG} ${CLOSE_SCRIPT}`, object: POD };
      case 'node.condition':
        return { ...e, node: e.node === 'gameday-worker2' ? NODE : e.node, ...(e.message ? { message: SVG } : {}), ...(e.reason ? { reason: `R${QUOTES}` } : {}) };
      case 'fault':
        return { ...e, ...(e.message ? { message: `dropped ${IMG}` } : {}), ...(e.targets ? { targets: { nodes: [NODE] } } : {}) };
      case 'log':
        return { ...e, message: `probe web: ${CLOSE_SCRIPT}` };
      case 'check':
        return { ...e, message: `${e.message} ${SVG}` };
      default:
        return e;
    }
  });
  const end = events.findIndex((e) => e.type === 'run.end');
  const t = events[end]!.t - 1;
  events.splice(end, 0, { type: 'probe.error', t, probe: 'web', kind: 'http', message: `GET /: 500 ${IMG}` }, { type: 'log', t, level: 'error', message: `pod shop/${CLOSE_SCRIPT}: exec failed` });
  return events;
}

describe('report/html with hostile strings from the cluster', function () {
  this.timeout(30_000);
  const browser = useChromium('the report escaping test');

  it('runs no script from a name or message in Chromium, and shows each one as text', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([hostileRun()], [new HtmlReporter()], dir);
      const { page, problems } = await openReport(browser(), join(dir, result!.runId, 'report.html'), { width: 1280, height: 800 });
      // Hover and focus everything, so an injected attribute handler would have had its chance.
      await page.locator('.node-lane').first().hover();
      await page.keyboard.press('Tab');

      expect(await page.evaluate('window.__pwned')).to.equal(undefined);
      expect(problems, 'dialogs, page errors, console errors').to.deep.equal([]);
      expect(await page.locator('main img, main script, main svg[onload]').count()).to.equal(0);

      const events = (await page.locator('#events').textContent())!;
      expect(events).to.contain(`Evil${QUOTES} ${POD}: ${IMG} ${CLOSE_SCRIPT}`);
      expect(events).to.contain(`${NODE} Ready True → Unknown (R${QUOTES}: ${SVG})`);
      expect(events).to.contain(`probe web: ${CLOSE_SCRIPT}`).and.to.contain(`GET /: 500 ${IMG}`);
      expect(events).to.contain(`pod shop/${CLOSE_SCRIPT}: exec failed`);
      expect(await page.locator('#checks').textContent()).to.contain(SVG);
      expect(await page.locator('.node-lane').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')))).to.include(NODE);
      expect(await page.locator('#node-conditions').textContent()).to.contain(NODE);
      // The page's own script read the timeline data (holding the same strings) and drew its charts.
      expect(await page.locator('.chart .uplot canvas').count()).to.be.greaterThan(0);
    });
  });
});
