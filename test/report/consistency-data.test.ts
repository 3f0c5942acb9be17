import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Sample } from '../../src/core/sample.js';
import type { RunEvent } from '../../src/journal/events.js';
import { HtmlReporter } from '../../src/report/html.js';
import { SummaryReporter } from '../../src/report/summary.js';
import { fixtureEvents, withTempDir } from './fixture-journals.js';
import { playEventRuns } from './html-fixture.js';

const key = (i: number): string => `orders-abc-${String(i).padStart(6, '0')}`;

/** A passing fixture run with a consistency probe beside its own: 10 writes, 8 acknowledged, 2 of them lost, one listed twice. */
function runWithOrders(): RunEvent[] {
  const events = fixtureEvents('passing');
  const t0 = events[0]!.t;
  const sample = (s: Omit<Sample, 'probe'>): RunEvent => ({ type: 'sample', probe: 'orders', ...s });
  const orders: RunEvent[] = [{ type: 'probe.start', t: t0 + 100, probe: 'orders', kind: 'consistency' }];
  for (let i = 0; i < 10; i++) {
    const t = t0 + 1000 + i * 500;
    const acked = i < 8;
    orders.push(sample({ t, ok: acked, ...(acked ? {} : { error: 'timeout' }), detail: { op: 'write', key: key(i) } }));
    if (!acked) continue;
    orders.push(sample({ t: t + 5, ok: i !== 2, ...(i === 2 ? { error: 'stale' } : {}), detail: { op: 'read', key: key(i) } }));
    orders.push(sample({ t, ok: true, value: 100 * (i + 1), detail: { op: 'lag', key: key(i) } }));
    orders.push(sample({ t, ok: i !== 3 && i !== 6, ...(i === 3 || i === 6 ? { error: 'lost' } : {}), detail: { op: 'verify', key: key(i) } }));
  }
  orders.push(sample({ t: t0 + 1000, ok: true, value: 1, detail: { op: 'list', records: 10 } }));
  orders.push(sample({ t: t0 + 1500, ok: false, error: 'duplicate', value: 2, detail: { op: 'list', key: key(1), copies: 2 } }));
  return [events[0]!, ...orders, ...events.slice(1)];
}

