import { closeSync, existsSync, ftruncateSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { releaseRunLockOf } from '../cluster/run-lock.js';
import type { ClusterTarget } from '../cluster/target.js';
import { errorMessage, HarnessError } from '../core/errors.js';
import type { ClusterRef, FaultEvent, RunStartEvent } from '../journal/events.js';
import type { RunObserver } from '../journal/observer.js';
import type { Registry } from '../core/registry.js';
import type { FaultContext, FaultPlugin } from '../faults/fault.js';
import { deleteLeftoverHelperPods } from '../nodes/pod-node-access.js';
import type { Plan } from '../plan/model.js';
import type { ProbePlugin } from '../probes/probe.js';
import type { ProbeSpec } from '../spec/model.js';
import { Journal } from '../journal/writer.js';
import { readJournal } from '../journal/reader.js';
import { RunRecorder } from './recorder.js';

export interface RecoverOptions {
  /** The run's cluster, connected from the journal's cluster ref. Needed only when something is left to revert. */
  readonly cluster?: ClusterTarget;
  readonly registries: { readonly faults: Registry<FaultPlugin> };
  /** Also gets the events recovery appends to the journal. */
  readonly observer?: RunObserver;
}

export interface RecoverResult {
  readonly runId: string;
  readonly journalPath: string;
  readonly cluster: ClusterRef;
  /**
   * `clean`: nothing was left applied. `reverted`: everything left was reverted now.
   * `failed`: some reverts failed (see `failed`; run recover again). `embedded`: the run's cluster
   * was the in-process one, gone with that process, so there is nothing to revert.
   */
  readonly status: 'clean' | 'reverted' | 'failed' | 'embedded';
  /** Fault ids reverted by this call, in the order they were reverted. */
  readonly reverted: readonly string[];
  readonly failed: readonly { readonly fault: string; readonly kind: string; readonly message: string }[];
  readonly message: string;
}

export interface RecoverRunsOptions {
  /** With probes, what the run's probes made in the cluster is deleted too (see ProbePlugin.deleteLeftovers). */
  readonly registries: { readonly faults: Registry<FaultPlugin>; readonly probes?: Registry<ProbePlugin> };
  /**
   * Reaches a cluster a run recorded (`kind: kubeconfig`), and refuses one that may not be touched.
   * Called for every cluster the runs need before anything is reverted.
   */
  readonly connect: (ref: ClusterRef) => Promise<ClusterTarget>;
  /** Each run's result, as soon as that run is recovered. */
  readonly onRecovered?: (runDir: string, result: RecoverResult) => void;
  readonly log?: (line: string) => void;
}

/**
 * `gameday recover` over several runs. Every cluster they need is connected first, so one that
 * is not allowed stops the command before any run is touched; then each run is recovered, and
 * the helper pods a killed run's pod node access left behind are deleted.
 */
export async function recoverRuns(runDirs: readonly string[], options: RecoverRunsOptions): Promise<RecoverResult[]> {
  const targets = new Map<string, ClusterTarget>();
  const targetOf = new Map<string, ClusterTarget>();
  try {
    for (const dir of runDirs) {
      const ref = await recordedCluster(dir);
      if (ref?.kind !== 'kubeconfig') continue;
      const key = JSON.stringify([ref.kubeconfig, ref.context ?? ref.name]);
      let target = targets.get(key);
      if (!target) {
        target = await options.connect(ref);
        targets.set(key, target);
      }
      targetOf.set(dir, target);
    }
    const results: RecoverResult[] = [];
    for (const dir of runDirs) {
      const cluster = targetOf.get(dir);
      const result = await recoverRun(dir, { cluster, registries: options.registries });
      if (cluster) for (const pod of await deleteLeftoverHelperPods(cluster.kubeConfig)) options.log?.(`deleted leftover node-access pod ${pod}`);
      if (cluster && options.registries.probes) await deleteProbeLeftovers(dir, cluster, options.registries.probes, options.log);
      if (cluster && result.status === 'reverted') await releaseLockOf(cluster, result.runId, options.log);
      results.push(result);
      options.onRecovered?.(dir, result);
    }
    return results;
  } finally {
    for (const target of targets.values()) await target.close();
  }
}

/**
 * Recovery never takes the run lock: reverting is always safe, and it must work while a dead run's
 * lease has not expired yet. Once a run's faults are reverted, the lock it may still hold is
 * released, so the next game day need not wait for the lease to expire.
 */
async function releaseLockOf(cluster: ClusterTarget, runId: string, log: ((line: string) => void) | undefined): Promise<void> {
  try {
    if (await releaseRunLockOf(cluster.kubeConfig, runId)) log?.(`released the run lock that run ${runId} still held`);
  } catch (err) {
    log?.(`could not release the run lock that run ${runId} may still hold (it expires by itself): ${errorMessage(err)}`);
  }
}

/**
 * What the run's probes made in the cluster (a k6 TestRun…) and a killed run left there: each
 * probe the plan journaled whose kind can find its leftovers deletes them. A failure is only
 * logged: the faults are what recovery must not leave behind.
 */
async function deleteProbeLeftovers(runDir: string, cluster: ClusterTarget, probes: Registry<ProbePlugin>, log: ((line: string) => void) | undefined): Promise<void> {
  let runId: string | undefined;
  const planned: ProbeSpec[] = [];
  for await (const event of readJournal(join(runDir, 'journal.ndjson'))) {
    if (event.type === 'run.start') runId = event.runId;
    if (event.type === 'plan') planned.push(...((event.plan as Plan).probes ?? []));
  }
  if (!runId) return;
  for (const probe of planned) {
    const plugin = probes.get(probe.kind);
    if (!plugin?.deleteLeftovers) continue;
    const parsed = plugin.params.safeParse(probe.params);
    try {
      for (const left of await plugin.deleteLeftovers(cluster, parsed.success ? parsed.data : probe.params, runId)) log?.(`deleted ${left}, left by probe ${probe.name} (${probe.kind}) of run ${runId}`);
    } catch (err) {
      log?.(`could not delete what probe ${probe.name} (${probe.kind}) of run ${runId} may have left: ${errorMessage(err)}`);
    }
  }
}

/** The run directories under `outDir` (those with a journal), sorted by name. */
export async function findRunDirs(outDir: string): Promise<string[]> {
  if (!existsSync(outDir)) return [];
  const entries = await readdir(outDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(join(outDir, e.name, 'journal.ndjson')))
    .map((e) => join(outDir, e.name))
    .sort();
}

/** The cluster a run recorded in its first event; undefined when the journal has no run.start. */
async function recordedCluster(runDir: string): Promise<ClusterRef | undefined> {
  for await (const event of readJournal(join(runDir, 'journal.ndjson'))) {
    if (event.type === 'run.start') return event.cluster;
  }
  return undefined;
}

interface Applied {
  readonly inject: FaultEvent;
  state?: unknown;
  /** Inject returned: revert gets its state. Otherwise inject may have partly happened and revert gets undefined. */
  injected: boolean;
  reverted: boolean;
}

/**
 * `gameday recover`: reverts every fault the journal shows as injected (or being injected) and not
 * reverted, newest first, appending `revert`/`reverted` to the same journal, so a second call
 * finds nothing left to do.
 */
export async function recoverRun(runDir: string, options: RecoverOptions): Promise<RecoverResult> {
  const journalPath = join(runDir, 'journal.ndjson');
  let start: RunStartEvent | undefined;
  let plan: Plan | undefined;
  const faults = new Map<string, Applied>();
  for await (const event of readJournal(journalPath)) {
    if (event.type === 'run.start') start = event;
    if (event.type === 'plan') plan = event.plan as Plan;
    if (event.type !== 'fault') continue;
    const f = faults.get(event.fault);
    if (event.step === 'inject') faults.set(event.fault, { inject: event, injected: false, reverted: false });
    else if (!f) continue;
    else if (event.step === 'injected') Object.assign(f, { injected: true, state: event.state });
    else if (event.step === 'reverted') f.reverted = true;
  }
  if (!start) throw new HarnessError(`${journalPath} is not a gameday journal: it has no run.start event`);
  const base = { runId: start.runId, journalPath, cluster: start.cluster };
  const left = [...faults.values()].filter((f) => !f.reverted).reverse();

  if (start.cluster.kind === 'embedded') {
    const message =
      left.length === 0
        ? `run ${start.runId} used the embedded cluster and left nothing applied`
        : `run ${start.runId} used the embedded cluster, which ended with its process: its ${left.length} unreverted fault(s) went with it; nothing to recover`;
    return { ...base, status: 'embedded', reverted: [], failed: [], message };
  }
  if (left.length === 0) return { ...base, status: 'clean', reverted: [], failed: [], message: `run ${start.runId} left nothing applied` };
  const cluster = options.cluster;
  if (!cluster) throw new HarnessError(`run ${start.runId} left ${left.length} fault(s) applied; recovering them needs a connection to cluster ${start.cluster.name}`);

  endWithWholeLine(journalPath);
  const journal = Journal.open(journalPath);
  const recorder = new RunRecorder(journal, options.observer ?? { onEvent: () => undefined });
  const reverted: string[] = [];
  const failed: { fault: string; kind: string; message: string }[] = [];
  try {
    recorder.log('info', `recover: reverting ${left.map((f) => f.inject.fault).join(', ')}`);
    for (const f of left) {
      const { fault, kind } = f.inject;
      const record = (step: 'revert' | 'reverted' | 'revert-failed', message?: string): void =>
        recorder.record({ type: 'fault', t: Date.now(), step, fault, kind, ...(message ? { message } : {}) });
      const plugin = options.registries.faults.get(kind);
      if (!plugin) {
        const message = `cannot revert: ${options.registries.faults.unknownMessage(kind)}`;
        failed.push({ fault, kind, message });
        recorder.log('error', `recover: ${fault} ${message}`);
        continue;
      }
      const ctx: FaultContext = {
        cluster,
        signal: new AbortController().signal,
        log: (message) => recorder.log('info', `recover: fault ${fault} (${kind}): ${message}`),
        evidence: () => undefined,
      };
      record('revert', 'recover');
      try {
        await plugin.revert(ctx, paramsFor(plugin, plan, fault), f.inject.targets, f.injected ? f.state : undefined);
        record('reverted', 'recover');
        reverted.push(fault);
      } catch (err) {
        record('revert-failed', errorMessage(err));
        failed.push({ fault, kind, message: errorMessage(err) });
      }
    }
  } finally {
    journal.close();
  }
  if (failed.length > 0) {
    const message = `run ${start.runId}: ${failed.map((f) => `${f.fault} (${f.kind}): ${f.message}`).join('; ')}${reverted.length ? `; reverted ${reverted.join(', ')}` : ''}`;
    return { ...base, status: 'failed', reverted, failed, message };
  }
  return { ...base, status: 'reverted', reverted, failed, message: `run ${start.runId}: reverted ${reverted.join(', ')}` };
}

/**
 * The plan in the journal is JSON: value objects there are their YAML text (`2m`, `95%`), so the
 * plug-in's own schema turns them back into what revert expects. If that fails, revert gets them as they are.
 */
function paramsFor(plugin: FaultPlugin, plan: Plan | undefined, fault: string): unknown {
  const raw = plan?.faults?.find((f) => f.id === fault)?.params;
  const parsed = plugin.params.safeParse(raw);
  return parsed.success ? parsed.data : raw;
}

/**
 * A killed run can leave half a line at the end. Recovery appends after it, so that half is cut
 * off first (it cannot be parsed anyway); a whole last line that only lacks its newline gets one.
 */
function endWithWholeLine(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  try {
    let tailStart = size;
    const chunk = Buffer.alloc(64 * 1024);
    while (tailStart > 0) {
      const len = Math.min(chunk.length, tailStart);
      readSync(fd, chunk, 0, len, tailStart - len);
      const nl = chunk.subarray(0, len).lastIndexOf(0x0a);
      if (nl >= 0) {
        tailStart = tailStart - len + nl + 1;
        break;
      }
      tailStart -= len;
    }
    if (tailStart === size) return;
    const tail = Buffer.alloc(size - tailStart);
    readSync(fd, tail, 0, tail.length, tailStart);
    if (isJson(tail.toString('utf8'))) writeSync(fd, '\n', size);
    else ftruncateSync(fd, tailStart);
  } finally {
    closeSync(fd);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
