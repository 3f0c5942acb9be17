import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { applyWorkloads } from '../../src/cluster/workloads.js';
import { SeededRandom } from '../../src/core/rng.js';
import { registerBuiltinFaults } from '../../src/faults/builtin.js';
import { createFaultRegistry } from '../../src/faults/registry.js';
import { runCli, startCli, type RunningCli } from '../cli/cli-process.js';
import { eventually } from './eventually.js';
import { leftoversBetween, snapshotCluster, type ClusterSnapshot, type SnapshotOptions } from './cluster-leftovers.js';

/**
 * The crash matrix (issue 12): `gameday run`, the built CLI as a real child process, SIGKILLed at
 * a seeded random moment of a chosen phase of one fault, then `gameday recover`, then the cluster
 * compared with its snapshot from before the run. The cluster is a `gameday sim serve` child, so
 * it outlives the killed run as a real cluster would. Shared by test/cli/crash-matrix.test.ts (20
 * kills) and test/bench/crash-bench.ts (as many as asked).
 */

export const PHASES = ['inject', 'hold', 'revert'] as const;
export type Phase = (typeof PHASES)[number];

/** Where the journal shows the fault when the process died: a step was journaled before it acted, so this is exact. */
export type KilledIn = 'before-inject' | Phase | 'after-revert';

/** One fault kind as the crash matrix runs it: a fault entry of a shipped experiment, with its timing made short. */
export interface CrashCase {
  /** The kind, or kind/form for a kind with two forms (`networkPartition/pods`). */
  readonly name: string;
  readonly kind: string;
  /** The shipped experiment the fault comes from, relative to the repository. */
  readonly source: string;
  /** The fault's parameters, under its kind key. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly blastRadius?: unknown;
  /** What was changed from the shipped fault, and why. */
  readonly adapted?: string;
}

/** How long each phase lasts for a case, in ms: the delay before a kill is drawn within it. */
export type PhaseWindows = Readonly<Record<Phase, number>>;

/** The workloads every case targets, applied once before the first kill (their faults pick from them). */
export const MATRIX_WORKLOADS = ['experiments/workloads/web-cache.yaml', 'experiments/workloads/db.yaml'];

/** Where a pod disk fill writes (web-cache.yaml's emptyDir): its files are part of the snapshot. */
export const MATRIX_SNAPSHOT: SnapshotOptions = { volumes: [{ namespace: 'shop', labels: 'app=web', path: '/var/cache/web' }] };

/**
 * The shipped experiments' faults fitted to MATRIX_WORKLOADS. The zone-partition experiment cuts
 * off the pods labelled zone=a of web-zonal.yaml, whose per-zone Deployments would leave a drain
 * blocked by the web budget; here it cuts off one pod of web. The drain may evict web-cache's pods
 * (their emptyDir is what diskFill fills). Node stops do not wait for the node lifecycle
 * controller (50 s): a crash test needs the stop, not Kubernetes noticing it.
 */
const ADAPTATIONS: Readonly<Record<string, { readonly why: string; readonly params: (p: Record<string, unknown>) => Record<string, unknown> }>> = {
  'networkPartition/pods': { why: 'one pod of shop/web (labels app=web, count 1) instead of the zone=a pod of web-zonal.yaml', params: (p) => ({ ...p, pods: { namespace: 'shop', labels: { app: 'web' } }, count: 1 }) },
  nodeDrain: { why: "deleteEmptyDirData: web-cache.yaml's pods have an emptyDir (the volume diskFill fills)", params: (p) => ({ ...p, deleteEmptyDirData: true }) },
  nodeStop: { why: 'notReadyWithin dropped: not waiting 50 s for the node lifecycle controller', params: ({ notReadyWithin: _, ...p }) => p },
  zoneOutage: { why: 'notReadyWithin dropped: not waiting 50 s for the node lifecycle controller', params: ({ notReadyWithin: _, ...p }) => p },
};

/**
 * One case per fault kind gameday ships (both forms of networkPartition), each taken from the
 * first shipped experiment that has that kind. A kind no shipped experiment uses is an error, so
 * a new kind cannot slip past the matrix.
 */
