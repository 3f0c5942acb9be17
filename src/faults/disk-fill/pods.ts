import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { isNotFound } from '../../cluster/api-errors.js';
import { errorMessage, HarnessError } from '../../core/errors.js';
import { Percent, type Quantity } from '../../core/quantity.js';
import type { ExecResult } from '../../nodes/node-access.js';
import { execInPod, podExecPermissions } from '../../nodes/pod-exec.js';
import { bytesToReach, fillFile } from '../../nodes/shell-node-access.js';
import { chooseCount, selectPods } from '../../plan/select.js';
import { podSelectorSchema, type PodSelector } from '../../spec/selector-schemas.js';
import type { FaultContext, FaultPlugin } from '../fault.js';
import { parseDfOutput, SLACK_PERCENT, usedShare, type MountedUsage } from './df-output.js';

/** The keys only the pod form of `diskFill` has; src/faults/disk-fill/fault.ts puts them in its one mapping. */
export const podDiskFillFields = {
  pods: podSelectorSchema.describe("the pods whose volume is filled from inside, through exec (needs no node access)"),
  container: z
    .string()
    .min(1, { error: 'container is the name of one of the pods\' containers' })
    .optional()
    .describe("pods: the container to exec in; it must mount the path and have a shell (sh). @default the pod's first container"),
};

export interface PodDiskFillParams {
  readonly pods: PodSelector;
  readonly container?: string;
  readonly count?: number | Percent;
  /** A directory on a volume the container mounts. */
  readonly path: string;
  readonly fill: Quantity | Percent;
}

export interface PodDiskFillTargets {
  /** Seeded, so `--seed` replays it; names the file: `<path>/gameday-fill-<id>`. */
  readonly id: string;
  readonly namespace: string;
  readonly pods: readonly string[];
}

export interface PodFill {
  readonly container: string;
  /** The volume under the path, as the pod spec declares it: `emptyDir data`, `persistentVolumeClaim data (claim data-db-0)`. */
  readonly volume: string;
  readonly file: string;
  /** What was really allocated: capped by the free space, 0 when the filesystem was already full enough. */
  readonly bytes: number;
  readonly method: 'fallocate' | 'dd' | 'none';
  readonly before: MountedUsage;
}

export type PodDiskFillState = Readonly<Record<string, PodFill>>;

/** dd writes whole blocks of this size: the size filesystems allocate in anyway. */
const DD_BLOCK = 4096;
/** Writing gigabytes of zeros (dd, where fallocate is refused) takes a while on a slow disk. */
const WRITE_TIMEOUT_MS = 10 * 60_000;

/** One word for `sh -c`, whatever the YAML put in it: single quotes, each ' written as '\''. */
const shellWord = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

const podRef = (namespace: string, pod: string): string => `pod ${namespace}/${pod}`;

