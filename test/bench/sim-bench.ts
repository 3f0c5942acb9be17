import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdir, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Embedded cluster scale benchmark: boot N nodes, run P pods through Deployments created over the
 * API, and measure settle time (wall and CPU), memory, a full LIST of pods (first and again, from a
 * client in another process, with the server's CPU) and a watch fan-out to 10 watchers. Each size runs in a process of its own, so its RSS and heap are its own; with more
 * than one size the file also holds each size's settle time and CPU as a ratio to the first's.
 * The cluster is the compiled one in dist/ (built first), as `gameday` runs it: under tsx every
 * closure carries a defined `name` (esbuild's keepNames), which puts 25,000 pods' closures in
 * dictionary mode and made RSS about 70 MiB larger than the product's. `--src` measures the
 * TypeScript sources through tsx instead.
 * Run: npx tsx --expose-gc test/bench/sim-bench.ts [--src] [nodes:pods ...]   (default 100:5000 500:25000)
 */
interface Result {
  readonly nodes: number;
  readonly pods: number;
  readonly bootMs: number;
  readonly settleMs: number;
  /** User + system CPU of the whole process while the pods settled. */
  readonly cpuMs: number;
  readonly rssMiB: number;
  /** Heap in use after a full GC (when run with --expose-gc), once every pod is available; RSS is read then too. */
  readonly heapMiB: number;
  /** A LIST of every pod from the client's side (a client in another process), the first after the pods settled. */
  readonly listAllPodsMs: number;
  /** CPU of this process (the server, with the cluster's own background work) during that LIST. */
  readonly listAllPodsServerCpuMs: number;
  /** The median of three more LISTs of every pod, the server's copies of the pods' JSON now made. */
  readonly relistAllPodsMs: number;
  readonly relistAllPodsServerCpuMs: number;
  /** The cluster's own CPU per second while nobody asks anything: part of each figure above. */
  readonly idleCpuMsPerS: number;
  readonly listBytes: number;
  /** RSS and heap in use after the LISTs (and a full GC): with the JSON the server keeps of each pod. */
  readonly rssAfterListMiB: number;
  readonly heapAfterListMiB: number;
  readonly watchFanOutMs: number;
}

async function run(nodes: number, pods: number, from: 'dist' | 'src'): Promise<Result> {
  const modulePath = from === 'dist' ? '../../dist/sim/index.js' : '../../src/sim/index.js';
  const { startEmbeddedCluster } = (await import(pathToFileURL(fileURLToPath(new URL(modulePath, import.meta.url))).href)) as typeof import('../../src/sim/index.js');
  const t0 = Date.now();
  // Without kind's kube-system (two DaemonSet pods per node): the figures are the workload's pods, comparable with earlier runs.
  const cluster = await startEmbeddedCluster({ workers: nodes, kubeSystem: false, timings: { containerStartMs: 50, nodeLeaseRenewMs: 10_000, nodeStatusUpdateMs: 60_000 } });
  const bootMs = Date.now() - t0;
  const kc = new k8s.KubeConfig();
  kc.loadFromString(cluster.kubeconfigYaml());
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const perDeployment = 100;
  const t1 = Date.now();
  const cpu1 = process.cpuUsage();
  for (let i = 0; i < pods / perDeployment; i++) {
    await apps.createNamespacedDeployment({ namespace: 'default', body: {
      metadata: { name: `app-${i}` },
      spec: { replicas: perDeployment, selector: { matchLabels: { app: `app-${i}` } }, template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'c', image: 'gameday/web:1', ports: [{ containerPort: 8080 }] }] } } },
    } });
  }
  for (;;) {
    let ready = 0;
    for (const d of cluster.store.list('deployments.apps')) ready += ((d.status as { availableReplicas?: number } | undefined)?.availableReplicas) ?? 0;
    if (ready >= pods) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const settleMs = Date.now() - t1;
  const cpuMs = cpuMsSince(cpu1);
  // A full GC, and a moment for its sweeping to hand emptied pages back, so RSS is what the pods hold.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((r) => setTimeout(r, 200));
  gc?.();
  const mem = process.memoryUsage();
  const idle = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 2000));
  const idleCpuMsPerS = Math.round(cpuMsSince(idle) / 2);
  const client = await OutsideClient.start(`${cluster.url}/api/v1/pods`);
  const first = await client.list();
  const again = [await client.list(), await client.list(), await client.list()].sort((a, b) => a.serverCpuMs - b.serverCpuMs)[1]!;
  client.stop();
  gc?.();
  await new Promise((r) => setTimeout(r, 200));
  gc?.();
  const afterList = process.memoryUsage();
  const rssAfterListMiB = Math.round(afterList.rss / 2 ** 20);
  const heapAfterListMiB = Math.round(afterList.heapUsed / 2 ** 20);

  const watchers = await Promise.all(Array.from({ length: 10 }, async () => {
    const ac = new AbortController();
    const res = await fetch(`${cluster.url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${cluster.store.resourceVersion}`, { signal: ac.signal });
    const reader = res.body!.getReader();
    let seen = 0;
    const done = (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      while (seen < 100) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += decoder.decode(value, { stream: true });
        const lines = buf.split('\n');
        buf = lines.pop()!;
        seen += lines.filter(Boolean).length;
      }
    })();
    return { ac, done };
  }));
  const t3 = Date.now();
  await apps.patchNamespacedDeploymentScale({ namespace: 'default', name: 'app-0', body: [{ op: 'replace', path: '/spec/replicas', value: 200 }] });
  await Promise.all(watchers.map((w) => w.done));
  const watchFanOutMs = Date.now() - t3;
  for (const w of watchers) w.ac.abort();
  await cluster.stop();
  return { nodes, pods, bootMs, settleMs, cpuMs, rssMiB: Math.round(mem.rss / 2 ** 20), heapMiB: Math.round(mem.heapUsed / 2 ** 20), listAllPodsMs: first.ms, listAllPodsServerCpuMs: first.serverCpuMs, relistAllPodsMs: again.ms, relistAllPodsServerCpuMs: again.serverCpuMs, idleCpuMsPerS, listBytes: first.bytes, rssAfterListMiB, heapAfterListMiB, watchFanOutMs };
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return Math.round((c.user + c.system) / 1000);
}

