import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '../cluster/api-errors.js';
import {
  ShapingUnsupportedError,
  type BlockTrafficOptions,
  type DiskFill,
  type DiskUsage,
  type ExecResult,
  type FillDiskOptions,
  type NodeAccess,
  type NodeAccessProvider,
  type Reachability,
  type ReachOptions,
  type ShapedTraffic,
  type ShapeTrafficOptions,
  type StressedContainer,
  type StressOptions,
} from './node-access.js';
import { execInPod } from './pod-exec.js';
import { CHECK_SCRIPT, FIND_SCRIPT, NO_STRESS_NG, START_SCRIPT, STOP_SCRIPT, stressFileBase, stressNgArgv } from './stress-ng.js';

export interface ExecOptions {
  readonly timeoutMs?: number;
  /** What the command needs of the node, so a provider that can grant less than everything does (pod). Absent: the whole host. */
  readonly need?: CommandNeed;
}

/**
 * What a node command needs: the node's network namespace (iptables, tc, ip, a TCP connect), one
 * path of its filesystem (df, fallocate, rm), or only to run as a process on the node, sharing its
 * CPU and memory (stress-ng, and the `kill` and `/proc` reads that find it again).
 */
export type CommandNeed = { readonly kind: 'network' } | { readonly kind: 'path'; readonly path: string } | { readonly kind: 'process' };

const NETWORK: ExecOptions = { need: { kind: 'network' } };
const onPath = (path: string, options: ExecOptions = {}): ExecOptions => ({ ...options, need: { kind: 'path', path } });
const AS_PROCESS: ExecOptions = { need: { kind: 'process' } };

/** How long a stress lives at most when the caller does not say: longer than any game day's fault. */
const DEFAULT_STRESS_MS = 60 * 60_000;

/** iptables refuses chain names longer than 28 characters; `GAMEDAY-` leaves 20 for the id. */
const ID_TEXT = /^[A-Za-z0-9_-]{1,20}$/;
const JUMPED_FROM = ['INPUT', 'OUTPUT', 'FORWARD'] as const;
/** What iptables says when the chain or rule to remove is not there: already reverted. */
const ALREADY_GONE = /does not exist|No chain\/target\/match|Bad rule|Couldn't load target|doesn't exist/i;
/** What tc says when the kernel has no sch_netem (minimal VM kernels). */
const NO_NETEM = /Specified qdisc kind is unknown|Unknown qdisc "netem"|qdisc kind is unknown/i;

export class NodeCommandError extends Error {
  constructor(node: string, argv: readonly string[], result: ExecResult) {
    const output = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    super(`on node ${node}, \`${argv.join(' ')}\` exited ${result.exitCode}${output ? `: ${output}` : ''}`);
    this.name = 'NodeCommandError';
  }
}

function checkId(id: string): string {
  if (!ID_TEXT.test(id)) throw new Error(`a node fault id is 1–20 letters, digits, - or _, not ${JSON.stringify(id)}`);
  return id;
}

/** gameday's own iptables chain for a fault: revert removes exactly this chain and its jumps. */
export function chainName(id: string): string {
  return `GAMEDAY-${checkId(id)}`;
}

/** The file a disk fill allocates, found again by its id alone. */
export function fillFile(path: string, id: string): string {
  return `${path.replace(/\/+$/, '')}/gameday-fill-${checkId(id)}`;
}

/**
 * The netem qdisc of a shaping gets a handle derived from its id, so unshaping by id finds it on
 * whichever interface it went (the interface is not known after a crash). 16 bits, never 0 or 1.
 */
export function netemHandle(id: string): string {
  let h = 0x811c9dc5;
  for (const c of id) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return ((h % 0xfff0) + 0x10).toString(16);
}

/**
 * The node operations for providers that can run commands on the node (kind, pod, netns): the
 * same iptables, tc, df and fallocate commands everywhere. Subclasses only say how a command
 * reaches the node.
 */
export abstract class ShellNodeAccess implements NodeAccess {
  abstract readonly provider: NodeAccessProvider;

  /** @param kubeConfig the cluster's, for what runs in a pod's container through exec (a stress of pods); absent: the provider cannot. */
  constructor(readonly kubeConfig?: KubeConfig) {}

