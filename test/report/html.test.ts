import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import type { RunEvent } from '../../src/journal/events.js';
import { HtmlReporter } from '../../src/report/html.js';
import { TimelineBuilder } from '../../src/report/html/timeline.js';
import { JsonReporter } from '../../src/report/json.js';
import { ResultBuilder } from '../../src/report/result.js';
import { journalPath, withTempDir } from './fixture-journals.js';
import { openReport, playEventRuns, readEvents, RICH_JOURNAL, useChromium } from './html-fixture.js';

const ARTIFACTS = 'test-artifacts';

describe('report/html', function () {
  this.timeout(30_000);
  const browser = useChromium('the report tests');

  it('draws the probes, fault windows, budget and markers of a run in Chromium, with no console errors, on a desktop and a phone', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([readEvents(RICH_JOURNAL)], [new JsonReporter(), new HtmlReporter()], dir);
      const file = join(dir, result!.runId, 'report.html');
      const html = await readFile(file, 'utf8');
      expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!github\.com\/leeoniya)/);

      const { page, problems } = await openReport(browser(), file, { width: 1280, height: 800 });
      expect(await page.textContent('h1')).to.contain('drain-keeps-web-up');
      expect(await page.textContent('header .badge')).to.equal('failed');
      // web and api: success and latency; the budget probe: ready pods against desired healthy.
      expect(await page.locator('.chart .uplot canvas').count()).to.equal(5);
      expect(await page.getAttribute('html', 'data-charts')).to.equal('5');
      expect(await page.locator('.lane .fault-window').evaluateAll((els) => els.map((e) => e.getAttribute('data-fault')))).to.deep.equal(['f0', 'f1']);
      expect(await page.locator('.lane .marker.abort').count()).to.equal(1);
      expect(await page.locator('.lane .marker.revert').count()).to.equal(2);
      expect(await page.locator('.lane .marker.warning').count()).to.equal(2);
      expect(await page.locator('#probe-2 .u-legend').textContent()).to.contain('desired healthy');
      expect(await page.locator('#events').textContent()).to.contain('Warning FailedScheduling');
      expect(await page.locator('#checks tbody tr').count()).to.equal(6);
      await page.screenshot({ path: join(ARTIFACTS, 'report-desktop.png'), fullPage: true });
      expect(problems).to.deep.equal([]);

      const phone = await openReport(browser(), file, { width: 390, height: 844 });
      expect(await phone.page.evaluate<number>('document.documentElement.scrollWidth')).to.be.at.most(390);
      expect(await phone.page.locator('#probe-0-success canvas').evaluate((c) => c.getBoundingClientRect().width)).to.be.at.most(390);
      await phone.page.screenshot({ path: join(ARTIFACTS, 'report-phone.png'), fullPage: true });
      expect(phone.problems).to.deep.equal([]);
    });
  });

  it('draws a node conditions lane per node and Kubernetes Warning events as markers and rows, in Chromium', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([readEvents(journalPath('node-partition'))], [new HtmlReporter()], dir);
      const { page, problems } = await openReport(browser(), join(dir, result!.runId, 'report.html'), { width: 1280, height: 800 });
      expect(await page.locator('.node-lane').evaluateAll((els) => els.map((e) => e.getAttribute('data-node')))).to.deep.equal(['gameday-worker3', 'gameday-worker2']);
      const worker2 = page.locator('.node-lane[data-node="gameday-worker2"] .condition-span');
      expect(await worker2.allTextContents()).to.deep.equal(['Ready', 'Unknown', 'Ready']);
      // The run lasts 28 s; the node stopped reporting from 11 s to 18 s, on the fault lane's scale.
      const unknown = page.locator('.node-lane[data-node="gameday-worker2"] .condition-span.ready-unknown');
      const [left, width, lane] = await unknown.evaluate((el) => [el.getBoundingClientRect().left - el.parentElement!.getBoundingClientRect().left, el.getBoundingClientRect().width, el.parentElement!.clientWidth]);
      expect(left / lane).to.be.closeTo(11 / 28, 0.01);
      expect(width / lane).to.be.closeTo(7 / 28, 0.01);
      const fault = await page.locator('.lane .fault-window[data-fault="f0"]').evaluate((el) => el.getBoundingClientRect().left - el.parentElement!.getBoundingClientRect().left);
      expect(fault / lane).to.be.closeTo(9.1 / 28, 0.01);
      expect(await page.locator('.node-lane[data-node="gameday-worker3"] .condition-span.pressure').allTextContents()).to.deep.equal(['MemoryPressure', 'DiskPressure']);
      // Its Ready never changed, so it was Ready throughout; the two pressures get rows of their own.
      expect(await page.locator('.node-lane[data-node="gameday-worker3"] .condition-span.ready-true').count()).to.equal(0);
      expect(await page.locator('.node-lane[data-node="gameday-worker3"]').textContent()).to.contain('Ready throughout');
      const tops = await page.locator('.node-lane[data-node="gameday-worker3"] .condition-span.pressure').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
      expect(new Set(tops).size).to.equal(2);

      expect(await page.locator('#timeline > .lane .marker.k8s-warning').count()).to.equal(4);
      expect(await page.locator('#timeline > .lane .marker.warning').count()).to.equal(1);
      const warningRows = await page.locator('#events tr.event-k8s-warning').allTextContents();
      expect(warningRows).to.have.length(4);
      expect(warningRows[0]).to.match(/^\+00:11\.2WarningNodeNotReady Pod shop\/web-6d9f-abcde: Node is not ready$/);
      expect(warningRows[2]).to.contain('Evicted Pod shop/web-6d9f-klmno');
      expect(warningRows[3]).to.contain('FailedScheduling Pod shop/web-6d9f-fghij').and.contain('(4 times)');
      expect(await page.locator('#events tr.event-node').allTextContents()).to.include('+00:11.0node conditiongameday-worker2 Ready True → Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)');
      await page.screenshot({ path: join(ARTIFACTS, 'report-node-conditions.png'), fullPage: true });
      expect(problems).to.deep.equal([]);

      const phone = await openReport(browser(), join(dir, result!.runId, 'report.html'), { width: 390, height: 844 });
      expect(await phone.page.evaluate<number>('document.documentElement.scrollWidth')).to.be.at.most(390);
      expect(phone.problems).to.deep.equal([]);
    });
  });

  it('scrolls a failed check to its chart and highlights its evidence window', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([readEvents(RICH_JOURNAL)], [new HtmlReporter()], dir);
      const { page, problems } = await openReport(browser(), join(dir, result!.runId, 'report.html'), { width: 1280, height: 800 });
      const row = result!.checks.findIndex((c) => c.check === 'p99(web) < 300ms over 10s');
      await page.click(`#check-${row} a.evidence-link`);
      expect(await page.evaluate<string>('location.hash')).to.equal(`#evidence-${row}`);
      const chart = page.locator('#probe-0-latency');
      const box = chart.locator('.evidence-window');
      expect(await box.getAttribute('data-check')).to.equal(String(row));
      expect(await page.locator('.evidence-window').count()).to.equal(1);
      expect(await page.locator('#probe-0').getAttribute('class')).to.contain('evidence-target');
      expect(await page.locator(`#check-${row}`).getAttribute('class')).to.contain('check-active');
      // The x scale runs from the start of the run to its end (89 s); the evidence is 52 s .. 62 s.
      const [left, width, plot] = await box.evaluate((b) => [b.offsetLeft, b.offsetWidth, b.parentElement!.clientWidth]);
      expect(left / plot).to.be.closeTo(52 / 89, 0.01);
      expect(width / plot).to.be.closeTo(10 / 89, 0.01);
      const top = await chart.evaluate((c) => c.getBoundingClientRect().top);
      expect(top).to.be.within(0, 800);
      await page.screenshot({ path: join(ARTIFACTS, 'report-evidence.png') });

      const pdb = result!.checks.findIndex((c) => c.check === 'pdb(shop/web) holds');
      await page.click(`#check-${pdb} a.evidence-link`);
      expect(await page.locator('#probe-2-value .evidence-window').count()).to.equal(1);
      expect(await page.locator('#probe-0-latency .evidence-window').count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    });
  });

  it('opens at the evidence a link points to', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([readEvents(RICH_JOURNAL)], [new HtmlReporter()], dir);
      const row = result!.checks.findIndex((c) => c.check === 'availability(web) >= 99.5%');
      const page = await browser().newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${pathToFileURL(join(dir, result!.runId, 'report.html')).href}#evidence-${row}`);
      await page.waitForFunction("document.documentElement.dataset.ready === 'true'");
      expect(await page.locator('#probe-0-success .evidence-window').count()).to.equal(1);
    });
  });

  it('escapes what probes saw and embeds the data as JSON', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([readEvents(journalPath('failed-slo'))], [new HtmlReporter()], dir);
      const html = await readFile(join(dir, result!.runId, 'report.html'), 'utf8');
      expect(html).to.not.contain('\u001b');
      expect(html).to.contain('availability 94.2% &lt; 99.5%');
      const json = /<script type="application\/json" id="gameday-data">(.*?)<\/script>/s.exec(html)![1]!;
      const data = JSON.parse(json) as { timeline: { probes: { name: string; x: number[] }[]; faults: { id: string; from: number; to: number }[] } };
      expect(data.timeline.probes.map((p) => p.name)).to.deep.equal(['web']);
      expect(data.timeline.faults).to.deep.equal([{ id: 'f0', label: 'f0 nodeDrain: drain node worker-2 (evicting 3 pods)', from: 20, to: 61.1, reverted: true }]);
    });
  });

  it('writes index.html linking every run of a multi-experiment invocation', async () => {
    await withTempDir(async (dir) => {
      const results = await playEventRuns([readEvents(RICH_JOURNAL), readEvents(journalPath('passing'))], [new HtmlReporter()], dir);
      const index = await readFile(join(dir, 'index.html'), 'utf8');
      const links = [...index.matchAll(/href="([^"]+\/report\.html)"/g)].map((m) => m[1]!);
      expect(links).to.deep.equal(results.map((r) => `${r.runId}/report.html`));
      for (const link of links) expect(existsSync(join(dir, link)), link).to.equal(true);
      expect(index).to.contain('p99(web) &lt; 300ms over 10s');
      expect(index).to.contain('1 failed, 1 passed');
    });
  });

  it('holds the last value of a probe that reports only changes until the run ends', () => {
    const timeline = new TimelineBuilder();
    const results = new ResultBuilder();
    const events: RunEvent[] = [
      { type: 'run.start', t: 0, journalVersion: 1, runId: 'r', experiment: 'e', file: 'e.yaml', seed: 1, cluster: { kind: 'embedded', name: 'sim' }, durationMs: 60_000, gamedayVersion: '0' },
      { type: 'sample', t: 1000, probe: 'pdb(shop/web)', ok: true, value: 3, detail: { desiredHealthy: 2 } },
      { type: 'sample', t: 5000, probe: 'pdb(shop/web)', ok: true, value: 2, detail: { desiredHealthy: 2 } },
      { type: 'run.end', t: 60_000, outcome: 'passed', reason: '' },
    ];
    for (const e of events) {
      timeline.add(e);
      results.add(e);
    }
    const pdb = timeline.build(results.result()).probes[0]!;
    expect(pdb.charts).to.deep.equal(['value']);
    expect(pdb.x).to.deep.equal([1, 5, 60]);
    expect(pdb.value).to.deep.equal([3, 2, 2]);
    expect(pdb.floor).to.deep.equal([2, 2, 2]);
  });

  it('shows a dip and the recovery within one second, and holds the recovered value', () => {
    const timeline = new TimelineBuilder();
    const results = new ResultBuilder();
    const events: RunEvent[] = [
      { type: 'run.start', t: 0, journalVersion: 1, runId: 'r', experiment: 'e', file: 'e.yaml', seed: 1, cluster: { kind: 'embedded', name: 'sim' }, durationMs: 30_000, gamedayVersion: '0' },
      { type: 'sample', t: 1000, probe: 'ready(deployment/shop/web)', ok: true, value: 3 },
      { type: 'sample', t: 7060, probe: 'ready(deployment/shop/web)', ok: true, value: 2 },
      { type: 'sample', t: 7660, probe: 'ready(deployment/shop/web)', ok: true, value: 3 },
      { type: 'run.end', t: 30_000, outcome: 'passed', reason: '' },
    ];
    for (const e of events) {
      timeline.add(e);
      results.add(e);
    }
    const ready = timeline.build(results.result()).probes[0]!;
    expect(ready.x).to.deep.equal([1, 7, 7.5, 30]);
    expect(ready.value).to.deep.equal([3, 2, 3, 3]);
  });

  it('keeps the lowest and highest of each column when a long run is downsampled', () => {
    const start = 1_000_000;
    const events: RunEvent[] = [
      { type: 'run.start', t: start, journalVersion: 1, runId: 'long', experiment: 'long', file: 'x.yaml', seed: 1, cluster: { kind: 'embedded', name: 'sim' }, durationMs: 3_600_000, gamedayVersion: '0' },
    ];
    for (let s = 0; s < 3600; s++) {
      for (let k = 0; k < 4; k++) {
        const outage = s === 1800;
        events.push({ type: 'sample', t: start + s * 1000 + k * 250, probe: 'web', ok: !outage, latencyMs: s === 2500 && k === 0 ? 4000 : 10 });
      }
    }
    events.push({ type: 'run.end', t: start + 3_600_000, outcome: 'passed', reason: '' });
    const timeline = new TimelineBuilder({ maxColumns: 100 });
    const results = new ResultBuilder();
    for (const e of events) {
      timeline.add(e);
      results.add(e);
    }
    const data = timeline.build(results.result());
    const web = data.probes[0]!;
    expect(data.bucketS).to.equal(36);
    expect(web.x.length).to.equal(200);
    expect(Math.min(...web.success.map((v) => v ?? 100))).to.equal(0);
    expect(Math.max(...web.max.map((v) => v ?? 0))).to.equal(4000);
    expect(web.samples).to.equal(14_400);
  });
});