describe('report data section (consistency probes): report.html and summary.md', () => {
  it('shows writes acknowledged, verified, lost (naming the keys), duplicated, stale reads and lag, per probe, in report.html', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([runWithOrders()], [new HtmlReporter()], dir);
      const html = await readFile(join(dir, result!.runId, 'report.html'), 'utf8');
      const section = /<section id="data">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
      const cell = (label: string): string => new RegExp(`<td data-label="${label}"[^>]*>([\\s\\S]*?)</td>`).exec(section)?.[1] ?? '';
      expect(section).to.contain('<strong>orders</strong>');
      expect(cell('Writes')).to.equal('10');
      expect(cell('Acknowledged')).to.equal('8');
      expect(cell('Verified')).to.equal('6');
      expect(cell('Lost')).to.match(new RegExp(`^2<br>.*<code>${key(3)}</code> <code>${key(6)}</code>`));
      expect(cell('Duplicated')).to.match(new RegExp(`^1<br>.*<code>${key(1)}</code>`));
      expect(cell('Stale reads')).to.equal('1');
      // Lags 100..800 ms: nearest-rank p50 of 8 is the 4th.
      expect(cell('Lag')).to.match(/^p50 400 ms, p99 800 ms, max 800 ms/);
      expect(cell('Lag over time')).to.contain('<polyline');
    });
  });

  it('shows the same counts and the lost and duplicated keys in summary.md', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([runWithOrders()], [new SummaryReporter({ env: {} })], dir);
      const md = await readFile(join(dir, result!.runId, 'summary.md'), 'utf8');
      expect(md).to.contain('### Data');
      expect(md).to.contain('| orders | 10 | 8 | 6 | 2 | 1 | 1 | 400 / 800 / 800 ms |');
      expect(md).to.contain(`Records orders lost: \`${key(3)}\`, \`${key(6)}\`.`);
      expect(md).to.contain(`Records orders duplicated: \`${key(1)}\`.`);
    });
  });

  it('leaves the section out of a run without a consistency probe', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([fixtureEvents('passing')], [new HtmlReporter(), new SummaryReporter({ env: {} })], dir);
      expect(await readFile(join(dir, result!.runId, 'report.html'), 'utf8')).not.to.contain('<section id="data">');
      expect(await readFile(join(dir, result!.runId, 'summary.md'), 'utf8')).not.to.contain('### Data');
    });
  });

  /** The orders run as a drill: backup, disaster (which failed), back as steps, judged by rto and rpo. */
  function drillRun(): RunEvent[] {
    const events = runWithOrders();
    const t0 = events[0]!.t;
    const end = events.findIndex((e) => e.type === 'run.end');
    const step = (t: number, id: string, name: string, kind: string, phase: 'start' | 'done' | 'failed', message?: string): RunEvent => ({ type: 'step', t: t0 + t, step: id, name, kind, phase, ...(message ? { message } : {}) });
    const check = (text: string, verdict: 'passed' | 'failed' | 'no-data', value?: number): RunEvent => ({ type: 'check', t: t0 + 7000, role: 'slo', check: text, verdict, ...(value !== undefined ? { value } : {}), message: text });
    const drill: RunEvent[] = [
      step(1000, 's0', 'backup', 'exec', 'start'),
      step(1200, 's0', 'backup', 'exec', 'done', 'exit code 0 in shop/orders-db-0'),
      step(2000, 's1', 'disaster', 'delete', 'start'),
      step(3000, 's1', 'disaster', 'delete', 'failed', 'Namespace shop is still there after 1s'),
      step(3000, 's2', 'back', 'waitFor', 'start'),
      step(5500, 's2', 'back', 'waitFor', 'done'),
      check('rto(disaster, back) < 30s', 'passed', 3500),
      check('rpo(orders, disaster) < 5s', 'failed', 6200),
    ];
    return [...events.slice(0, end), ...drill, ...events.slice(end)];
  }

  it('shows RTO and RPO per drill (by its disaster step) in the data section, and the drill steps as rows on report.html\'s timeline', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([drillRun()], [new HtmlReporter()], dir);
      const html = await readFile(join(dir, result!.runId, 'report.html'), 'utf8');
      const drills = /<h3 id="drills">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
      expect(drills).to.match(/<td><strong>disaster<\/strong><\/td><td data-label="RTO">3\.5s <span class="badge v-passed">passed<\/span>/);
      expect(drills).to.match(/<td data-label="RPO">6\.2s <span class="badge v-failed">failed<\/span><br><span class="muted">data lost: <code>rpo\(orders, disaster\) &lt; 5s<\/code>/);
      const lane = /<div class="lane step-lane"[\s\S]*?<\/div><\/div>/.exec(html)?.[0] ?? '';
      const spans = [...lane.matchAll(/<div class="step-span (step-\w+)" data-step="(s\d)" style="left:([\d.]+)%;width:max\(2px, ([\d.]+)%\);top:(\d+)px" title="([^"]*)">(\w+)<\/div>/g)];
      expect(spans.map((m) => [m[1], m[2], m[7], m[5]])).to.deep.equal([
        ['step-done', 's0', 'backup', '0'],
        ['step-failed', 's1', 'disaster', '17'],
        ['step-done', 's2', 'back', '34'],
      ]);
      expect(spans[1]![6]).to.contain('disaster (delete) +00:02.0 .. +00:03.0: failed: Namespace shop is still there after 1s');
      // The backup ran for 0.2 s and the waitFor for 2.5 s: widths on the run's time scale.
      expect(Number(spans[2]![4]) / Number(spans[0]![4])).to.be.closeTo(12.5, 0.5);
    });
  });

  it('lists RTO and RPO per drill in summary.md', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([drillRun()], [new SummaryReporter({ env: {} })], dir);
      const md = await readFile(join(dir, result!.runId, 'summary.md'), 'utf8');
      expect(md).to.contain('### Drills');
      expect(md).to.contain('| disaster | 3.5s (passed: `rto(disaster, back) < 30s`) | 6.2s (**failed**: `rpo(orders, disaster) < 5s`) |');
    });
  });
});
