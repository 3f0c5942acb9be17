import { CoreV1Api, CoordinationV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RetryingKubeConfig } from '../../src/cluster/retrying-http.js';
import { startEmbeddedCluster, parseApiFaults, type EmbeddedCluster } from '../../src/sim/index.js';

/**
 * Every fault kind gameday ships, run by the real CLI against embedded clusters whose API server
 * fails a share of requests (`apiFaults`, 10% by default: 500, 503, 429, timeouts, resets, ended
 * watches, 410 on re-watch). One cluster per fault kind, the runs spread evenly over the kinds.
 * Per run it records the exit code, the verdict against the expected one, what the run left
 * behind (the cluster's state before and after, compared: nodes' unschedulable and taints,
 * NetworkPolicies, namespaces, pods, gameday-labelled objects, node faults still applied, the run
 * lock) and any unhandled rejection on stderr. Writes reports/bench/api-faults.json.
 * Run (after npm run build): npx tsx test/bench/api-fault-bench.ts [runs, default 52] [rate, default 0.1]
 */
const CLI = path.resolve('dist/cli/main.js');
const WORKLOAD = path.resolve('experiments/workloads/web-cache.yaml');
const WEB = '{ namespace: shop, labels: { app: web } }';
const ZONE_A = '{ labels: { topology.kubernetes.io/zone: a } }';

/** One small experiment per fault kind, each sound on a healthy cluster: every one should pass. */
const KINDS: readonly { readonly kind: string; readonly fault: string }[] = [
  { kind: 'podKill', fault: `{ at: 1s, podKill: { pods: ${WEB}, count: 1 } }` },
  { kind: 'nodeDrain', fault: `{ at: 1s, nodeDrain: { nodes: ${ZONE_A}, count: 1, timeout: 40s, deleteEmptyDirData: true } }` },
  { kind: 'nodeCordon', fault: `{ at: 1s, for: 3s, nodeCordon: { nodes: ${ZONE_A} } }` },
  { kind: 'nodeTaint', fault: `{ at: 1s, for: 3s, nodeTaint: { nodes: ${ZONE_A}, taint: { key: gameday.dev/maintenance, effect: NoSchedule } } }` },
  { kind: 'networkPartition', fault: `{ at: 1s, for: 3s, networkPartition: { pods: ${WEB}, count: 1 } }` },
  { kind: 'networkLatency', fault: `{ at: 1s, for: 3s, networkLatency: { nodes: ${ZONE_A}, delay: 50ms } }` },
  { kind: 'packetLoss', fault: `{ at: 1s, for: 3s, packetLoss: { nodes: ${ZONE_A}, loss: 10% } }` },
  { kind: 'diskFill', fault: `{ at: 1s, for: 3s, diskFill: { pods: ${WEB}, path: /var/cache/web, fill: 80% } }` },
  { kind: 'nodeStop', fault: `{ at: 1s, for: 4s, nodeStop: { nodes: ${ZONE_A}, notReadyWithin: 20s, readyTimeout: 60s } }` },
  { kind: 'containerKill', fault: `{ at: 1s, containerKill: { pods: ${WEB} } }` },
  { kind: 'memoryStress', fault: `{ at: 1s, for: 3s, memoryStress: { pods: ${WEB}, memory: 32Mi } }` },
  { kind: 'cpuStress', fault: `{ at: 1s, for: 3s, cpuStress: { pods: ${WEB}, cpu: 200m } }` },
  { kind: 'zoneOutage', fault: '{ at: 1s, for: 4s, zoneOutage: { zone: c, mode: stop, notReadyWithin: 20s, readyTimeout: 60s } }' },
];

/** Node timings shrunk as the tests shrink them, so a stopped node is noticed in seconds. */
const TIMINGS = { nodeMonitorGracePeriodMs: 3000, nodeMonitorPeriodMs: 500, nodeLeaseDurationMs: 3000, nodeLeaseRenewMs: 500, nodeStatusUpdateMs: 500, defaultTolerationSeconds: 60 };

