import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/nodes/command-runner.js';
import { NetnsNodeAccess } from '../../src/nodes/netns-node-access.js';

/**
 * Three "nodes" made of Linux network namespaces, each with an eth0 on one bridge (in a fourth,
 * switch namespace, so nothing touches the host's network) at 10.123.0.1–3, plus a 16 MiB tmpfs
 * to fill. Names are unique per run; `destroy` removes everything even after a failed test.
 */
export interface NetnsCluster {
  readonly access: NetnsNodeAccess;
  readonly nodes: readonly string[];
  readonly ips: Readonly<Record<string, string>>;
  readonly namespaces: Readonly<Record<string, string>>;
  /** A tmpfs of 16 MiB mounted for this run. */
  readonly disk: string;
  /** A TCP server in `node`'s namespace on `port` that accepts and closes connections. */
  serve(node: string, port: number): Promise<void>;
  /** Runs a Node.js script inside `node`'s namespace and returns its stdout. */
  nodeScript(node: string, script: string, ...args: string[]): Promise<string>;
  destroy(): Promise<void>;
}

async function sh(...argv: string[]): Promise<void> {
  const r = await runCommand(argv);
  if (r.exitCode !== 0) throw new Error(`\`${argv.join(' ')}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
}

/** Why netns tests cannot run here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  const probe = `gdprobe${randomBytes(3).toString('hex')}`;
  const added = await runCommand(['ip', 'netns', 'add', probe]);
  if (added.exitCode !== 0) return `network namespaces are not permitted here (\`ip netns add\` said: ${added.stderr.trim() || `exit ${added.exitCode}`}); run as root on Linux`;
  await runCommand(['ip', 'netns', 'del', probe]);
  for (const tool of ['iptables', 'tc']) {
    const r = await runCommand([tool, '-V']);
    if (r.exitCode === 127) return `${tool} is not installed`;
  }
  return undefined;
}

export async function createNetnsCluster(): Promise<NetnsCluster> {
  const tag = randomBytes(3).toString('hex');
  const nodes = ['node-a', 'node-b', 'node-c'];
  const sw = `gd${tag}sw`;
  const namespaces: Record<string, string> = {};
  const ips: Record<string, string> = {};
  const servers: ChildProcess[] = [];
  let disk: string | undefined;
  let mounted = false;
  const created: string[] = [];

  const destroy = async (): Promise<void> => {
    for (const s of servers) s.kill('SIGKILL');
    for (const ns of created.reverse()) await runCommand(['ip', 'netns', 'del', ns]);
    if (mounted && disk) await runCommand(['umount', disk]);
    if (disk) await rm(disk, { recursive: true, force: true });
  };

  try {
    await sh('ip', 'netns', 'add', sw);
    created.push(sw);
    await sh('ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await sh('ip', '-n', sw, 'link', 'set', 'br0', 'up');
    for (const [i, node] of nodes.entries()) {
      const ns = `gd${tag}n${i}`;
      await sh('ip', 'netns', 'add', ns);
      created.push(ns);
      namespaces[node] = ns;
      ips[node] = `10.123.0.${i + 1}`;
      // Made inside the node's namespace, so no name is taken on the host even for a moment.
      await sh('ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `port${i}`, 'netns', sw);
      await sh('ip', '-n', ns, 'addr', 'add', `${ips[node]}/24`, 'dev', 'eth0');
      await sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
      await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
      await sh('ip', '-n', sw, 'link', 'set', `port${i}`, 'master', 'br0');
      await sh('ip', '-n', sw, 'link', 'set', `port${i}`, 'up');
    }
    disk = await mkdtemp(path.join(tmpdir(), 'gameday-disk-'));
    await sh('mount', '-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk);
    mounted = true;
  } catch (err) {
    await destroy();
    throw err;
  }

  const nodeScript = (node: string, script: string, ...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', namespaces[node]!, process.execPath, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`script in ${node} exited ${code}: ${err.trim()}`))));
    });

  const serve = (node: string, port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const script = `require('node:net').createServer((s) => s.end()).listen(${port}, '0.0.0.0', () => console.log('listening'))`;
      const child = spawn('ip', ['netns', 'exec', namespaces[node]!, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(child);
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`server in ${node} exited ${code}`)));
      child.stdout.once('data', () => resolve());
    });

  return { access: new NetnsNodeAccess({ namespaces }), nodes, ips, namespaces, disk: disk!, serve, nodeScript, destroy };
}

/**
 * Opens `count` TCP connections at once from inside a node's namespace; returns how many were
 * established within `timeoutMs` and the connect times in ms of those that were.
 */
export const CONNECT_SCRIPT = `
const net = require('node:net');
const [host, port, count, timeoutMs] = process.argv.slice(1);
const attempts = Array.from({ length: Number(count) }, () => new Promise((resolve) => {
  const started = process.hrtime.bigint();
  const s = net.connect({ host, port: Number(port) });
  const t = setTimeout(() => { s.destroy(); resolve(undefined); }, Number(timeoutMs));
  s.on('connect', () => { clearTimeout(t); s.destroy(); resolve(Number(process.hrtime.bigint() - started) / 1e6); });
  s.on('error', () => { clearTimeout(t); resolve(undefined); });
}));
Promise.all(attempts).then((r) => console.log(JSON.stringify(r.filter((x) => x !== undefined))));
`;
