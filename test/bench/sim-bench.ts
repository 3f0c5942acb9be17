import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startEmbeddedCluster } from '../../src/sim/index.js';

/**
 * Embedded cluster scale benchmark: boot N nodes, run P pods through Deployments created over the
 * API, and measure settle time (wall and CPU), memory, a full LIST of pods and a watch fan-out to
 * 10 watchers. Each size runs in a process of its own, so its RSS and heap are its own; with more
 * than one size the file also holds each size's settle time and CPU as a ratio to the first's.
 * Run: npx tsx --expose-gc test/bench/sim-bench.ts [nodes:pods ...]   (default 100:5000 500:25000)
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
  readonly listAllPodsMs: number;
  /** CPU of that LIST, server and client together (both run in this process): wall time on a busy machine is mostly waiting. */
  readonly listAllPodsCpuMs: number;
  readonly listBytes: number;
  readonly watchFanOutMs: number;
}

async function run(nodes: number, pods: number): Promise<Result> {
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
  const cpu = process.cpuUsage(cpu1);
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  // A full GC, and a moment for its sweeping to hand emptied pages back, so RSS is what the pods hold.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((r) => setTimeout(r, 200));
  gc?.();
  const mem = process.memoryUsage();
  const t2 = Date.now();
  const cpu2 = process.cpuUsage();
  const list = await fetch(`${cluster.url}/api/v1/pods`);
  const listBytes = (await list.arrayBuffer()).byteLength;
  const listAllPodsMs = Date.now() - t2;
  const listCpu = process.cpuUsage(cpu2);
  const listAllPodsCpuMs = Math.round((listCpu.user + listCpu.system) / 1000);

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
  return { nodes, pods, bootMs, settleMs, cpuMs, rssMiB: Math.round(mem.rss / 2 ** 20), heapMiB: Math.round(mem.heapUsed / 2 ** 20), listAllPodsMs, listAllPodsCpuMs, listBytes, watchFanOutMs };
}

const args = process.argv.slice(2);
if (args[0] === '--one') {
  // A child run of one size: its result is the last line of stdout.
  const [nodes, pods] = args[1]!.split(':').map(Number) as [number, number];
  console.log(JSON.stringify(await run(nodes, pods)));
} else {
  const sizes = (args.length ? args : ['100:5000', '500:25000']).map((s) => s.split(':').map(Number) as [number, number]);
  const results: Result[] = [];
  for (const [nodes, pods] of sizes) {
    const child = await execa(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', `${nodes}:${pods}`], { stderr: 'inherit' });
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
  await writeFile(`reports/bench/sim-${name}.json`, JSON.stringify({ at: new Date().toISOString(), node: process.version, results, ...(ratios.length ? { ratios } : {}) }, null, 2) + '\n');
}
