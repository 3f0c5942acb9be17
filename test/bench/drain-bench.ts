import * as k8s from '@kubernetes/client-node';
import { execa } from 'execa';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSnapshot } from '../../src/cluster/snapshot-read.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import { SeededRandom } from '../../src/core/rng.js';
import { nodeDrain } from '../../src/faults/node-drain.js';
import { startEmbeddedCluster } from '../../src/sim/index.js';
import { startRealCluster } from '../../src/control-plane/real-cluster.js';
import { recordingContext } from '../faults/api-fixture.js';
import { watchHealthy, type HealthyWatch } from '../support/healthy-watch.js';
import { podDisruptionBudget, webDeployment } from '../support/kube-objects.js';

/**
 * gameday's nodeDrain against `kubectl drain` on the same embedded cluster: 60 pods of three
 * Deployments (20 each, budgets maxUnavailable 1) on one node, drained to the other, alternating
 * tools round by round. Each drain is watched: ready pods must never fall below a budget's
 * desired healthy (19). Also measures the ideal schedule: 20 replacements in a row, each as long
 * as the median time for a deleted pod's replacement to be ready, and gives both tools' time as a
 * ratio to it. Writes reports/bench/drain.json.
 * With `real`, the same on upstream Kubernetes (the real control plane with gameday's own two
 * workers joined, as `--control-plane real` runs it): writes reports/bench/drain-real.json.
 * Run: npx tsx test/bench/drain-bench.ts [rounds per tool, default 2] [embedded|real]
 */
const NS = 'default';
const APPS = ['alpha', 'beta', 'gamma'];
const REPLICAS = 20;
const DESIRED_HEALTHY = REPLICAS - 1;
const REPLACEMENT_SAMPLES = 5;

interface Round {
  readonly tool: 'gameday' | 'kubectl';
  readonly node: string;
  readonly ms: number;
  /** Evictions refused by a budget (gameday: counted; kubectl: its "will retry after 5s" lines). */
  readonly refusals: number;
  readonly lowestHealthy: Readonly<Record<string, number>>;
  readonly budgetViolated: boolean;
}