function experimentYaml(name: string, fault: string): string {
  return [
    'apiVersion: gameday/v1',
    'kind: Experiment',
    `metadata: { name: ${name} }`,
    'spec:',
    '  workloads: [web-cache.yaml]',
    '  duration: 6s',
    '  blastRadius: { maxPodPercent: 100, allowZoneOutage: true }',
    '  steadyState: { checks: [ "ready(deployment/shop/web) >= 3" ], recoverWithin: 45s }',
    '  probes:',
    '    web: { http: { service: shop/web:80, path: /, rate: 20/s, timeout: 1s } }',
    '  faults:',
    `    - ${fault}`,
    '  slos: [ "pdb(shop/web) holds", "availability(web) >= 50%" ]',
    '',
  ].join('\n');
}

interface RunRecord {
  readonly faultKind: string;
  readonly run: number;
  readonly exitCode: number | undefined;
  readonly verdict: string;
  readonly expectedVerdict: 'passed';
  readonly reason: string;
  readonly leftovers: readonly string[];
  readonly unhandledRejection: boolean;
  readonly wallMs: number;
  readonly apiFaultsDuringRun: number;
}

/** What a run must leave as it found it, one line per fact, so before and after compare as sets. */
async function clusterState(kc: RetryingKubeConfig, cluster: EmbeddedCluster): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const facts: string[] = [];
  for (const node of (await core.listNode()).items) {
    const name = node.metadata!.name!;
    facts.push(`node ${name} unschedulable=${node.spec?.unschedulable === true}`);
    for (const t of node.spec?.taints ?? []) facts.push(`node ${name} taint ${t.key}:${t.effect}`);
    for (const key of Object.keys(node.metadata?.labels ?? {}).filter((k) => k.startsWith('gameday'))) facts.push(`node ${name} label ${key}`);
    for (const f of cluster.nodeFaults.list(name)) facts.push(`node ${name} node fault ${f.type} ${f.id}`);
  }
  for (const p of (await kc.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces()).items) facts.push(`networkpolicy ${p.metadata!.namespace}/${p.metadata!.name}`);
  for (const ns of (await core.listNamespace()).items) facts.push(`namespace ${ns.metadata!.name}`);
  const pods = (await core.listPodForAllNamespaces()).items;
  facts.push(`pods ${pods.length}`);
  for (const p of pods) {
    for (const key of Object.keys(p.metadata?.labels ?? {}).filter((k) => k.startsWith('gameday'))) facts.push(`pod ${p.metadata!.namespace}/${p.metadata!.name} label ${key}`);
  }
  const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'kube-system', name: 'gameday-run-lock' }).catch(() => undefined);
  // No lease and a released one both mean nobody holds the lock.
  const released = !lease || Boolean(lease.metadata?.annotations?.['gameday.dev/released-at']);
  facts.push(`run lock held by ${released ? 'nobody' : (lease.spec?.holderIdentity ?? 'nobody')}`);
  return facts.sort();
}

