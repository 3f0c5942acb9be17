import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { runCommand } from '../../src/cli/commands/run.js';
import { applyWorkloads } from '../../src/cluster/workloads.js';
import { Duration } from '../../src/core/duration.js';
import { startCli } from '../cli/cli-process.js';
import { eventually } from '../support/eventually.js';

/**
 * Soak (issue 12): one long game day in this process, against a `gameday sim serve` child (so the
 * figures are gameday's own, not the embedded cluster's), with the http probe at a high rate, the
 * watch-based pdb and readiness probes, and faults repeating for the whole run: every minute an
 * experiment kills a web pod and drains a worker (the three zones in turn). Every few seconds it samples this
 * process's RSS, heap (after a full GC), active handles by type and open file descriptors.
 * The growth of each over the last two thirds of the run (the last 20 minutes of the default 30)
 * must stay under 10%: the median of the window's first tenth against the median of its last tenth.
 * Writes reports/bench/soak.json.
 * Run: npx tsx --expose-gc test/bench/soak-bench.ts [duration, default 30m] [http rate per second, default 200] [sample every, default 5s]
 */
const DURATION = Duration.parse(process.argv[2] ?? '30m');
const RATE = Number(process.argv[3] ?? 200);
const EVERY = Duration.parse(process.argv[4] ?? '5s');
const CYCLE_MS = 60_000;
const LIMIT_PERCENT = 10;
const WEB = path.resolve('experiments/workloads/web.yaml');

/**
 * The game day as experiments run back to back by one `gameday run` (one process, one lock, one
 * cluster): a plan picks concrete pods once, so one long experiment cannot kill a fresh pod every
 * cycle; each experiment of CYCLE_MS probes for its whole length, kills a web pod, and drains a
 * worker for 10 s (the three zones in turn). The web workload is applied once, before the first.
 */
function soakExperiments(durationMs: number): Record<string, string> {
  const files: Record<string, string> = {};
  const zones = ['a', 'b', 'c'];
  for (let i = 0; i * CYCLE_MS < durationMs; i++) {
    const faults = [
      { at: '5s', podKill: { pods: { namespace: 'shop', labels: { app: 'web' } }, count: 1 } },
      { at: '20s', for: '10s', nodeDrain: { nodes: { labels: { 'topology.kubernetes.io/zone': zones[i % 3] } }, count: 1, timeout: '1m' } },
    ];
    files[`soak-${String(i).padStart(3, '0')}.yaml`] = stringify({
      apiVersion: 'gameday/v1',
      kind: 'Experiment',
      metadata: { name: `soak-${i}`, description: `cycle ${i} of the soak: a pod kill and a drain, http at ${RATE}/s` },
      spec: {
        duration: `${CYCLE_MS}ms`,
        // A pod kill and a drain can take two of web's three pods.
        blastRadius: { maxPodPercent: 100 },
        steadyState: { checks: ['ready(deployment/shop/web) >= 3'], recoverWithin: '60s' },
        probes: { web: { http: { service: 'shop/web:80', path: '/', rate: `${RATE}/s`, timeout: '1s' } } },
        faults,
        slos: ['availability(web) >= 99%', 'pdb(shop/web) holds', 'readiness(shop/web) holds'],
      },
    });
  }
  return files;
}

interface Sample {
  readonly t: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  readonly handles: number;
  readonly handlesByType: Record<string, number>;
  readonly fds: number;
}

const round = (x: number): number => Math.round(x * 10) / 10;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sample(t0: number): Sample {
  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  const handlesByType: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) handlesByType[type] = (handlesByType[type] ?? 0) + 1;
  return {
    t: Math.round((Date.now() - t0) / 1000),
    rssMiB: round(mem.rss / 2 ** 20),
    heapUsedMiB: round(mem.heapUsed / 2 ** 20),
    handles: Object.values(handlesByType).reduce((a, b) => a + b, 0),
    handlesByType,
    fds: readdirSync('/proc/self/fd').length,
  };
}

/** Growth over the last two thirds of the series: the median of its first tenth against the median of its last tenth. */
function growth(series: readonly Sample[], key: 'rssMiB' | 'heapUsedMiB' | 'handles' | 'fds'): { from: number; to: number; percent: number } {
  const window = series.slice(Math.floor(series.length / 3));
  const tenth = Math.max(3, Math.floor(window.length / 10));
  const from = median(window.slice(0, tenth).map((s) => s[key]));
  const to = median(window.slice(-tenth).map((s) => s[key]));
  return { from, to, percent: round(from === 0 ? 0 : ((to - from) / from) * 100) };
}

const dir = await mkdtemp(path.join(tmpdir(), 'gameday-soak-'));
const kubeconfig = path.join(dir, 'kubeconfig.yaml');
const sim = startCli(['sim', 'serve', '--nodes', '3', '--kubeconfig', kubeconfig]);
const series: Sample[] = [];
let exitCode: number | undefined;
let simExit: number | null = null;
const t0 = Date.now();
try {
  await eventually('gameday sim serve to start', () => sim.output().stdout.includes('Press Ctrl-C'), 30_000);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  await applyWorkloads(kubeConfig, [WEB], { signal: new AbortController().signal });
  const experiments = path.join(dir, 'experiments');
  await mkdir(experiments);
  for (const [name, text] of Object.entries(soakExperiments(DURATION.ms))) await writeFile(path.join(experiments, name), text);
  const timer = setInterval(() => series.push(sample(t0)), EVERY.ms);
  series.push(sample(t0));
  try {
    exitCode = await runCommand([experiments], { out: path.join(dir, 'reports'), kubeconfig, context: 'gameday-sim', seed: '1' });
  } finally {
    clearInterval(timer);
  }
} finally {
  sim.child.kill('SIGINT');
  simExit = (await sim.done).code;
}

const growths = { rss: growth(series, 'rssMiB'), heapUsed: growth(series, 'heapUsedMiB'), handles: growth(series, 'handles'), fds: growth(series, 'fds') };
const within = Object.values(growths).every((g) => g.percent < LIMIT_PERCENT);
const report = {
  benchmark: 'soak',
  node: process.version,
  durationMs: DURATION.ms,
  httpRatePerSecond: RATE,
  sampleEveryMs: EVERY.ms,
  gcBeforeEachSample: typeof (globalThis as { gc?: unknown }).gc === 'function',
  runExitCode: exitCode,
  simServeExit: simExit,
  growthWindow: 'the last two thirds of the run: median of its first tenth → median of its last tenth',
  limitPercent: LIMIT_PERCENT,
  growth: growths,
  withinLimit: within,
  series,
};
await mkdir('reports/bench', { recursive: true });
await writeFile('reports/bench/soak.json', `${JSON.stringify(report, null, 2)}\n`);
console.log(`soak: ${DURATION.toString()} game day exited ${exitCode}; growth over the last two thirds: ${Object.entries(growths).map(([k, g]) => `${k} ${g.from} → ${g.to} (${g.percent}%)`).join(', ')}; ${within ? 'within' : 'OVER'} ${LIMIT_PERCENT}%`);
console.log('wrote reports/bench/soak.json');
await rm(dir, { recursive: true, force: true });
// Passed or failed SLOs both make a soak; invalid, inconclusive or a harness error do not.
process.exit(within && (exitCode === 0 || exitCode === 1) ? 0 : 1);
