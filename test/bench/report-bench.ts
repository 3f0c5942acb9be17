import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { reportCommand } from '../../src/cli/commands/report.js';
import type { RunEvent } from '../../src/journal/events.js';
import { renderPdf } from '../../src/report/pdf.js';

/**
 * Report generation at scale: synthesize the journal of a 42-minute run with 1,000,000 probe
 * samples (four HTTP probes at 100/s, a budget probe at 1/s, eight fault windows with failures and
 * latency spikes, warnings, checks), then time `gameday report` over it (json, junit, summary,
 * html) and the PDF, with the process's peak RSS. Writes reports/bench/report.json.
 * Run: npx tsx test/bench/report-bench.ts [samples]   (default 1000000)
 */
const SAMPLES = Number(process.argv[2] ?? 1_000_000);
const HTTP_PROBES = ['web', 'api', 'checkout', 'search'];
const RATE = 100;
const START = Date.UTC(2026, 0, 5, 3, 0, 0);

async function synthesize(file: string): Promise<{ events: number; bytes: number; durationS: number }> {
  const out = createWriteStream(file);
  const durationS = Math.ceil(SAMPLES / (HTTP_PROBES.length * RATE));
  let seed = 42;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let buffer: string[] = [];
  let events = 0;
  const emit = async (e: RunEvent): Promise<void> => {
    buffer.push(JSON.stringify(e));
    events++;
    if (buffer.length >= 5000) await flush();
  };
  const flush = async (): Promise<void> => {
    if (!out.write(`${buffer.join('\n')}\n`)) await once(out, 'drain');
    buffer = [];
  };
  const faultAt = (s: number): number | undefined => {
    const k = Math.floor(s / 300);
    return s % 300 >= 120 && s % 300 < 180 && k < 8 ? k : undefined;
  };
  await emit({ type: 'run.start', t: START, journalVersion: 1, runId: 'bench-1m', experiment: 'bench-drain-every-5m', file: 'experiments/bench.yaml', seed: 1, cluster: { kind: 'embedded', name: 'gameday-sim' }, durationMs: durationS * 1000, gamedayVersion: '0.1.0' });
  await emit({ type: 'phase', t: START, phase: 'faults' });
  for (const probe of HTTP_PROBES) await emit({ type: 'probe.start', t: START, probe, kind: 'http' });
  await emit({ type: 'probe.start', t: START, probe: 'pdb(shop/web)', kind: 'pdb' });
  let samples = 0;
  for (let s = 0; s < durationS && samples < SAMPLES; s++) {
    const fault = faultAt(s);
    const t0 = START + s * 1000;
    if (s % 300 === 120 && fault !== undefined) {
      await emit({ type: 'fault', t: t0, step: 'inject', fault: `f${fault}`, kind: 'nodeDrain', targets: { nodes: [`worker-${fault % 3}`] } });
      await emit({ type: 'fault', t: t0 + 150, step: 'injected', fault: `f${fault}`, kind: 'nodeDrain' });
      await emit({ type: 'log', t: t0 + 900, level: 'warn', message: `node worker-${fault % 3} condition Ready=False` });
    }
    if (s % 300 === 180 && faultAt(s - 1) !== undefined) {
      const f = faultAt(s - 1)!;
      await emit({ type: 'fault', t: t0, step: 'revert', fault: `f${f}`, kind: 'nodeDrain' });
      await emit({ type: 'fault', t: t0 + 200, step: 'reverted', fault: `f${f}`, kind: 'nodeDrain' });
    }
    for (let i = 0; i < RATE && samples < SAMPLES; i++) {
      for (const probe of HTTP_PROBES) {
        const bad = fault !== undefined && random() < 0.03;
        const latencyMs = Math.round((8 + random() * 20 + (fault !== undefined ? random() * 300 : 0) + (random() < 0.001 ? 900 : 0)) * 10) / 10;
        await emit(bad
          ? { type: 'sample', t: t0 + i * 10 + (latencyMs % 3), probe, ok: false, latencyMs: 1000, error: 'timeout' }
          : { type: 'sample', t: t0 + i * 10 + (latencyMs % 3), probe, ok: true, latencyMs, detail: { status: 200 } });
        samples++;
      }
    }
    const ready = fault !== undefined && s % 300 < 150 ? 2 : 3;
    await emit({ type: 'sample', t: t0 + 500, probe: 'pdb(shop/web)', ok: ready >= 2, value: ready, detail: { desiredHealthy: 2 } });
  }
  const end = START + durationS * 1000;
  await emit({ type: 'check', t: end, role: 'slo', check: 'availability(web) >= 99.5%', verdict: 'failed', value: 99.4, message: 'availability 99.4% < 99.5%', evidence: { from: START, to: end, samples: SAMPLES / 4, firstViolationAt: START + 121_000 } });
  await emit({ type: 'check', t: end, role: 'slo', check: 'p99(api) < 500ms', verdict: 'passed', value: 310, message: 'p99 310ms', evidence: { from: START, to: end, samples: SAMPLES / 4 } });
  await emit({ type: 'check', t: end, role: 'slo', check: 'pdb(shop/web) holds', verdict: 'passed', value: 1, message: 'ready pods stayed at or above 2', evidence: { from: START, to: end, samples: durationS } });
  await emit({ type: 'run.end', t: end + 1000, outcome: 'failed', reason: '1 SLO failed' });
  await flush();
  out.end();
  await once(out, 'finish');
  return { events, bytes: (await stat(file)).size, durationS };
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
const dir = await mkdtemp(path.join(tmpdir(), 'gameday-report-bench-'));
try {
  const runDir = path.join(dir, 'bench-1m');
  await mkdir(runDir);
  const journal = path.join(runDir, 'journal.ndjson');
  const t0 = performance.now();
  const synthesized = await synthesize(journal);
  const synthesizeMs = Math.round(performance.now() - t0);
  global.gc?.();
  const rssBeforeMiB = mib(process.memoryUsage().rss);
  const t1 = performance.now();
  await reportCommand(runDir, {});
  const reportMs = Math.round(performance.now() - t1);
  const peakRssMiB = mib(process.resourceUsage().maxRSS * 1024);
  const htmlBytes = (await stat(path.join(runDir, 'report.html'))).size;
  const t2 = performance.now();
  await renderPdf(path.join(runDir, 'report.html'), path.join(runDir, 'report.pdf'));
  const pdfMs = Math.round(performance.now() - t2);
  const result = {
    samples: SAMPLES,
    journalEvents: synthesized.events,
    journalMiB: mib(synthesized.bytes),
    runSeconds: synthesized.durationS,
    synthesizeMs,
    reportMs,
    samplesPerSecond: Math.round(SAMPLES / (reportMs / 1000)),
    rssBeforeReportMiB: rssBeforeMiB,
    peakRssMiB,
    reportHtmlKiB: Math.round(htmlBytes / 1024),
    pdfMs,
    pdfKiB: Math.round((await stat(path.join(runDir, 'report.pdf'))).size / 1024),
    reporters: 'json, junit, summary, html',
    node: process.version,
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir('reports/bench', { recursive: true });
  await writeFile('reports/bench/report.json', JSON.stringify(result, null, 2) + '\n');
} finally {
  await rm(dir, { recursive: true, force: true });
}
