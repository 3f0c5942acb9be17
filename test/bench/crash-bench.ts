import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SeededRandom } from '../../src/core/rng.js';
import { CLI } from '../cli/cli-process.js';
import { calibrate, crashCases, killAndRecover, planKill, startMatrixCluster, type Kill, type PhaseWindows } from '../support/crash-matrix.js';

/**
 * The crash matrix as a benchmark (issue 12): `gameday run` (the built CLI) SIGKILLed at a seeded
 * random moment of inject, hold or revert, across every fault kind, each kill followed by
 * `gameday recover` and a comparison of the cluster (a `gameday sim serve` child) with its state
 * before the run. First, one whole run per kind measures how long its phases last, and the delay
 * of each kill is drawn within the phase it aims at. Writes reports/bench/crash.json.
 * Run: npm run build && npx tsx test/bench/crash-bench.ts [kills, default 60] [seed, default 1] [hold ms, default 1500]
 */
const KILLS = Number(process.argv[2] ?? 60);
const SEED = Number(process.argv[3] ?? 1);
const HOLD_MS = Number(process.argv[4] ?? 1500);

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(2);
}
const dir = await mkdtemp(path.join(tmpdir(), 'gameday-crash-bench-'));
const started = Date.now();
const cluster = await startMatrixCluster(dir);
const kills: Kill[] = [];
const windows = new Map<string, PhaseWindows>();
const harnessErrors: string[] = [];
let simExit: number | null = null;
try {
  const cases = crashCases();
  for (const c of cases) {
    const w = await calibrate({ case: c, cluster, dir, holdMs: HOLD_MS });
    windows.set(c.name, w);
    console.log(`calibrated ${c.name.padEnd(22)} inject ${w.inject} ms, hold ${w.hold} ms, revert ${w.revert} ms`);
  }
  const rng = new SeededRandom(SEED);
  for (let i = 0; i < KILLS; i++) {
    const { case: c, phase } = planKill(cases, i);
    const t0 = Date.now();
    let kill: Kill;
    try {
      kill = await killAndRecover({ index: i, case: c, phase, cluster, dir, rng, holdMs: HOLD_MS, windows: windows.get(c.name)! });
    } catch (err) {
      // The bench itself failed (a snapshot it could not take): say so, keep the figures of the other kills.
      harnessErrors.push(`kill ${i} (${c.name}, ${phase}): ${err instanceof Error ? err.message : String(err)}`);
      console.log(`${String(i).padStart(3)} ${c.name.padEnd(22)} ${phase.padEnd(6)} BENCH ERROR ${harnessErrors.at(-1)}`);
      continue;
    }
    kills.push(kill);
    const verdict = kill.leftovers.length === 0 && kill.recoverExit === 0 && kill.unhandled.length === 0 ? 'clean' : `LEFT ${kill.leftovers.join('; ')} (recover exit ${kill.recoverExit}) ${kill.unhandled.join('; ')}`;
    console.log(`${String(i).padStart(3)} ${c.name.padEnd(22)} ${phase.padEnd(6)} +${String(kill.delayMs).padStart(5)} ms → killed in ${kill.killedIn.padEnd(12)} ${verdict} (${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(kill.ms)})`);
  }
} finally {
  simExit = await cluster.stop();
}

const clean = kills.filter((k) => k.leftovers.length === 0 && k.recoverExit === 0 && k.unhandled.length === 0);
const tally = <K extends string>(key: (k: Kill) => K): Record<K, number> => {
  const out = {} as Record<K, number>;
  for (const k of kills) out[key(k)] = (out[key(k)] ?? 0) + 1;
  return out;
};
const report = {
  benchmark: 'crash',
  seed: SEED,
  holdMs: HOLD_MS,
  node: process.version,
  wallSeconds: Math.round((Date.now() - started) / 1000),
  simServeExit: simExit,
  windowsMs: Object.fromEntries(windows),
  totals: {
    kills: kills.length,
    cleanRecoveries: clean.length,
    recoverFailures: kills.filter((k) => k.recoverExit !== 0).length,
    notKilled: kills.filter((k) => k.killedIn === 'not-killed').length,
    unhandled: kills.flatMap((k) => k.unhandled.map((l) => `kill ${k.index} (${k.case}): ${l}`)),
    byKind: tally((k) => k.kind),
    byAimedPhase: tally((k) => k.phase),
    byPhaseKilledIn: tally((k) => k.killedIn),
    harnessErrors,
    leftovers: kills.flatMap((k) => k.leftovers.map((l) => `kill ${k.index} (${k.case}, ${k.killedIn}): ${l}`)),
  },
  kills: kills.map(({ recoverOutput, runDir: _, ...k }) => ({ ...k, recover: recoverOutput.split('\n').slice(-3).join('\n') })),
};
await mkdir('reports/bench', { recursive: true });
await writeFile('reports/bench/crash.json', `${JSON.stringify(report, null, 2)}\n`);
console.log(`${kills.length} kills, ${clean.length} clean recoveries, ${report.totals.leftovers.length} leftovers; wrote reports/bench/crash.json`);
if (clean.length === kills.length && harnessErrors.length === 0 && simExit === 0) await rm(dir, { recursive: true, force: true });
else console.log(`kept ${dir} (run directories of the kills)`);
process.exit(clean.length === kills.length && harnessErrors.length === 0 ? 0 : 1);
