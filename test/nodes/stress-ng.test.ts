import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { readSnapshot } from '../../src/cluster/snapshot-read.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import { recoverRuns } from '../../src/engine/recover.js';
import { cpuStress } from '../../src/faults/stress/cpu-stress.js';
import { memoryStress } from '../../src/faults/stress/memory-stress.js';
import { usageToReach } from '../../src/faults/stress/stress-fault.js';
import type { FaultContext } from '../../src/faults/fault.js';
import { runCommand } from '../../src/nodes/command-runner.js';
import type { ExecResult, NodeAccess } from '../../src/nodes/node-access.js';
import { NetnsNodeAccess } from '../../src/nodes/netns-node-access.js';
import { ShellNodeAccess, StressNgMissingError, type ExecOptions } from '../../src/nodes/shell-node-access.js';
import { cpuWorkers, stressFileBase, stressNgArgv } from '../../src/nodes/stress-ng.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { createNetnsCluster, netnsUnavailable, type NetnsCluster } from './netns-fixture.js';

describe('stress-ng commands', () => {
  it('maps millicores to as few workers as carry them, each loaded evenly', () => {
    expect(cpuWorkers(1500)).to.deep.equal({ workers: 2, loadPercent: 75 });
    expect(cpuWorkers(500)).to.deep.equal({ workers: 1, loadPercent: 50 });
    expect(cpuWorkers(2000)).to.deep.equal({ workers: 2, loadPercent: 100 });
    expect(cpuWorkers(2001)).to.deep.equal({ workers: 3, loadPercent: 67 });
    expect(cpuWorkers(1)).to.deep.equal({ workers: 1, loadPercent: 1 });
    expect(() => cpuWorkers(0)).to.throw('more than 0 millicores');
  });

  it('always bounds a stress with --timeout, rounded up to whole seconds', () => {
    expect(stressNgArgv({ cpuMillicores: 1500 }, 125.2)).to.deep.equal(['stress-ng', '--cpu', '2', '--cpu-load', '75', '--timeout', '126s', '--quiet']);
    expect(stressNgArgv({ memoryBytes: 32 * 2 ** 20 }, 60)).to.deep.equal(['stress-ng', '--vm', '1', '--vm-bytes', '33554432b', '--vm-keep', '--timeout', '60s', '--quiet']);
  });

  it('counts a pod as stressed once its usage reaches nine tenths of the stress, or of its limit when the CFS quota caps it lower', () => {
    expect(usageToReach(1500, undefined)).to.equal(1350);
    expect(usageToReach(1500, 500)).to.equal(450);
  });

  it('asks RBAC for exec in the stressed pods\' namespace (stress-ng runs in their container), and for nothing on a node stress', () => {
    const pods = cpuStress.params.parse({ pods: { namespace: 'shop', labels: { app: 'web' } }, cpu: '500m' });
    const execs = (cpuStress.permissions?.(pods) ?? []).filter((x) => x.resource === 'pods/exec');
    expect(execs.map((x) => ({ verbs: x.verbs, namespace: x.namespace }))).to.deep.equal([{ verbs: ['get', 'create'], namespace: 'shop' }]);
    expect(memoryStress.permissions?.(memoryStress.params.parse({ nodes: { names: ['node-a'] }, memory: '32Mi' }))).to.deep.equal([]);
  });

  it('refuses an id that would not make a plain file name', () => {
    expect(stressFileBase('node-a', 'abc-shop-web-0')).to.equal('/tmp/gameday-stress-node-a-abc-shop-web-0');
    expect(() => stressFileBase('node-a', '../etc')).to.throw('a stress id is');
  });
});

/** Commands on this machine with a PATH that has the scripts' tools but not stress-ng: a node without it. */
class BareNode extends ShellNodeAccess {
  readonly provider = 'kind' as const;
  constructor(private readonly bin: string) {
    super();
  }
  exec(_node: string, argv: readonly string[], _options?: ExecOptions): Promise<ExecResult> {
    return runCommand(['env', `PATH=${this.bin}`, ...argv]);
  }
}

