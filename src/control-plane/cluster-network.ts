import { runCommand } from '../nodes/command-runner.js';
import { HarnessError, UsageError } from '../core/errors.js';

/** Node addresses (kind's docker network) and pod addresses, routed only inside the namespace. */
export const NODE_RANGE = '172.18.0.0/24';
export const POD_RANGE = '10.244.0.0/16';
export const SERVICE_RANGE = '10.96.0.0/16';
/** The control-plane node's address; the API server advertises it as kubeadm's does. */
export const CONTROL_PLANE_NODE_IP = '172.18.0.2';

const PREFIX = 'gdcp';

/**
 * The real control plane's own network: a Linux network namespace whose loopback answers for the
 * whole node and pod ranges, so every address in it is an ordinary unicast address (the real API
 * server proxies to nothing else) and yet no packet to one can leave the machine: the namespace
 * has no default route, and the host has no route to those ranges. The host reaches the API
 * server over one veth pair whose /30 sits in 198.18.0.0/15, the range reserved for benchmarking
 * networks, which no real network uses.
 */
export interface ClusterNetwork {
  readonly namespace: string;
  /** The namespace's end of the veth pair: where the host reaches the API server. */
  readonly apiAddress: string;
  readonly hostAddress: string;
  /** argv prefix that runs a command inside the namespace. */
  readonly execPrefix: readonly string[];
  destroy(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  const r = await runCommand(['ip', ...args]);
  if (r.exitCode !== 0) throw new HarnessError(`\`ip ${args.join(' ')}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
}

function addressesFor(owner: number): { host: string; inside: string } {
  const base = ((198 << 24) | (18 << 16)) + (owner % 32768) * 4;
  const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  return { host: dotted(base + 1), inside: dotted(base + 2) };
}

/** Why the namespace cannot be made here, or undefined when it can. */
export async function clusterNetworkUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `the real control plane needs Linux network namespaces; this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'the real control plane needs root, to make its own network namespace (`ip netns add`); run as root, or use the embedded cluster (--control-plane embedded)';
  const r = await runCommand(['ip', 'netns', 'list']);
  if (r.exitCode === 127) return 'the real control plane needs `ip` from iproute2 (apt-get install iproute2)';
  if (r.exitCode !== 0) return `\`ip netns list\` failed: ${r.stderr.trim()}`;
  return undefined;
}

/**
 * Makes the namespace for the process `owner` (default: this one). Refuses rather than fall back:
 * without a namespace the pod and node addresses would route through the host.
 */
export async function createClusterNetwork(owner: number = process.pid): Promise<ClusterNetwork> {
  const why = await clusterNetworkUnavailable();
  if (why) throw new UsageError(why);
  const namespace = `${PREFIX}${owner}`;
  const hostVeth = `${PREFIX}${owner}h`;
  const { host, inside } = addressesFor(owner);
  const destroy = async (): Promise<void> => {
    await removeNamespace(namespace);
  };
  try {
    await ip('netns', 'add', namespace);
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
    // `local` routes on lo make every address of both ranges this namespace's own.
    await ip('-n', namespace, 'route', 'add', 'local', NODE_RANGE, 'dev', 'lo');
    await ip('-n', namespace, 'route', 'add', 'local', POD_RANGE, 'dev', 'lo');
    // Made with its peer already inside, so the namespace's end never appears on the host.
    await ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
    await ip('addr', 'add', `${host}/30`, 'dev', hostVeth);
    await ip('link', 'set', hostVeth, 'up');
    await ip('-n', namespace, 'addr', 'add', `${inside}/30`, 'dev', 'eth0');
    await ip('-n', namespace, 'link', 'set', 'eth0', 'up');
  } catch (err) {
    await destroy();
    throw err;
  }
  return { namespace, apiAddress: inside, hostAddress: host, execPrefix: ['ip', 'netns', 'exec', namespace], destroy };
}

/** Kills whatever still runs in the namespace, then deletes it (its veth pair goes with it). */
async function removeNamespace(namespace: string): Promise<void> {
  const pids = await runCommand(['ip', 'netns', 'pids', namespace]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await runCommand(['ip', 'netns', 'del', namespace]);
}

/** Whether the process that owns a namespace or state directory still runs. */
export function ownerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the namespaces of gameday processes that died without cleaning up (SIGKILL, a crash). */
export async function sweepStaleNetworks(): Promise<string[]> {
  const list = await runCommand(['ip', 'netns', 'list']);
  const removed: string[] = [];
  for (const line of list.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = new RegExp(`^${PREFIX}(\\d+)$`).exec(name)?.[1];
    if (owner === undefined || ownerAlive(Number(owner))) continue;
    await removeNamespace(name);
    removed.push(name);
  }
  return removed;
}