export function crashCases(repo = process.cwd()): CrashCase[] {
  const registry = createFaultRegistry();
  registerBuiltinFaults(registry);
  const dir = path.join(repo, 'experiments');
  const found = new Map<string, CrashCase>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const doc = parse(readFileSync(path.join(dir, file), 'utf8')) as { kind?: string; spec?: { faults?: Record<string, unknown>[]; blastRadius?: unknown } };
    if (doc?.kind !== 'Experiment') continue;
    for (const fault of doc.spec?.faults ?? []) {
      const kind = Object.keys(fault).find((k) => registry.get(k));
      if (!kind) continue;
      const shipped = fault[kind] as Record<string, unknown>;
      const name = kind === 'networkPartition' ? `${kind}/${'pods' in shipped ? 'pods' : 'nodes'}` : kind;
      if (found.has(name)) continue;
      const adaptation = ADAPTATIONS[name];
      found.set(name, {
        name,
        kind,
        source: `experiments/${file}`,
        params: adaptation ? adaptation.params(shipped) : shipped,
        ...(doc.spec?.blastRadius !== undefined ? { blastRadius: doc.spec.blastRadius } : {}),
        ...(adaptation ? { adapted: adaptation.why } : {}),
      });
    }
  }
  const missing = registry.all().map((p) => p.kind).filter((k) => ![...found.values()].some((c) => c.kind === k));
  if (missing.length > 0) throw new Error(`no shipped experiment in ${dir} has a fault of kind ${missing.join(', ')}: the crash matrix needs one per kind`);
  return [...found.values()];
}

/**
 * The experiment for one kill: the case's fault alone, at 0s, with no probes and no steady state,
 * so a run is seconds long. `for` counts from `at`, so a fault whose inject takes a while (a
 * drain, a pod kill waiting for its pod to go) gets that time on top of `holdMs` of hold.
 */
export function crashExperiment(c: CrashCase, holdMs: number, injectMs = 0): string {
  const forMs = injectMs + holdMs;
  const fault = { at: '0s', for: `${forMs}ms`, [c.kind]: c.params };
  // The run outlives the revert by 3 s: a kill aimed at the revert must not find the process gone (a killed run never waits them out).
  const spec = { duration: `${forMs + 3000}ms`, ...(c.blastRadius !== undefined ? { blastRadius: c.blastRadius } : {}), faults: [fault] };
  return stringify({ apiVersion: 'gameday/v1', kind: 'Experiment', metadata: { name: `crash-${c.name.replace('/', '-').toLowerCase()}`, description: `from ${c.source}` }, spec });
}

export interface SimServe {
  readonly kubeconfig: string;
  readonly kubeConfig: KubeConfig;
  stop(): Promise<number | null>;
}