interface ExecTarget {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

/**
 * The pod half of the `diskFill` fault (src/faults/disk-fill/fault.ts registers it): a file allocated
 * inside the container on a mounted volume, as a runaway log or cache would grow, found again by
 * its seeded id. Only the API is needed (exec), so it works on any cluster, managed ones included.
 */
export const podDiskFill: Pick<FaultPlugin<PodDiskFillParams, PodDiskFillTargets, PodDiskFillState>, 'plan' | 'inject' | 'verify' | 'revert' | 'permissions'> = {
  permissions: (p) => [
    { why: 'diskFill of pods: read the chosen pods (their volumes, whether they still run)', verbs: ['get'], resource: 'pods', namespace: p.pods.namespace },
    ...podExecPermissions('diskFill of pods: df, fallocate and rm in the container, through exec', p.pods.namespace),
  ],

  plan(p, { snapshot, rng }) {
    const pods = chooseCount(rng, selectPods(snapshot, p.pods), p.count ?? 1)
      .map((pod) => pod.name)
      .sort();
    const id = Math.floor(rng.next() * 16 ** 8).toString(16).padStart(8, '0');
    const namespace = p.pods.namespace;
    const how = p.fill instanceof Percent ? `to ${p.fill}` : `with ${p.fill}`;
    const where = p.container ? ` (container ${p.container})` : '';
    return {
      targets: { id, namespace, pods },
      touches: { nodes: [], pods: pods.map((name) => `${namespace}/${name}`) },
      description: `fill ${p.path} in pod${pods.length === 1 ? '' : 's'} ${pods.map((name) => `${namespace}/${name}`).join(', ')}${where} ${how}`,
    };
  },

  async inject(ctx, p, t) {
    const state: Record<string, PodFill> = {};
    await onEveryPod(t, async (pod) => {
      state[pod] = await fillPod(ctx, p, t, pod);
    });
    return state;
  },

  async verify(ctx, p, t, state) {
    const seen = await Promise.all(t.pods.map((pod) => checkPod(ctx, p, t, pod, state[pod])));
    const short = seen.filter((s) => !s.landed);
    if (short.length > 0) return { landed: false, message: `not filled as asked (${p.fill}): ${short.map((s) => s.summary).join('; ')}`, evidence: seen };
    return { landed: true, message: `filled: ${seen.map((s) => s.summary).join('; ')}`, evidence: seen };
  },

  async revert(ctx, p, t, state) {
    await onEveryPod(t, (pod) => emptyPod(ctx, p, t, pod, state?.[pod]));
  },
};

/** Runs `action` for every pod, all of them even when some fail; then throws the failures together. */
async function onEveryPod(t: PodDiskFillTargets, action: (pod: string) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(t.pods.map(action));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
  if (failed.length > 0) throw new Error(failed.join('; '));
}

async function fillPod(ctx: FaultContext, p: PodDiskFillParams, t: PodDiskFillTargets, pod: string): Promise<PodFill> {
  const at = await execTarget(ctx.cluster.kubeConfig, t.namespace, pod, p.container);
  const volume = volumeUnder(at.spec, at.target.container, p.path, podRef(t.namespace, pod));
  const before = await diskUsageIn(at.target, p.path);
  const file = fillFile(p.path, t.id);
  const wanted = p.fill instanceof Percent ? bytesToReach(before, p.fill.value) : (p.fill as Quantity).bytes;
  const bytes = Math.max(0, Math.min(wanted, before.availableBytes));
  const fill = { container: at.target.container, volume, file, before };
  if (bytes === 0) {
    ctx.log(`${podRef(t.namespace, pod)}: ${p.path} is ${usedShare(before).toFixed(1)}% used already; nothing allocated`);
    return { ...fill, bytes: 0, method: 'none' };
  }
  const allocated = await shell(at.target, `fallocate -l ${bytes} ${shellWord(file)}`);
  if (allocated.exitCode === 0) {
    ctx.log(`${podRef(t.namespace, pod)}: allocated ${bytes} bytes at ${file} (${volume})`);
    return { ...fill, bytes, method: 'fallocate' };
  }
  // Not every image has fallocate (busybox builds without it), nor every filesystem supports it: write the zeros instead.
  const written = await shell(at.target, `dd if=/dev/zero of=${shellWord(file)} bs=${DD_BLOCK} count=${Math.ceil(bytes / DD_BLOCK)}`, WRITE_TIMEOUT_MS);
  const size = await fileSize(at.target, file);
  if (written.exitCode !== 0 && !/No space left/i.test(written.stderr)) {
    throw new Error(`${podRef(t.namespace, pod)}: could not allocate ${file}: fallocate said ${oneLine(allocated)}; dd said ${oneLine(written)}`);
  }
  ctx.log(`${podRef(t.namespace, pod)}: wrote ${size ?? 0} bytes of zeros to ${file} (${volume}; fallocate said ${oneLine(allocated)})`);
  return { ...fill, bytes: size ?? 0, method: 'dd' };
}

interface PodCheck {
  readonly pod: string;
  readonly landed: boolean;
  readonly summary: string;
  readonly usage?: MountedUsage;
  readonly fileBytes?: number;
}

async function checkPod(ctx: FaultContext, p: PodDiskFillParams, t: PodDiskFillTargets, pod: string, filled: PodFill | undefined): Promise<PodCheck> {
  const name = `${t.namespace}/${pod}`;
  if (!filled) return { pod, landed: false, summary: `${name} was not filled` };
  const target: ExecTarget = { kubeConfig: ctx.cluster.kubeConfig, namespace: t.namespace, pod, container: filled.container };
  let usage: MountedUsage;
  let fileBytes: number | undefined;
  try {
    usage = await diskUsageIn(target, p.path);
    fileBytes = await fileSize(target, filled.file);
  } catch (err) {
    const ended = endedPod(await readPod(ctx.cluster.kubeConfig, t.namespace, pod));
    // A full volume getting its pod evicted is the fault's effect, not a failure to make it.
    if (ended?.reason === 'Evicted') return { pod, landed: true, summary: `${name} ${ended.message}` };
    return { pod, landed: false, summary: `${name}: cannot read ${p.path}: ${ended ? ended.message : errorMessage(err)}` };
  }
  const shown = `${name} ${p.path} ${usedShare(usage).toFixed(1)}% used (${usage.availableBytes} bytes free, ${fileBytes ?? 0} in ${filled.file})`;
  if (p.fill instanceof Percent) return { pod, landed: usedShare(usage) >= p.fill.value - SLACK_PERCENT, summary: shown, usage, ...(fileBytes === undefined ? {} : { fileBytes }) };
  // A size lands when the file holds it all, or when it took all the free space there was.
  const wanted = (p.fill as Quantity).bytes;
  const whole = (fileBytes ?? 0) === filled.bytes && (filled.bytes >= wanted || usage.availableBytes <= filled.before.availableBytes * (SLACK_PERCENT / 100));
  return { pod, landed: whole, summary: shown, usage, ...(fileBytes === undefined ? {} : { fileBytes }) };
}

async function emptyPod(ctx: FaultContext, p: PodDiskFillParams, t: PodDiskFillTargets, pod: string, filled: PodFill | undefined): Promise<void> {
  const kubeConfig = ctx.cluster.kubeConfig;
  const file = filled?.file ?? fillFile(p.path, t.id);
  const gone = (spec: V1Pod | undefined): boolean => {
    const ended = endedPod(spec);
    if (!ended) return false;
    const claim = /\(claim ([^)]+)\)/.exec(filled?.volume ?? '')?.[1];
    const kept = claim ? `; claim ${claim} outlives it and still holds ${file}: remove it from a pod that mounts the claim` : '; an emptyDir goes with its pod';
    ctx.log(`${podRef(t.namespace, pod)} ${ended.message}: nothing to remove${kept}`);
    return true;
  };
  const spec = await readPod(kubeConfig, t.namespace, pod);
  if (gone(spec) || !spec) return;
  const container = containerOf(spec, filled?.container ?? p.container);
  if (container === undefined) {
    ctx.log(`${podRef(t.namespace, pod)} has no container "${p.container}": nothing was filled there`);
    return;
  }
  let removed: ExecResult;
  try {
    removed = await shell({ kubeConfig, namespace: t.namespace, pod, container }, `rm -f ${shellWord(file)}`);
  } catch (err) {
    if (gone(await readPod(kubeConfig, t.namespace, pod))) return;
    throw err;
  }
  if (removed.exitCode !== 0) throw new Error(`${podRef(t.namespace, pod)}: rm -f ${file} failed: ${oneLine(removed)}`);
  ctx.log(`${podRef(t.namespace, pod)}: removed ${file}`);
}