/** What differs after the run, once the cluster has had time to settle (a restarted node to turn Ready, a namespace to go). */
async function leftoversAfter(before: readonly string[], kc: RetryingKubeConfig, cluster: EmbeddedCluster): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const after = await clusterState(kc, cluster);
    const diff = [...before.filter((f) => !after.includes(f)).map((f) => `gone: ${f}`), ...after.filter((f) => !before.includes(f)).map((f) => `new: ${f}`)];
    if (diff.length === 0 || Date.now() > deadline) return diff;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const totalFaults = (cluster: EmbeddedCluster): number => Object.values(cluster.apiFaultCounts() ?? {}).reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 52);
  const rate = Number(process.argv[3] ?? 0.1);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs ${process.argv[2]}: give a whole number from 1`);
  const dir = await mkdtemp(path.join(tmpdir(), 'gameday-api-fault-bench-'));
  await writeFile(path.join(dir, 'web-cache.yaml'), await readFile(WORKLOAD, 'utf8'));
  const perKind = Math.ceil(runs / KINDS.length);
  const records: RunRecord[] = [];
  const started = Date.now();
  for (const [k, { kind, fault }] of KINDS.entries()) {
    const count = Math.min(perKind, runs - records.length);
    if (count <= 0) break;
    const cluster = await startEmbeddedCluster({ workers: 3, timings: TIMINGS, apiFaults: parseApiFaults(`rate=${rate},seed=${1000 + k}`) });
    try {
      const kubeconfig = path.join(dir, `kubeconfig-${kind}.yaml`);
      await cluster.writeKubeconfig(kubeconfig);
      const kc = new RetryingKubeConfig();
      kc.loadFromFile(kubeconfig);
      const file = path.join(dir, `${kind}.yaml`);
      await writeFile(file, experimentYaml(`${kind.toLowerCase()}-under-api-faults`, fault));
      for (let i = 0; i < count; i++) {
        const before = await clusterState(kc, cluster);
        const out = path.join(dir, 'runs', `${kind}-${i}`);
        const faultsBefore = totalFaults(cluster);
        const t0 = Date.now();
        const r = await execa(process.execPath, [CLI, 'run', file, '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--out', out, '--seed', String(i + 1)], {
          reject: false,
          timeout: 240_000,
          env: { NO_COLOR: '1', GITHUB_STEP_SUMMARY: '', KUBERNETES_SERVICE_HOST: '' },
        });
        const wallMs = Date.now() - t0;
        const result = await readResult(out);
        const leftovers = await leftoversAfter(before, kc, cluster);
        const record: RunRecord = {
          faultKind: kind,
          run: i,
          exitCode: r.exitCode,
          verdict: result?.outcome ?? '(no result.json)',
          expectedVerdict: 'passed',
          reason: result?.reason ?? String(r.stderr).split('\n').slice(-3).join(' '),
          leftovers,
          unhandledRejection: /unhandled|UnhandledPromiseRejection/i.test(String(r.stderr)),
          wallMs,
          apiFaultsDuringRun: totalFaults(cluster) - faultsBefore,
        };
        records.push(record);
        console.log(`${kind} #${i}: exit ${record.exitCode} ${record.verdict} in ${(wallMs / 1000).toFixed(1)}s, ${record.apiFaultsDuringRun} API faults, ${leftovers.length} leftovers${leftovers.length ? `: ${leftovers.join('; ')}` : ''}${record.verdict !== 'passed' ? ` (${record.reason})` : ''}`);
      }
    } finally {
      await cluster.stop();
    }
  }
  await rm(dir, { recursive: true, force: true });

  const right = records.filter((r) => r.verdict === r.expectedVerdict);
  const clean = records.filter((r) => r.verdict !== r.expectedVerdict && (r.verdict === 'error' || r.verdict === 'inconclusive'));
  const totals = {
    runs: records.length,
    faultKinds: [...new Set(records.map((r) => r.faultKind))].length,
    rate,
    rightVerdictShare: right.length / records.length,
    endedCleanlyAsErrorOrInconclusiveShare: clean.length / records.length,
    wrongVerdicts: records.filter((r) => r.verdict !== r.expectedVerdict && !clean.includes(r)).length,
    leftovers: records.reduce((n, r) => n + r.leftovers.length, 0),
    unhandledRejections: records.filter((r) => r.unhandledRejection).length,
    apiFaults: records.reduce((n, r) => n + r.apiFaultsDuringRun, 0),
    wallSeconds: Math.round((Date.now() - started) / 1000),
  };
  const outDir = path.resolve('reports/bench');
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'api-faults.json'), JSON.stringify({ benchmark: 'api-faults', totals, runs: records }, null, 2) + '\n');
  console.log(JSON.stringify(totals, null, 2));
  if (totals.leftovers > 0 || totals.unhandledRejections > 0) process.exitCode = 1;
}

async function readResult(out: string): Promise<{ outcome: string; reason: string } | undefined> {
  try {
    const [run] = (await readdir(out, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    return JSON.parse(await readFile(path.join(out, run!, 'result.json'), 'utf8')) as { outcome: string; reason: string };
  } catch {
    return undefined;
  }
}

await main();