  /** Runs argv on the node, in its host namespaces. Never throws for a non-zero exit. */
  abstract exec(node: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;

  private async must(node: string, argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const result = await this.exec(node, argv, options);
    if (result.exitCode !== 0) throw new NodeCommandError(node, argv, result);
    return result;
  }

  /** Runs a removal; "not there" counts as done. Returns whether something was removed. */
  private async remove(node: string, argv: readonly string[]): Promise<boolean> {
    const result = await this.exec(node, argv, NETWORK);
    if (result.exitCode === 0) return true;
    if (ALREADY_GONE.test(result.stderr)) return false;
    throw new NodeCommandError(node, argv, result);
  }

  /** Creates (or empties) the chain and jumps to it first from `from`. */
  private async ownChain(node: string, chain: string, rules: readonly (readonly string[])[], from: readonly string[]): Promise<void> {
    const created = await this.exec(node, ['iptables', '-w', '-N', chain], NETWORK);
    if (created.exitCode !== 0) {
      if (!/already exists/i.test(created.stderr)) throw new NodeCommandError(node, ['iptables', '-w', '-N', chain], created);
      await this.must(node, ['iptables', '-w', '-F', chain], NETWORK);
    }
    for (const rule of rules) await this.must(node, ['iptables', '-w', '-A', chain, ...rule], NETWORK);
    for (const builtin of from) {
      const present = await this.exec(node, ['iptables', '-w', '-C', builtin, '-j', chain], NETWORK);
      if (present.exitCode !== 0) await this.must(node, ['iptables', '-w', '-I', builtin, '1', '-j', chain], NETWORK);
    }
  }

  /** Removes the chain and every jump to it; a missing chain means it is already done. */
  private async dropChain(node: string, chain: string): Promise<void> {
    for (const builtin of JUMPED_FROM) {
      // A rule may have been added twice (an inject retried by hand): remove until none is left.
      while (await this.remove(node, ['iptables', '-w', '-D', builtin, '-j', chain]));
    }
    if (await this.remove(node, ['iptables', '-w', '-F', chain])) await this.remove(node, ['iptables', '-w', '-X', chain]);
  }

  async blockTraffic(node: string, options: BlockTrafficOptions): Promise<void> {
    const chain = chainName(options.id);
    const direction = options.direction ?? 'both';
    if (options.peers.length === 0) throw new Error(`blockTraffic on ${node}: no peers to block`);
    const rules: string[][] = [];
    for (const peer of options.peers) {
      if (direction !== 'egress') rules.push(['-s', peer, '-j', 'DROP']);
      if (direction !== 'ingress') rules.push(['-d', peer, '-j', 'DROP']);
    }
    await this.ownChain(node, chain, rules, JUMPED_FROM);
  }

  async unblockTraffic(node: string, id: string): Promise<void> {
    await this.dropChain(node, chainName(id));
  }

  async shapeTraffic(node: string, options: ShapeTrafficOptions): Promise<ShapedTraffic> {
    const chain = chainName(options.id);
    const device = options.interface ?? (await this.interfaceOf(node, options.address));
    const netem: string[] = [];
    if (options.delayMs) netem.push('delay', `${options.delayMs}ms`, ...(options.jitterMs ? [`${options.jitterMs}ms`] : []));
    if (options.lossPercent) netem.push('loss', `${options.lossPercent}%`);
    if (netem.length === 0) throw new Error(`shapeTraffic on ${node}: give a delay or a loss`);
    const argv = ['tc', 'qdisc', 'add', 'dev', device, 'root', 'handle', `${netemHandle(options.id)}:`, 'netem', ...netem];
    const added = await this.exec(node, argv, NETWORK);
    if (added.exitCode === 0) return { interface: device, method: 'netem' };
    if (!NO_NETEM.test(added.stderr)) throw new NodeCommandError(node, argv, added);
    if (options.delayMs || !options.lossPercent) {
      throw new ShapingUnsupportedError(
        `node ${node} cannot add delay: its kernel has no netem queueing discipline (\`${argv.join(' ')}\` said: ${added.stderr.trim()}); load sch_netem there (modprobe sch_netem) or use nodes whose kernel has it`,
      );
    }
    // Loss alone has a second way in: iptables' statistic match drops the same share of packets.
    const probability = String(options.lossPercent / 100);
    const drop = ['-m', 'statistic', '--mode', 'random', '--probability', probability, '-j', 'DROP'];
    await this.ownChain(node, chain, [['-i', device, ...drop], ['-o', device, ...drop]], ['INPUT', 'OUTPUT']);
    return { interface: device, method: 'iptables-statistic' };
  }

  async isShaping(node: string, id: string): Promise<boolean> {
    if ((await this.netemDevice(node, id)) !== undefined) return true;
    return (await this.exec(node, ['iptables', '-w', '-S', chainName(id)], NETWORK)).exitCode === 0;
  }

  async unshapeTraffic(node: string, id: string): Promise<void> {
    const device = await this.netemDevice(node, id);
    if (device !== undefined) await this.must(node, ['tc', 'qdisc', 'del', 'dev', device, 'root'], NETWORK);
    await this.dropChain(node, chainName(id));
  }

  /** The interface whose root qdisc is this id's netem, if any. */
  private async netemDevice(node: string, id: string): Promise<string | undefined> {
    const shown = await this.exec(node, ['tc', 'qdisc', 'show'], NETWORK);
    if (shown.exitCode !== 0) throw new NodeCommandError(node, ['tc', 'qdisc', 'show'], shown);
    const line = new RegExp(`^qdisc netem ${netemHandle(id)}: dev (\\S+) root`, 'm').exec(shown.stdout);
    return line?.[1];
  }

  /** The interface holding the node's address (`eth0` on kind nodes), or eth0 when unknown. */
  private async interfaceOf(node: string, address: string | undefined): Promise<string> {
    if (!address) return 'eth0';
    const shown = await this.must(node, ['ip', '-o', '-4', 'addr', 'show'], NETWORK);
    for (const line of shown.stdout.split('\n')) {
      const m = /^\d+:\s+([^\s@]+)\S*\s+inet\s+([\d.]+)\//.exec(line);
      if (m && m[2] === address) return m[1]!;
    }
    return 'eth0';
  }

  async diskUsage(node: string, path: string): Promise<DiskUsage> {
    const argv = ['df', '-B1', '--output=size,used,avail', path];
    const { stdout } = await this.must(node, argv, onPath(path));
    const numbers = stdout.trim().split('\n').at(-1)?.trim().split(/\s+/).map(Number) ?? [];
    if (numbers.length !== 3 || numbers.some((n) => !Number.isFinite(n))) throw new Error(`on node ${node}, \`${argv.join(' ')}\` printed something unexpected: ${stdout.trim()}`);
    const [capacityBytes, usedBytes, availableBytes] = numbers as [number, number, number];
    return { capacityBytes, usedBytes, availableBytes };
  }

  async fillDisk(node: string, options: FillDiskOptions): Promise<DiskFill> {
    const file = fillFile(options.path, options.id);
    const usage = await this.diskUsage(node, options.path);
    const wanted = options.bytes ?? bytesToReach(usage, options.percent ?? 0);
    const bytes = Math.max(0, Math.min(wanted, usage.availableBytes));
    if (bytes === 0) return { file, bytes: 0 };
    const allocated = await this.exec(node, ['fallocate', '-l', String(bytes), file], onPath(options.path));
    if (allocated.exitCode === 0) return { file, bytes };
    if (!/not supported/i.test(allocated.stderr)) throw new NodeCommandError(node, ['fallocate', '-l', String(bytes), file], allocated);
    // Some filesystems (older overlayfs, NFS) cannot fallocate: write the zeros instead.
    await this.must(node, ['dd', 'if=/dev/zero', `of=${file}`, 'bs=1M', `count=${bytes}`, 'iflag=count_bytes'], onPath(options.path, { timeoutMs: 10 * 60_000 }));
    return { file, bytes };
  }

  async freeDisk(node: string, options: { readonly id: string; readonly path: string }): Promise<void> {
    await this.must(node, ['rm', '-f', fillFile(options.path, options.id)], onPath(options.path));
  }

  /** Starts stress-ng on the node, or in the pod's container; the same id again replaces its stress. */
  async stress(node: string, options: StressOptions): Promise<void> {
    const runner = new StressRunner(this, node, options.pod);
    const argv = stressNgArgv(options, (options.maxDurationMs ?? DEFAULT_STRESS_MS) / 1000);
    await runner.find();
    await runner.stop(options.id);
    await runner.start(options.id, argv);
  }

  isStressing(node: string, id: string, pod?: StressedContainer): Promise<boolean> {
    return new StressRunner(this, node, pod).isRunning(id);
  }

  async unstress(node: string, id: string, pod?: StressedContainer): Promise<void> {
    await new StressRunner(this, node, pod).stop(id);
  }

  async canReach(node: string, options: ReachOptions): Promise<Reachability> {
    const timeoutMs = options.timeoutMs ?? 2000;
    const argv = ['timeout', String(timeoutMs / 1000), 'bash', '-c', 'exec 3<>"/dev/tcp/$0/$1"', options.address, String(options.port)];
    const result = await this.exec(node, argv, { ...NETWORK, timeoutMs: timeoutMs + 10_000 });
    if (result.exitCode === 0) return { reachable: true, detail: 'connected' };
    if (/Connection refused/i.test(result.stderr)) return { reachable: true, detail: 'refused (the peer answered)' };
    if (result.exitCode === 124) return { reachable: false, detail: `timed out after ${timeoutMs}ms` };
    if (/unreachable|No route/i.test(result.stderr)) return { reachable: false, detail: result.stderr.trim().split('\n').at(-1)! };
    throw new NodeCommandError(node, argv, result);
  }
}

/**
 * Where a stress runs, with the same start, check and stop scripts on a node and in a container:
 * a node's through the provider (in the node's namespaces; the pod provider's helper pod needs no
 * host access for it), a pod's through the API's exec in that container, which must have sh and
 * stress-ng (the stress then counts against the container's limits, as the issue asks).
 */
class StressRunner {
  constructor(
    private readonly access: ShellNodeAccess,
    private readonly node: string,
    private readonly pod: StressedContainer | undefined,
  ) {}