/** The pod and the container to exec in; a clear error when either is not there. */
async function execTarget(kubeConfig: KubeConfig, namespace: string, pod: string, container: string | undefined): Promise<{ target: ExecTarget; spec: V1Pod }> {
  const spec = await readPod(kubeConfig, namespace, pod);
  if (!spec) throw new HarnessError(`${podRef(namespace, pod)} is gone`);
  const chosen = containerOf(spec, container);
  if (chosen === undefined) {
    const names = (spec.spec?.containers ?? []).map((c) => c.name);
    throw new HarnessError(`${podRef(namespace, pod)} has no container "${container}"; its containers: ${names.join(', ') || 'none'}`);
  }
  if (spec.status?.phase !== 'Running') throw new HarnessError(`${podRef(namespace, pod)} is ${spec.status?.phase ?? 'not started'}, not Running: there is nothing to exec in`);
  return { target: { kubeConfig, namespace, pod, container: chosen }, spec };
}

async function readPod(kubeConfig: KubeConfig, namespace: string, pod: string): Promise<V1Pod | undefined> {
  try {
    return await kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ namespace, name: pod });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The container asked for, or the pod's first; undefined when the pod has no such container. */
function containerOf(spec: V1Pod, wanted: string | undefined): string | undefined {
  const names = (spec.spec?.containers ?? []).map((c) => c.name);
  const chosen = wanted ?? names[0];
  return chosen !== undefined && names.includes(chosen) ? chosen : undefined;
}

