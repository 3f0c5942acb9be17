import { join } from 'node:path';
import { expect } from 'chai';
import type { RunEvent } from '../../src/journal/events.js';
import { HtmlReporter } from '../../src/report/html.js';
import { withTempDir } from './fixture-journals.js';
import { openReport, playEventRuns, readEvents, RICH_JOURNAL, useChromium } from './html-fixture.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const DURATION_S = 30;

/** The replicas an HPA asked for as the load climbed: 2, then 4 at +8 s, 8 at +12 s, 12 at +16 s. */
const REPLICAS: readonly (readonly [number, number])[] = [[1, 2], [8, 4], [12, 8], [16, 12]];

/** The rate a load shape `[10/s for 5s, ramp 60/s over 10s, 60/s]` offers `s` seconds in. */
const offeredAt = (s: number): number => (s < 5 ? 10 : s < 15 ? 10 + 5 * (s - 5) : 60);

/**
 * A run of a load-shaped http probe beside a `replicas()` check, as the journal has it: each
 * request's sample carries the rate its shape offered (`detail.offeredRate`), and the replicas
 * probe samples each change of the workload's replicas.
 */
function autoscalingRun(): RunEvent[] {
  const events: RunEvent[] = [
    { type: 'run.start', t: T0, journalVersion: 1, runId: '20260101-000000-spike', experiment: 'traffic-spike-absorbed-by-hpa', file: 'experiments/autoscaling/spike.yaml', seed: 11, cluster: { kind: 'embedded', name: 'sim' }, durationMs: DURATION_S * 1000, gamedayVersion: '0.1.0' },
    { type: 'phase', t: T0, phase: 'faults' },
    { type: 'probe.start', t: T0, probe: 'web', kind: 'http' },
    { type: 'probe.start', t: T0, probe: 'replicas(deployment/shop/web)', kind: 'replicas' },
  ] as RunEvent[];
  for (let ms = 0; ms < DURATION_S * 1000; ms += 100) {
    events.push({ type: 'sample', t: T0 + ms, probe: 'web', ok: true, latencyMs: 5, detail: { status: 200, offeredRate: offeredAt(ms / 1000) } } as RunEvent);
  }
  for (const [s, n] of REPLICAS) events.push({ type: 'sample', t: T0 + s * 1000, probe: 'replicas(deployment/shop/web)', ok: true, value: n, detail: { wanted: n } } as RunEvent);
  events.sort((a, b) => a.t - b.t);
  const end = T0 + DURATION_S * 1000;
  events.push(
    { type: 'check', t: end, role: 'slo', check: 'replicas(deployment/shop/web) <= 16', verdict: 'passed', message: 'replicas(deployment/shop/web) = 12 (need <= 16)', value: 12, evidence: { from: T0, to: end, samples: 4 } } as RunEvent,
    { type: 'run.end', t: end, outcome: 'passed', reason: 'every SLO passed' } as RunEvent,
  );
  return events;
}

describe('report/html: the offered rate beside the replicas', function () {
  this.timeout(30_000);
  const browser = useChromium('the report tests');

  it('draws the load shape\'s offered rate and the replicas on one chart, aligned in time with the other charts, in Chromium', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([autoscalingRun()], [new HtmlReporter()], dir);
      const { page, problems } = await openReport(browser(), join(dir, result!.runId, 'report.html'), { width: 1280, height: 800 });
      expect(await page.locator('#scaling h3').textContent()).to.equal('Offered rate and replicas (load shape of web; replicas(deployment/shop/web))');
      expect(await page.locator('#scaling-chart .uplot canvas').count()).to.equal(1);
      // web: success and latency; the replicas probe: its value; and the scaling chart.
      expect(await page.getAttribute('html', 'data-charts')).to.equal('4');
      const legend = page.locator('#scaling-chart .u-legend');
      expect(await legend.textContent()).to.contain('offered rate').and.contain('replicas');

      // Point at +20 s on the scaling chart: the shape offered 60/s and the HPA had asked for 12.
      const over = page.locator('#scaling-chart .u-over');
      const box = (await over.boundingBox())!;
      const at = async (s: number): Promise<string[]> => {
        await page.mouse.move(box.x + (s / DURATION_S) * box.width, box.y + box.height / 2);
        return legend.locator('.u-value').allTextContents();
      };
      expect(await at(20)).to.deep.equal(['+0:20', '60/s', '12']);
      // During the ramp the second from +10 s offered 35/s rising to 40/s, 37.25/s on average,
      // while the replicas held at the 4 asked for at +8 s.
      expect(await at(10)).to.deep.equal(['+0:10', '37.25/s', '4']);
      // The same moment on the latency chart (cursors are synced): one time axis for all.
      expect(await page.locator('#probe-0-latency .u-legend .u-value').first().textContent()).to.equal('+0:10');
      expect(problems).to.deep.equal([]);
    });
  });

  it('draws no such chart for a run without a load shape', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([readEvents(RICH_JOURNAL)], [new HtmlReporter()], dir);
      const { page, problems } = await openReport(browser(), join(dir, result!.runId, 'report.html'), { width: 1280, height: 800 });
      expect(await page.locator('#scaling').count()).to.equal(0);
      expect(problems).to.deep.equal([]);
    });
  });
});