/** `gameday sim serve` as a child process (three workers in zones a, b, c), with MATRIX_WORKLOADS applied and ready. */
export async function startMatrixCluster(dir: string): Promise<SimServe> {
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const sim: RunningCli = startCli(['sim', 'serve', '--nodes', '3', '--kubeconfig', kubeconfig]);
  const stop = async (): Promise<number | null> => {
    sim.child.kill('SIGINT');
    return (await sim.done).code;
  };
  try {
    await eventually('gameday sim serve to start', () => sim.output().stdout.includes('Press Ctrl-C') || sim.child.exitCode !== null, 30_000);
    if (sim.child.exitCode !== null) throw new Error(`gameday sim serve exited ${sim.child.exitCode}: ${sim.output().stderr}`);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    await applyWorkloads(kubeConfig, MATRIX_WORKLOADS, { signal: new AbortController().signal, timeoutMs: 60_000 });
    return { kubeconfig, kubeConfig, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Kill {
  readonly index: number;
  readonly case: string;
  readonly kind: string;
  /** The phase the kill was aimed at. */
  readonly phase: Phase;
  /** How long after that phase began (as the run printed it, or as its schedule says for a revert) the SIGKILL was sent, in ms. */
  readonly delayMs: number;
  /** Where the journal shows the fault at the moment of death (a short phase may be over before the delay). */
  readonly killedIn: KilledIn | 'not-killed';
  readonly runSeed: number;
  readonly recoverExit: number | null;
  readonly recoverOutput: string;
  /** Lines of the run's or recover's output that tell of an unhandled rejection or an uncaught exception. */
  readonly unhandled: readonly string[];
  /** Every difference from the snapshot before the run that outlasted recover; empty is a clean recovery. */
  readonly leftovers: readonly string[];
  readonly runDir: string;
  /** Where the time of this kill went: waiting for the workloads, the snapshot, the run until its death, recover, the comparison. */
  readonly ms: Readonly<Record<'ready' | 'snapshot' | 'run' | 'recover' | 'compare', number>>;
}

export interface KillOptions {
  readonly index: number;
  readonly case: CrashCase;
  readonly phase: Phase;
  readonly cluster: SimServe;
  readonly dir: string;
  readonly rng: SeededRandom;
  readonly holdMs: number;
  readonly windows: PhaseWindows;
}

/**
 * When each phase begins, from the run's terminal lines (`+00:00.0 fault f0 nodeCordon verified: …`):
 * inject with its `inject` line, hold with `verified`. A revert begins when `for` runs out, counted
 * from `at` (0s, the `inject` line): waiting for the `revert` line would leave too little of a
 * revert of a few milliseconds to aim at.
 */
function phaseStart(phase: Phase, forMs: number): { readonly line: RegExp; readonly offsetMs: number } {
  if (phase === 'hold') return { line: /^\+\S+ fault f0 \S+ verified\b/m, offsetMs: 0 };
  return { line: /^\+\S+ fault f0 \S+ inject\b/m, offsetMs: phase === 'revert' ? forMs : 0 };
}

/** One kill: snapshot, run, SIGKILL at the drawn moment, recover, snapshot again, compare. */
export async function killAndRecover(o: KillOptions): Promise<Kill> {
  const home = path.join(o.dir, `kill-${String(o.index).padStart(3, '0')}-${o.case.name.replace('/', '-')}`);
  await mkdir(home, { recursive: true });
  const file = path.join(home, 'experiment.yaml');
  await writeFile(file, crashExperiment(o.case, o.holdMs, o.windows.inject));
  const out = path.join(home, 'reports');
  const runSeed = Math.floor(o.rng.next() * 2 ** 31);
  const delayMs = Math.round(o.rng.next() * o.windows[o.phase]);

  const clock = stopwatch();
  await workloadsReady(o.cluster.kubeConfig);
  const ready = clock();
  const before = await snapshotCluster(o.cluster.kubeConfig, MATRIX_SNAPSHOT);
  const snapshot = clock();
  const run = startCli(runArgs(file, out, o.cluster, runSeed));
  const start = phaseStart(o.phase, o.windows.inject + o.holdMs);
  const killed = await killWhen(run, start.line, start.offsetMs + delayMs);
  const runOutput = run.output();
  const runDir = path.join(out, readdirSync(out)[0] ?? '');
  const killedIn = killed ? await phaseInJournal(path.join(runDir, 'journal.ndjson')) : 'not-killed';
  const ran = clock();
  const recovered = await runCli(['recover', '--out', out]);
  const recover = clock();
  const leftovers = await leftoversAfter(o.cluster.kubeConfig, before);
  return {
    index: o.index,
    case: o.case.name,
    kind: o.case.kind,
    phase: o.phase,
    delayMs,
    killedIn,
    runSeed,
    recoverExit: recovered.code,
    recoverOutput: (recovered.stdout + recovered.stderr).trim(),
    unhandled: [runOutput.stdout, runOutput.stderr, recovered.stdout, recovered.stderr].join('\n').split('\n').filter((l) => /unhandled|uncaught/i.test(l)),
    leftovers,
    runDir,
    ms: { ready, snapshot, run: ran, recover, compare: clock() },
  };
}

/** Milliseconds since the last call (or since it was made). */
function stopwatch(): () => number {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const ms = Math.round(now - last);
    last = now;
    return ms;
  };
}

/**
 * `gameday run` on the served cluster. A killed run's lock outlives it by its lease: a short one
 * (safe here, where no other run waits to take it over), and waiting for it, keep the kills back to back.
 */
function runArgs(file: string, out: string, cluster: SimServe, seed: number): string[] {
  return ['run', file, '--kubeconfig', cluster.kubeconfig, '--context', 'gameday-sim', '--out', out, '--seed', String(seed), '--lock-lease', '1s', '--wait-lock', '--reporter', 'terminal'];
}

/**
 * SIGKILLs the run `delayMs` after the line that starts the phase; false when the run ended first.
 * A run that never prints the line (a failed inject) is killed when it ends its faults phase, or after 90 s.
 */
async function killWhen(run: RunningCli, start: RegExp, delayMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const killNow = (): void => void run.child.kill('SIGKILL');
  const onData = (): void => {
    if (timer || !start.test(run.output().stdout)) return;
    timer = setTimeout(killNow, delayMs);
  };
  run.child.stdout!.on('data', onData);
  const guard = setTimeout(killNow, 90_000);
  const result = await run.done;
  clearTimeout(timer);
  clearTimeout(guard);
  return result.signal === 'SIGKILL';
}

/**
 * How long each phase of the case lasts: one whole run, timed from its journal (inject to
 * verified, verified to revert, revert to reverted). It must pass and leave nothing behind, or
 * the kills of that case would prove nothing.
 */
export async function calibrate(o: Pick<KillOptions, 'case' | 'cluster' | 'dir' | 'holdMs'>): Promise<PhaseWindows> {
  const home = path.join(o.dir, `calibrate-${o.case.name.replace('/', '-')}`);
  await mkdir(home, { recursive: true });
  const file = path.join(home, 'experiment.yaml');
  await writeFile(file, crashExperiment(o.case, o.holdMs));
  const out = path.join(home, 'reports');
  await workloadsReady(o.cluster.kubeConfig);
  const before = await snapshotCluster(o.cluster.kubeConfig, MATRIX_SNAPSHOT);
  const run = await runCli(runArgs(file, out, o.cluster, 1));
  if (run.code !== 0) throw new Error(`${o.case.name}: the whole run exited ${run.code}:\n${run.stdout}${run.stderr}`);
  const left = await leftoversAfter(o.cluster.kubeConfig, before);
  if (left.length > 0) throw new Error(`${o.case.name}: the whole run left ${left.join('; ')}`);
  const at = new Map<string, number>();
  for (const event of await journalEvents(path.join(out, readdirSync(out)[0]!, 'journal.ndjson'))) if (event.type === 'fault' && !at.has(event.step!)) at.set(event.step!, event.t!);
  const span = (from: string, to: string): number => Math.max(1, (at.get(to) ?? 0) - (at.get(from) ?? 0));
  const inject = span('inject', 'verified');
  return { inject, hold: o.holdMs, revert: span('revert', 'reverted') };
}

/** The journal's events; the half line a killed writer can leave is skipped. */
async function journalEvents(journal: string): Promise<{ type?: string; step?: string; t?: number }[]> {
  return (await readFile(journal, 'utf8')).split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as { type?: string; step?: string; t?: number }];
    } catch {
      return [];
    }
  });
}