/**
 * GETs a URL from a child process on request, so that the CPU this process spends meanwhile is
 * the server's (reading 57 MB in the same process would count the client's parsing as the server's).
 */
class OutsideClient {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async start(url: string): Promise<OutsideClient> {
    const script = `
      const http = require('node:http');
      require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
        const t0 = performance.now();
        http.get(${JSON.stringify(url)}, (res) => {
          let bytes = 0;
          res.on('data', (c) => (bytes += c.length));
          res.on('end', () => console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), bytes })));
        });
      });
      console.log('ready');`;
    const client = new OutsideClient(spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
    await client.lines.next();
    return client;
  }

  async list(): Promise<{ ms: number; bytes: number; serverCpuMs: number }> {
    const cpu = process.cpuUsage();
    this.child.stdin.write('go\n');
    const line = await this.lines.next();
    return { ...(JSON.parse(line.value as string) as { ms: number; bytes: number }), serverCpuMs: cpuMsSince(cpu) };
  }

  stop(): void {
    this.child.kill();
  }
}

const args = process.argv.slice(2);
const from = args.includes('--src') ? 'src' : 'dist';
const sizeArgs = args.filter((a) => a !== '--src');
if (sizeArgs[0] === '--one') {
  // A child run of one size: its result is the last line of stdout.
  const [nodes, pods] = sizeArgs[1]!.split(':').map(Number) as [number, number];
  console.log(JSON.stringify(await run(nodes, pods, from)));
} else {
  if (from === 'dist') await execa('npm', ['run', 'build'], { stdout: 'ignore', stderr: 'inherit' });
  const sizes = (sizeArgs.length ? sizeArgs : ['100:5000', '500:25000']).map((s) => s.split(':').map(Number) as [number, number]);
  const results: Result[] = [];
  for (const [nodes, pods] of sizes) {
    const child = await execa(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...(from === 'src' ? ['--src'] : []), '--one', `${nodes}:${pods}`], { stderr: 'inherit' });
    const r = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Result;
    console.log(JSON.stringify(r));
    results.push(r);
  }
  const first = results[0]!;
  const ratios = results.slice(1).map((r) => ({
    of: `${r.pods}/${first.pods} pods`,
    pods: r.pods / first.pods,
    settle: Number((r.settleMs / first.settleMs).toFixed(2)),
    cpu: Number((r.cpuMs / first.cpuMs).toFixed(2)),
  }));
  if (ratios.length) console.log(JSON.stringify({ ratios }));
  await mkdir('reports/bench', { recursive: true });
  const name = sizes.map(([n, p]) => `${n}x${p}`).join('+');
  await writeFile(`reports/bench/sim-${name}.json`, JSON.stringify({ at: new Date().toISOString(), node: process.version, from, results, ...(ratios.length ? { ratios } : {}) }, null, 2) + '\n');
}