/**
 * The volume the container mounts at or above `path`, described from the pod spec. A path on no
 * volume is refused: it would fill the container's writable layer, which is not what was asked.
 */
function volumeUnder(pod: V1Pod, container: string, path: string, ref: string): string {
  const mounts = pod.spec?.containers.find((c) => c.name === container)?.volumeMounts ?? [];
  const under = mounts
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/+$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!under) {
    const listed = mounts.map((m) => m.mountPath).join(', ');
    throw new HarnessError(
      `${path} is not on a mounted volume in container ${container} of ${ref} (${listed ? `it mounts ${listed}` : 'it mounts no volumes'}): ` +
        'give the path of a volume it mounts, or the container that mounts it (container:)',
    );
  }
  const volume = pod.spec?.volumes?.find((v) => v.name === under.name);
  if (volume?.persistentVolumeClaim) return `persistentVolumeClaim ${under.name} (claim ${volume.persistentVolumeClaim.claimName})`;
  const source = volume ? Object.keys(volume).find((k) => k !== 'name') : undefined;
  return `${source ?? 'volume'} ${under.name}`;
}

/** The filesystem under `path` as df in the container sees it; GNU df's exact bytes, else POSIX df's kilobytes. */
async function diskUsageIn(target: ExecTarget, path: string): Promise<MountedUsage> {
  const word = shellWord(path);
  const result = await shell(target, `df -B1 --output=size,used,avail,target ${word} 2>/dev/null || df -P -k ${word}`);
  if (result.exitCode !== 0) throw new HarnessError(`${where(target)}: df ${path} failed: ${oneLine(result)}`);
  const usage = parseDfOutput(result.stdout);
  if (!usage) throw new HarnessError(`${where(target)}: df ${path} printed something unexpected: ${result.stdout.trim()}`);
  return usage;
}

/** The file's size in bytes (ls -ln's fifth column: coreutils and busybox agree on it); undefined when it is not there. */
async function fileSize(target: ExecTarget, file: string): Promise<number | undefined> {
  const listed = await shell(target, `ls -ln ${shellWord(file)}`);
  if (listed.exitCode !== 0) return undefined;
  const size = Number(listed.stdout.trim().split(/\s+/)[4]);
  return Number.isFinite(size) ? size : undefined;
}

/** Runs a script with the container's `sh -c`; an image without a shell gets an error saying so. */
async function shell(target: ExecTarget, script: string, timeoutMs?: number): Promise<ExecResult> {
  const result = await execInPod(target.kubeConfig, {
    namespace: target.namespace,
    pod: target.pod,
    container: target.container,
    argv: ['sh', '-c', script],
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  if (result.exitCode !== 0 && /unable to start container process|executable file not found/.test(result.stderr)) {
    throw new HarnessError(
      `${where(target)} has no shell (sh), so nothing can be run in it (${oneLine(result)}); ` +
        'exec into a container of the pod that has one (container:), or fill the node instead (diskFill with nodes:)',
    );
  }
  return result;
}

/** Why a pod can no longer be exec'd into (gone, or stopped: evicted, completed), or undefined while it can. */
function endedPod(spec: V1Pod | undefined): { reason?: string; message: string } | undefined {
  if (!spec) return { message: 'is gone' };
  const phase = spec.status?.phase;
  if (phase !== 'Failed' && phase !== 'Succeeded') return undefined;
  const reason = spec.status?.reason;
  const detail = spec.status?.message?.trim();
  return { ...(reason ? { reason } : {}), message: `is ${phase}${reason ? ` (${reason}${detail ? `: ${detail}` : ''})` : ''}` };
}

function where(target: ExecTarget): string {
  return `container ${target.container} of ${podRef(target.namespace, target.pod)}`;
}

function oneLine(result: ExecResult): string {
  const text = (result.stderr.trim() || result.stdout.trim()).split('\n').filter(Boolean).join(' / ');
  return text || `exit status ${result.exitCode}`;
}