describe('a stress on a node without stress-ng', () => {
  let bin: string;
  before(async () => {
    bin = await mkdtemp(path.join(tmpdir(), 'gameday-bare-'));
    for (const tool of ['sh', 'rm', 'sleep', 'tail']) await symlink(`/bin/${tool}`, path.join(bin, tool));
  });
  after(() => rm(bin, { recursive: true, force: true }));

  it('fails with an error naming the node, the missing stress-ng and how to get it', async () => {
    const err = await new BareNode(bin).stress('kind-worker', { id: 'nostress1', cpuMillicores: 100 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(StressNgMissingError);
    expect((err as Error).message).to.match(/^node kind-worker has no stress-ng: kind node images have none; install it in each node container/);
  });
});

/** The processes whose parent is `pid`. */
async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) found.push(Number(entry));
  }
  return found;
}

/** CPU time (user + system, in clock ticks) a process has used: /proc/<pid>/stat fields 14 and 15. */
async function cpuTicks(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}

/** Reads until the value is as wanted; the test's timeout bounds the wait. */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('cpuStress and memoryStress of nodes, run for real with stress-ng in network namespaces', function () {
  this.timeout(30_000);
  let net: NetnsCluster | undefined;

  before(async function () {
    const why = (await netnsUnavailable()) ?? ((await runCommand(['stress-ng', '--version'])).exitCode === 127 ? 'stress-ng is not installed (apt-get install stress-ng)' : undefined);
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    net = await createNetnsCluster();
  });
  after(async () => {
    await net?.destroy();
  });

  const context = (access: NodeAccess, holdMs?: number): FaultContext => ({
    cluster: { ref: { kind: 'kubeconfig', name: 'netns' }, kubeConfig: new KubeConfig(), nodeAccess: access, snapshot: () => Promise.reject(new Error('not needed')), close: async () => {} } satisfies ClusterTarget,
    signal: new AbortController().signal,
    ...(holdMs !== undefined ? { holdMs } : {}),
    log: () => {},
    evidence: () => {},
  });

  /** The command line of the process whose pid is in `pidFile`. */
  const commandOf = async (pidFile: string): Promise<string[]> => {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  };

  /** The pid stress-ng's parent wrote for this stress, and whether it lives in the node's network namespace. */
  const stressPid = async (node: string, id: string): Promise<{ pid: number; inNode: boolean; argv: string[] }> => {
    const pid = Number((await readFile(`${stressFileBase(node, id)}.pid`, 'utf8')).trim());
    const [mine, nodes] = await Promise.all([stat(`/proc/${pid}/ns/net`), stat(`/run/netns/${net!.namespaces[node]}`)]);
    return { pid, inNode: mine.ino === nodes.ino, argv: await commandOf(`${stressFileBase(node, id)}.pid`) };
  };

  it('burns CPU in the node with stress-ng workers bounded by the hold, and stops them on revert', async () => {
    const ctx = context(net!.access, 5000);
    const params = cpuStress.params.parse({ nodes: { names: ['node-a'] }, cpu: '300m' });
    const targets = { id: 'cpu1', nodes: ['node-a'], pods: [] };
    const state = await cpuStress.inject(ctx, params, targets);
    try {
      const { pid, inNode, argv } = await stressPid('node-a', 'cpu1');
      expect(inNode, 'stress-ng runs in the node').to.equal(true);
      // The hold (5 s) plus the 2 min margin: a gameday killed now leaves it burning 125 s at most.
      expect(argv).to.deep.equal(['stress-ng', '--cpu', '1', '--cpu-load', '30', '--timeout', '125s', '--quiet']);
      const workers = await until(() => childrenOf(pid), (c) => c.length === 1);
      expect(workers).to.have.length(1);
      const ticks = await until(() => cpuTicks(workers[0]!), (t) => t > 0);
      expect(ticks).to.be.greaterThan(0);
      expect(await net!.access.isStressing('node-a', 'cpu1')).to.equal(true);
      expect(await net!.access.isStressing('node-b', 'cpu1'), 'node-b has no stress of that id').to.equal(false);
      const verified = await cpuStress.verify(ctx, params, targets, state);
      expect(verified).to.deep.equal({ landed: true, message: 'stress of 300m of CPU in place on node-a' });

      await cpuStress.revert(ctx, params, targets, state);
      expect(await net!.access.isStressing('node-a', 'cpu1')).to.equal(false);
      await until(() => childrenOf(pid), (c) => c.length === 0);
      expect(await readFile(`/proc/${pid}/stat`, 'utf8').then((s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3), () => 'gone')).to.be.oneOf(['Z', 'gone']);
    } finally {
      await cpuStress.revert(ctx, params, targets, undefined);
    }
  });

  it('holds the memory resident in one vm worker, and frees it on revert', async () => {
    const ctx = context(net!.access, 5000);
    const params = memoryStress.params.parse({ nodes: { names: ['node-b'] }, memory: '32Mi' });
    const targets = { id: 'mem1', nodes: ['node-b'], pods: [] };
    await memoryStress.inject(ctx, params, targets);
    try {
      const { pid, inNode, argv } = await stressPid('node-b', 'mem1');
      expect(inNode).to.equal(true);
      expect(argv).to.include.members(['--vm', '--vm-bytes', '33554432b', '--vm-keep', '--timeout', '125s']);
      const resident = async (): Promise<number> => {
        let sum = 0;
        for (const child of await childrenOf(pid)) sum += (await residentBytes(child)) + (await Promise.all((await childrenOf(child)).map(residentBytes))).reduce((a, b) => a + b, 0);
        return sum;
      };
      // stress-ng's vm worker maps the bytes and keeps writing them: nearly all of them are resident.
      expect(await until(resident, (b) => b >= 28 * 2 ** 20)).to.be.at.least(28 * 2 ** 20);
      expect(await net!.access.isStressing('node-b', 'mem1')).to.equal(true);
    } finally {
      await memoryStress.revert(ctx, params, targets, undefined);
    }
    expect(await net!.access.isStressing('node-b', 'mem1')).to.equal(false);
    await memoryStress.revert(ctx, params, targets, undefined);
  });

  it('ends a stress by itself once its time is up, so a killed gameday leaves nothing burning', async () => {
    await net!.access.stress('node-c', { id: 'short1', cpuMillicores: 50, maxDurationMs: 1000 });
    try {
      expect(await net!.access.isStressing('node-c', 'short1')).to.equal(true);
      const stillThere = await until(() => net!.access.isStressing('node-c', 'short1'), (s) => !s);
      expect(stillThere).to.equal(false);
    } finally {
      await net!.access.unstress('node-c', 'short1');
    }
  });

  describe('a run killed while it holds the stress, then gameday recover', () => {
    let sim: SimClients | undefined;
    let dir = '';
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'gameday-stress-killed-'));
      sim = await startSim();
    });
    after(async () => {
      await sim?.cluster.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('leaves a stress bounded by the hold the engine gave it (for: 1m → --timeout 180s), which recover stops from the journal', async () => {
      const worker = (await sim!.core.listNode()).items.map((n) => n.metadata!.name!).find((n) => !n.endsWith('control-plane'))!;
      // The sim's worker, reached in a namespace instead of through its node fault endpoint.
      const access = new NetnsNodeAccess({ namespaces: { [worker]: net!.namespaces['node-a']! } });
      const kubeconfig = path.join(dir, 'kubeconfig.yaml');
      await writeFile(kubeconfig, sim!.cluster.kubeconfigYaml());
      const runDir = path.join(dir, 'run');
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'stress-run-child.ts'), kubeconfig, runDir, worker, net!.namespaces['node-a']!], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      const id = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /^verified (\S+)$/m.exec(out);
          if (m) resolve(m[1]!);
        });
        void exited.then(() => reject(new Error(`the run ended before its stress was verified: ${stderr.trim()}`)));
      });
      child.kill('SIGKILL');
      expect(await exited).to.equal('SIGKILL');

      expect(await access.isStressing(worker, id), 'the stress outlives the killed run').to.equal(true);
      expect(await commandOf(`${stressFileBase(worker, id)}.pid`)).to.deep.equal(['stress-ng', '--cpu', '1', '--cpu-load', '20', '--timeout', '180s', '--quiet']);

      const target: ClusterTarget = { ref: { kind: 'kubeconfig', name: 'sim' }, kubeConfig: sim!.kubeConfig, nodeAccess: access, snapshot: () => readSnapshot(sim!.kubeConfig), close: async () => {} };
      const [result] = await recoverRuns([runDir], { registries: builtinRegistries(), connect: () => Promise.resolve(target) });
      expect(result).to.include({ status: 'reverted' });
      expect(result!.reverted).to.deep.equal(['f0']);
      expect(await access.isStressing(worker, id)).to.equal(false);
    });
  });

  it('fails the inject with stress-ng\'s own words when it cannot start', async () => {
    const err = await net!.access.stress('node-c', { id: 'bad1', memoryBytes: 2 ** 50, maxDurationMs: 5000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.match(/^on node node-c, `stress-ng --vm 1 --vm-bytes 1125899906842624b .*` exited 1: stress-ng ended at once/);
    expect(await net!.access.isStressing('node-c', 'bad1')).to.equal(false);
  });
});