  private where(): string {
    if (!this.pod) return `node ${this.node}`;
    const container = this.pod.container ? `container ${this.pod.container}` : 'the first container';
    return `${container} of pod ${this.pod.namespace}/${this.pod.name} on node ${this.node}`;
  }

  /** Runs the script; undefined when the pod's container is gone or not running (its stress went with it). */
  private async run(script: string, args: readonly string[]): Promise<ExecResult | undefined> {
    const argv = ['sh', '-c', script, 'sh', ...args];
    if (!this.pod) return this.access.exec(this.node, argv, AS_PROCESS);
    const { kubeConfig } = this.access;
    if (!kubeConfig) throw new Error(`the ${this.access.provider} node access cannot exec in pods (it has no cluster connection), so it cannot stress ${this.where()}`);
    try {
      return await execInPod(kubeConfig, { namespace: this.pod.namespace, pod: this.pod.name, ...(this.pod.container ? { container: this.pod.container } : {}), argv });
    } catch (err) {
      if (!(await containerRunning(kubeConfig, this.pod))) return undefined;
      throw err;
    }
  }

  /** Throws StressNgMissingError unless stress-ng is there to run. */
  async find(): Promise<void> {
    const result = await this.run(FIND_SCRIPT, []);
    if (!result) throw new Error(`cannot stress ${this.where()}: the container is not running`);
    if (result.exitCode === NO_STRESS_NG) throw new StressNgMissingError(this.where(), this.access.provider, this.pod !== undefined);
    if (result.exitCode !== 0) throw new NodeCommandError(this.node, ['sh', '-c', FIND_SCRIPT], result);
  }