const strategicMerge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const roundsPerTool = Number(process.argv[2] ?? 2);
  const backend = process.argv[3] === 'real' ? 'real' : 'embedded';
  const cluster = backend === 'real' ? await startRealCluster({ workers: 2 }) : await startEmbeddedCluster({ workers: 2 });
  const dir = await mkdtemp(path.join(tmpdir(), 'gameday-drain-bench-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  const kc = new k8s.KubeConfig();
  await cluster.writeKubeconfig(kubeconfigPath);
  kc.loadFromString(cluster.kubeconfigYaml());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const policy = kc.makeApiClient(k8s.PolicyV1Api);
  const target: ClusterTarget = { ref: { kind: 'embedded', name: 'gameday-sim' }, kubeConfig: kc, snapshot: () => readSnapshot(kc), close: async () => {} };
  const [a, b] = ['gameday-worker', 'gameday-worker2'];
  const setSchedulable = (name: string, schedulable: boolean) => core.patchNode({ name, body: { spec: { unschedulable: schedulable ? null : true } } }, strategicMerge);

  /**
   * From the delete of one pod of `app` (graceful, as an eviction deletes it) until the app has
   * REPLICAS healthy pods again (Ready and not terminating, as its budget counts them), watched, not polled.
   */
  const replacementReady = async (app: string): Promise<number> => {
    const watch = await watchHealthy(kc, NS, `app=${app}`);
    try {
      const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
      const t0 = performance.now();
      await core.deleteNamespacedPod({ namespace: NS, name: pods[0]!.metadata!.name! });
      while (watch.lowest() === REPLICAS) await sleep(5);
      while (watch.current() < REPLICAS) await sleep(5);
      return Math.round(performance.now() - t0);
    } finally {
      watch.stop();
    }
  };

  /** All 60 pods ready on `node`, and every budget settled with room for one disruption. */
  const settledOn = async (node: string): Promise<void> => {
    for (;;) {
      const pods = (await core.listNamespacedPod({ namespace: NS })).items.filter((p) => !p.metadata?.deletionTimestamp);
      const ready = pods.filter((p) => p.spec?.nodeName === node && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      const budgets = (await policy.listNamespacedPodDisruptionBudget({ namespace: NS })).items;
      if (pods.length === APPS.length * REPLICAS && ready.length === pods.length && budgets.every((x) => x.status?.disruptionsAllowed === 1)) return;
      await sleep(250);
    }
  };

  try {
    await setSchedulable(b, false);
    for (const app of APPS) {
      await apps.createNamespacedDeployment({ namespace: NS, body: webDeployment(app, REPLICAS, { grace: 1 }) });
      await policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: podDisruptionBudget(app, { maxUnavailable: 1 }) });
    }
    await settledOn(a);

    // The ideal schedule: with maxUnavailable 1 each budget lets one pod go at a time, the next only
    // once its replacement is ready, so a drain needs REPLICAS replacements in a row (the three apps in parallel).
    const replacementMs: number[] = [];
    // Measured while the other node is still cordoned, so each replacement starts where the drain's would.
    for (let i = 0; i < REPLACEMENT_SAMPLES; i++) {
      replacementMs.push(await replacementReady(APPS[i % APPS.length]!));
      await settledOn(a);
    }
    await setSchedulable(b, true);
    const replacementReadyMs = median(replacementMs);
    console.log(`replacement ready in ${replacementMs.join(', ')} ms: median ${replacementReadyMs} ms, so the ideal drain is ${REPLICAS} × ${replacementReadyMs} ms = ${((REPLICAS * replacementReadyMs) / 1000).toFixed(1)} s`);

    const rounds: Round[] = [];
    let from = a;
    for (let i = 0; i < 2 * roundsPerTool; i++) {
      const tool = i % 2 === 0 ? 'gameday' : 'kubectl';
      const to = from === a ? b : a;
      const watches = new Map<string, HealthyWatch>();
      for (const app of APPS) watches.set(app, await watchHealthy(kc, NS, `app=${app}`));
      const t0 = Date.now();
      let refusals = 0;
      if (tool === 'gameday') {
        const params = nodeDrain.params.parse({ nodes: { names: [from] }, timeout: '10m' });
        const planned = nodeDrain.plan(params, { snapshot: await target.snapshot(), rng: new SeededRandom(1) });
        const ctx = recordingContext(target);
        const state = await nodeDrain.inject(ctx, params, planned.targets);
        const verdict = await nodeDrain.verify(ctx, params, planned.targets, state);
        if (!verdict.landed) throw new Error(`gameday drain did not land: ${verdict.message}`);
        refusals = state.refusals;
      } else {
        const r = await execa('kubectl', ['drain', from, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=10m'], {
          env: { KUBECONFIG: kubeconfigPath, KUBECACHEDIR: path.join(dir, 'kube-cache') },
          all: true,
        });
        refusals = (r.all?.match(/will retry after 5s/g) ?? []).length;
      }
      const ms = Date.now() - t0;
      const lowestHealthy = Object.fromEntries([...watches].map(([app, w]) => [app, w.lowest()]));
      for (const w of watches.values()) w.stop();
      const round: Round = { tool, node: from, ms, refusals, lowestHealthy, budgetViolated: Object.values(lowestHealthy).some((n) => n < DESIRED_HEALTHY) };
      rounds.push(round);
      console.log(`${tool.padEnd(8)} drained ${from} in ${(ms / 1000).toFixed(1)}s, ${refusals} refusals, lowest healthy ${JSON.stringify(lowestHealthy)}${round.budgetViolated ? '  BUDGET VIOLATED' : ''}`);
      await settledOn(to);
      await setSchedulable(from, true);
      from = to;
    }

    const gameday = median(rounds.filter((r) => r.tool === 'gameday').map((r) => r.ms));
    const kubectl = median(rounds.filter((r) => r.tool === 'kubectl').map((r) => r.ms));
    const idealMs = REPLICAS * replacementReadyMs;
    const result = {
      benchmark: backend === 'real' ? 'drain-real' : 'drain',
      setup: { backend, pods: APPS.length * REPLICAS, deployments: APPS.length, budget: 'maxUnavailable: 1', desiredHealthy: DESIRED_HEALTHY, workers: 2, terminationGracePeriodSeconds: 1 },
      rounds,
      gamedayMedianMs: gameday,
      kubectlMedianMs: kubectl,
      speedup: Number((kubectl / gameday).toFixed(2)),
      ideal: {
        how: `${REPLICAS} sequential replacements (maxUnavailable 1, the apps in parallel) × the median time from deleting one pod to its replacement being ready`,
        replacementReadyMs: replacementMs,
        replacementReadyMedianMs: replacementReadyMs,
        sequentialReplacements: REPLICAS,
        idealMs,
        gamedayToIdeal: Number((gameday / idealMs).toFixed(2)),
        kubectlToIdeal: Number((kubectl / idealMs).toFixed(2)),
      },
      budgetEverViolated: rounds.some((r) => r.budgetViolated),
    };
    await mkdir('reports/bench', { recursive: true });
    await writeFile(`reports/bench/${result.benchmark}.json`, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`gameday median ${(gameday / 1000).toFixed(1)}s, kubectl median ${(kubectl / 1000).toFixed(1)}s: ${result.speedup}x faster; budget ever violated: ${result.budgetEverViolated}`);
    console.log(`ideal ${(idealMs / 1000).toFixed(1)}s: gameday ${result.ideal.gamedayToIdeal}× the ideal, kubectl ${result.ideal.kubectlToIdeal}×`);
    console.log(`wrote reports/bench/${result.benchmark}.json`);
  } finally {
    await cluster.stop();
  }
}

await main();
