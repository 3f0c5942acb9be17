import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildControlPlane } from '../../src/control-plane/build.js';
import { locateControlPlane } from '../../src/control-plane/locate.js';
import { startRealControlPlane } from '../../src/control-plane/real-control-plane.js';
import { runCommand } from '../../src/nodes/command-runner.js';
import { startRealCluster } from '../control-plane/real-cluster.js';

/**
 * The real control plane's costs: a cold build (only with --cold: empty Go caches in a temporary
 * directory, about 12 minutes), the recorded build in the cache, a cached start to all four
 * components healthy (median of 3), and each component's resident memory, idle and with 300 pods.
 * Writes reports/bench/control-plane.json.
 * Run: npx tsx test/bench/control-plane-bench.ts [--cold]
 */
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function componentMemory(namespace: string): Promise<Record<string, number>> {
  const pids = (await runCommand(['ip', 'netns', 'pids', namespace])).stdout.split(/\s+/).filter(Boolean);
  const out: Record<string, number> = {};
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const process = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? pid;
    // The one Node.js process in the namespace is gameday's node side (kubelets, runtime, data plane).
    const name = process === 'node' ? 'node-side' : process;
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    out[name] = Math.round(kb / 1024);
  }
  return out;
}

async function coldBuild(): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gameday-cold-build-'));
  try {
    const env = { ...process.env, GOCACHE: path.join(dir, 'go-build'), GOMODCACHE: path.join(dir, 'go-mod'), GAMEDAY_CACHE_DIR: path.join(dir, 'cache') };
    const r = await buildControlPlane({ env, force: true, progress: (l) => console.log(l) });
    return r.seconds;
  } finally {
    await runCommand(['chmod', '-R', 'u+w', dir]);
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const binaries = locateControlPlane();
  const record = await readFile(path.join(path.dirname(binaries.paths.etcd), 'build.json'), 'utf8').then((t) => JSON.parse(t) as { seconds: number; go: string }, () => undefined);
  const cold = process.argv.includes('--cold') ? await coldBuild() : undefined;

  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const cp = await startRealControlPlane({ binaries });
    starts.push(Date.now() - t0);
    await cp.stop();
  }
  console.log(`cached start (all four healthy): ${starts.map((ms) => `${ms} ms`).join(', ')}`);

  const t0Nodes = Date.now();
  // With gameday's four nodes joined and Ready, and the default service account made: ready for pods.
  const cluster = await startRealCluster();
  const startWithNodesMs = Date.now() - t0Nodes;
  const ns = cluster.controlPlane.network.namespace;
  await new Promise((r) => setTimeout(r, 5000));
  const idle = await componentMemory(ns);
  await cluster.core.createNamespace({ body: { metadata: { name: 'load' } } });
  for (let i = 0; i < 10; i++) {
    await cluster.apps.createNamespacedDeployment({
      namespace: 'load',
      body: { metadata: { name: `d${i}` }, spec: { replicas: 30, selector: { matchLabels: { app: `d${i}` } }, template: { metadata: { labels: { app: `d${i}` } }, spec: { containers: [{ name: 'c', image: 'gameday/web:1' }] } } } },
    });
  }
  const t0 = Date.now();
  for (;;) {
    const pods = await cluster.core.listNamespacedPod({ namespace: 'load' });
    if (pods.items.filter((p) => p.status?.phase === 'Running').length === 300) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const settleMs = Date.now() - t0;
  const loaded = await componentMemory(ns);
  await cluster.stop();

  const result = {
    benchmark: 'control-plane',
    binaries: binaries.source,
    recordedBuildSeconds: record?.seconds,
    recordedBuildGo: record?.go,
    coldBuildSeconds: cold,
    cachedStartMs: starts,
    cachedStartMedianMs: median(starts),
    startWithNodesMs,
    rssMiBIdle: idle,
    rssMiBWith300Pods: loaded,
    settle300PodsMs: settleMs,
  };
  await mkdir('reports/bench', { recursive: true });
  await writeFile('reports/bench/control-plane.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
  console.log('wrote reports/bench/control-plane.json');
}

await main();