  async start(id: string, argv: readonly string[]): Promise<void> {
    const result = await this.run(START_SCRIPT, [stressFileBase(this.node, id), ...argv]);
    if (!result) throw new Error(`cannot stress ${this.where()}: the container is not running`);
    if (result.exitCode !== 0) throw new NodeCommandError(this.node, argv, result);
  }

  async isRunning(id: string): Promise<boolean> {
    const result = await this.run(CHECK_SCRIPT, [stressFileBase(this.node, id)]);
    if (!result || result.exitCode === 1) return false;
    if (result.exitCode === 0) return true;
    throw new NodeCommandError(this.node, ['sh', '-c', `(is stress ${id} running)`], result);
  }

  async stop(id: string): Promise<void> {
    const result = await this.run(STOP_SCRIPT, [stressFileBase(this.node, id)]);
    if (result && result.exitCode !== 0) throw new NodeCommandError(this.node, ['sh', '-c', `(stop stress ${id})`], result);
  }
}

/** Whether the pod exists and the container (its first when unnamed) is running. */
async function containerRunning(kubeConfig: KubeConfig, pod: StressedContainer): Promise<boolean> {
  try {
    const live = await kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: pod.namespace, name: pod.name });
    const name = pod.container ?? live.spec?.containers[0]?.name;
    return live.status?.containerStatuses?.some((c) => c.name === name && c.state?.running !== undefined) ?? false;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The node or container has no stress-ng: says where it ran and what to do instead. */
export class StressNgMissingError extends Error {
  constructor(where: string, provider: NodeAccessProvider, inPod: boolean) {
    const fix = inPod
      ? "a stress of pods: runs stress-ng inside the pod's container, so its image must have sh and stress-ng; stress the node instead (nodes:), or give the container an image with stress-ng"
      : provider === 'pod'
        ? 'the pod node access runs it in a helper pod whose image lacks it (the default nicolaka/netshoot has none); pass --node-access-image with an image that has it, e.g. one built FROM nicolaka/netshoot with `RUN apk add --no-cache stress-ng`'
        : provider === 'kind'
          ? 'kind node images have none; install it in each node container (`docker exec <node> sh -c "apt-get update && apt-get install -y stress-ng"`), or use --node-access pod with an image that has it'
          : 'install stress-ng on the node (Debian and Ubuntu: apt-get install stress-ng)';
    super(`${where} has no stress-ng: ${fix}`);
    this.name = 'StressNgMissingError';
  }
}

/** Bytes to allocate so that `percent` of the capacity is used (df's Use%: used / (used + avail)). */
export function bytesToReach(usage: DiskUsage, percent: number): number {
  const usable = usage.usedBytes + usage.availableBytes;
  return Math.max(0, Math.ceil((percent / 100) * usable) - usage.usedBytes);
}