/** Where the dead run's fault f0 stood, from the fault steps its journal holds (each journaled before it acts). */
async function phaseInJournal(journal: string): Promise<KilledIn> {
  let phase: KilledIn = 'before-inject';
  for (const event of await journalEvents(journal)) {
    if (event.type !== 'fault') continue;
    if (event.step === 'inject') phase = 'inject';
    else if (event.step === 'verified' || event.step === 'not-landed' || event.step === 'interrupted' || event.step === 'inject-failed') phase = 'hold';
    else if (event.step === 'revert') phase = 'revert';
    else if (event.step === 'reverted' || event.step === 'revert-failed') phase = 'after-revert';
  }
  return phase;
}

/** Differences that last: a deletion or a node coming back may take a moment to show, so look again for up to 5 s. */
async function leftoversAfter(kubeConfig: KubeConfig, before: ClusterSnapshot): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = leftoversBetween(before, await snapshotCluster(kubeConfig, MATRIX_SNAPSHOT));
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every Deployment and StatefulSet fully ready again, so the next run's targets exist (a kill may have left pods starting). */
async function workloadsReady(kubeConfig: KubeConfig): Promise<void> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  await eventually(
    'the workloads to be ready again',
    async () => {
      const [d, s] = await Promise.all([apps.listDeploymentForAllNamespaces(), apps.listStatefulSetForAllNamespaces()]);
      return [...d.items, ...s.items].every((w) => (w.status?.readyReplicas ?? 0) >= (w.spec?.replicas ?? 1) && (w.status?.replicas ?? 0) === (w.spec?.replicas ?? 1));
    },
    // A container killed again and again waits out its CrashLoopBackOff, at most 5 min.
    330_000,
  );
}

/** Kill `i` of a matrix: the cases in turn, and the phases shifted every round so each case meets each phase. */
export function planKill(cases: readonly CrashCase[], i: number): { readonly case: CrashCase; readonly phase: Phase } {
  return { case: cases[i % cases.length]!, phase: PHASES[(i + Math.floor(i / cases.length)) % PHASES.length]! };
}
