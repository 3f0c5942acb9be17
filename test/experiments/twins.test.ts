import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { k6OnPath } from '../../src/probes/k6/probe.js';
import { runCli, tempDir } from '../cli/cli-process.js';
import { checkOf, runExperimentCli, type ExperimentRun } from '../cli/run-experiment.js';

/**
 * The shipped experiments bite: each is run by the built CLI, unchanged but for the workload it
 * applies, against a service that should fail it (its negative twin), and must end failed (exit 1),
 * naming the check that broke and the samples that broke it. The twins are made from the shipped
 * workloads, so the two stay in step.
 */

type Manifest = Record<string, unknown> & { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> };

const shipped = (file: string): string => readFileSync(path.join('experiments', file), 'utf8');

/** The manifests of a workload file, changed by `edit` (which may drop one by returning undefined). */
function editWorkload(file: string, edit: (m: Manifest) => Manifest | undefined): string {
  return parseAllDocuments(shipped(file))
    .map((d) => edit(d.toJS() as Manifest))
    .filter((m): m is Manifest => m !== undefined)
    .map((m) => stringify(m))
    .join('---\n');
}

function podSpec(m: Manifest): Record<string, unknown> {
  return (m.spec!.template as { spec: Record<string, unknown> }).spec;
}

/** Every replica in zone a: nothing elsewhere to answer when zone a fails. */
const pinnedToZoneA = (m: Manifest): Manifest => {
  if (m.kind === 'Deployment') podSpec(m).nodeSelector = { 'topology.kubernetes.io/zone': 'a' };
  return m;
};

/** Zone a's Deployment with all three replicas, and no other zone's. */
const onlyZoneA = (m: Manifest): Manifest | undefined => {
  if (m.kind !== 'Deployment') return m;
  if (m.metadata?.name !== 'web-a') return undefined;
  m.spec!.replicas = 3;
  return m;
};

/** The tolerations Kubernetes adds by default (300 s) instead of the workload's shortened ones. */
const defaultTolerations = (m: Manifest): Manifest => {
  if (m.kind === 'Deployment') delete podSpec(m).tolerations;
  return m;
};

/** Closes at SIGTERM, dropping what is in flight, instead of finishing it. */
const droppingOnSigterm = (m: Manifest): Manifest => {
  if (m.kind !== 'Deployment') return m;
  for (const c of podSpec(m).containers as { env: { name: string; value: string }[] }[]) for (const e of c.env) if (e.name === 'GAMEDAY_SHUTDOWN') e.value = 'drop';
  return m;
};

/** Volumes as large as the node's disk: a fill of the volume fills the node. */
const withoutSizeLimit = (m: Manifest): Manifest => {
  if (m.kind === 'Deployment') for (const v of podSpec(m).volumes as { emptyDir: Record<string, unknown> }[]) delete v.emptyDir.sizeLimit;
  return m;
};

/** Acknowledges a write at once and ships it to followers half a second later: a leader killed in between takes it along. */
const replicatingAsync = (m: Manifest): Manifest => {
  if (m.kind !== 'StatefulSet') return m;
  for (const c of podSpec(m).containers as { env: { name: string; value: string }[] }[]) {
    c.env = [...c.env.filter((e) => !e.name.startsWith('GAMEDAY_KV_REPLICATION')), { name: 'GAMEDAY_KV_REPLICATION', value: 'async' }, { name: 'GAMEDAY_KV_REPLICATION_DELAY', value: '500ms' }];
  }
  return m;
};

/** Members that replay their log for 3 s before they answer, behind a Service that publishes not-ready addresses (as a peer-discovery Service does). */
const routedWhileStarting = (m: Manifest): Manifest => {
  if (m.kind === 'Service') m.spec!.publishNotReadyAddresses = true;
  if (m.kind === 'StatefulSet') for (const c of podSpec(m).containers as { env?: { name: string; value: string }[] }[]) c.env = [...(c.env ?? []), { name: 'GAMEDAY_STARTUP_DELAY', value: '3s' }];
  return m;
};

/** Slow requests (500 ms), dropped at SIGTERM: every request the killed pod was serving is lost. */
const slowAndDroppingOnSigterm = (m: Manifest): Manifest => {
  droppingOnSigterm(m);
  if (m.kind === 'Deployment') for (const c of podSpec(m).containers as { env: { name: string; value: string }[] }[]) c.env.push({ name: 'GAMEDAY_LATENCY', value: '500ms' });
  return m;
};

/** No default-deny policy in payments: only the API's own policy isolates anything, so the database is open to all. */
const withoutDefaultDeny = (m: Manifest): Manifest | undefined => (m.kind === 'NetworkPolicy' && m.metadata?.name === 'default-deny' ? undefined : m);

/** A memory limit below what the noisy neighbour's stress holds: the stressed container is OOMKilled. */
const memoryLimitBelowStress = (m: Manifest): Manifest => {
  if (m.kind === 'Deployment') for (const c of podSpec(m).containers as { resources?: unknown }[]) c.resources = { requests: { memory: '32Mi' }, limits: { memory: '32Mi' } };
  return m;
};

/** Every member pinned to zone c, the zone the outage stops: no member is left to answer. */
const allMembersInZoneC = (m: Manifest): Manifest => {
  if (m.kind === 'StatefulSet') podSpec(m).nodeSelector = { 'topology.kubernetes.io/zone': 'c' };
  return m;
};

/** The files of a twin: the shipped experiment (both under experiments/), applying its workload changed by `edit`. */
function twinFiles(experimentFile: string, workloadFile: string, edit: (m: Manifest) => Manifest | undefined): Record<string, string> {
  const text = shipped(experimentFile);
  const line = `workloads: [${path.relative(path.dirname(experimentFile), workloadFile)}]`;
  if (!text.includes(line)) throw new Error(`${experimentFile} no longer says "${line}"`);
  return { 'experiment.yaml': text.replace(line, 'workloads: [workload.yaml]'), 'workload.yaml': editWorkload(workloadFile, edit) };
}

const runTwin = (experimentFile: string, workloadFile: string, edit: (m: Manifest) => Manifest | undefined): Promise<ExperimentRun> =>
  runExperimentCli(twinFiles(experimentFile, workloadFile, edit), 'experiment.yaml');

const verdicts = (r: ExperimentRun): Record<string, string> => Object.fromEntries(r.result.checks.filter((c) => c.role === 'slo').map((c) => [c.check, c.verdict]));

const TWINS: Readonly<Record<string, () => Promise<ExperimentRun>>> = {
  // Slowest first: the pool below keeps two CLI processes (two embedded clusters) busy.
  isolationWithDefaultTolerations: () => runTwin('node-isolation-reschedules-web.yaml', 'workloads/web-node-loss.yaml', defaultTolerations),
  stopOfTheOnlyZone: () => runTwin('node-stop-reschedules-web.yaml', 'workloads/web-node-loss.yaml', pinnedToZoneA),
  lossInTheOnlyZone: () => runTwin('lossy-zone-costs-retransmits.yaml', 'workloads/web.yaml', pinnedToZoneA),
  partitionOfTheOnlyZone: () => runTwin('zone-partition-keeps-web-up.yaml', 'workloads/web-zonal.yaml', onlyZoneA),
  delayInTheOnlyZone: () => runTwin('slow-zone-shows-in-p99.yaml', 'workloads/web.yaml', pinnedToZoneA),
  maintenanceDroppingOnSigterm: () => runTwin('maintenance-taint-keeps-web-up.yaml', 'workloads/web.yaml', droppingOnSigterm),
  drainDroppingOnSigterm: () => runTwin('drain-a-worker-keeps-web-up.yaml', 'workloads/web.yaml', droppingOnSigterm),
  killDroppingOnSigterm: () => runTwin('pod-kill-keeps-web-up.yaml', 'workloads/web.yaml', droppingOnSigterm),
  fillOfAnUnlimitedVolume: () => runTwin('disk-fill-keeps-web-up.yaml', 'workloads/web-cache.yaml', withoutSizeLimit),
  leaderKillWithAsyncReplication: () => runTwin('statefulset-leader-kill-loses-nothing.yaml', 'workloads/orders-db.yaml', replicatingAsync),
  leaderFailoverRoutedWhileStarting: () => runTwin('db-leader-failover.yaml', 'workloads/db.yaml', routedWhileStarting),
  // The journey is a TypeScript module: the twin's directory is an ES module package, as the repository is.
  checkoutSlowAndDroppingOnSigterm: () =>
    runExperimentCli(
      { ...twinFiles('browser/checkout-survives-pod-kill.yaml', 'workloads/storefront.yaml', slowAndDroppingOnSigterm), 'journeys/checkout.ts': shipped('browser/journeys/checkout.ts'), 'package.json': '{ "type": "module" }' },
      'experiment.yaml',
    ),
  containmentWithoutDefaultDeny: () => runTwin('security/frontend-contained.yaml', 'security/workloads/payments.yaml', withoutDefaultDeny),
  containerCrashWithLowMemoryLimit: () => runTwin('container-crash-keeps-web-up.yaml', 'workloads/web.yaml', memoryLimitBelowStress),
  zoneOutageWithEveryMemberInTheZone: () => runTwin('zone-outage-keeps-quorum.yaml', 'workloads/orders-db.yaml', allMembersInZoneC),
};

/** Starts the twins two at a time, in the order given; each promise settles with its own run. */
function startTwins(concurrency: number): Map<string, Promise<ExperimentRun>> {
  const queue = Object.entries(TWINS);
  const runs = new Map<string, Promise<ExperimentRun>>();
  const slots: Promise<unknown>[] = Array.from({ length: concurrency }, () => Promise.resolve());
  queue.forEach(([name, start], i) => {
    const slot = i % concurrency;
    const run = slots[slot]!.then(start);
    runs.set(name, run);
    slots[slot] = run.catch(() => undefined);
  });
  return runs;
}

describe('negative twins of the shipped experiments (real CLI, embedded cluster)', function () {
  this.timeout(400_000);
  let runs: Map<string, Promise<ExperimentRun>>;
  before(() => {
    runs = startTwins(2);
  });
  after(async () => {
    await Promise.allSettled([...(runs?.values() ?? [])]);
  });

  it('zone partition: a service with every replica in the cut zone fails availability >= 50% over 5s, with the timed-out requests as evidence (exit 1)', async () => {
    const r = await runs.get('partitionOfTheOnlyZone')!;
    expect(r.code, r.output).to.equal(1);
    const availability = checkOf(r, 'availability(web) >= 50% over 5s');
    expect(availability.verdict).to.equal('failed');
    expect(availability.value).to.be.below(0.6);
    expect(availability.evidence?.worst?.length).to.be.greaterThan(0);
    expect(availability.evidence!.worst!.every((s) => !s.ok)).to.equal(true);
    expect(availability.evidence?.firstViolationAt).to.be.a('string');
    expect(r.output).to.contain('slo FAILED availability(web) >= 50% over 5s');
  });

  it('node isolation: pods with the default 300 s tolerations stay on the lost node, so the 20 s recovery bound fires, with the ready readings as evidence (exit 1)', async () => {
    const r = await runs.get('isolationWithDefaultTolerations')!;
    expect(r.code, r.output).to.equal(1);
    const bound = checkOf(r, 'ready(deployment/shop/web) < 3 over 20s', 'abort');
    expect(bound.verdict).to.equal('failed');
    expect(bound.value).to.equal(2);
    expect(bound.evidence?.worst?.[0]?.value).to.equal(2);
    expect(r.result.aborts.map((a) => a.check)).to.deep.equal(['ready(deployment/shop/web) < 3 over 20s']);
    // The others kept serving: the bound is what failed, not the floor.
    expect(verdicts(r)['ready(deployment/shop/web) >= 2']).to.equal('passed');
  });

  it('node stop: a service with every replica on the stopped node fails ready >= 2, down to 0 ready pods in the evidence (exit 1)', async () => {
    const r = await runs.get('stopOfTheOnlyZone')!;
    expect(r.code, r.output).to.equal(1);
    const floor = checkOf(r, 'ready(deployment/shop/web) >= 2');
    expect(floor.verdict).to.equal('failed');
    expect(floor.value).to.equal(0);
    expect(floor.evidence?.worst?.[0]?.value).to.equal(0);
    expect(r.output).to.contain('slo FAILED ready(deployment/shop/web) >= 2');
  });

  it('latency: a service with every replica in the slow zone fails p50 < 100ms, with the delayed requests as evidence, while still answering every request (exit 1)', async () => {
    const r = await runs.get('delayInTheOnlyZone')!;
    expect(r.code, r.output).to.equal(1);
    const median = checkOf(r, 'p50(web) < 100ms');
    expect(median.verdict).to.equal('failed');
    expect(median.value).to.be.at.least(100);
    expect(median.evidence?.worst?.[0]?.latencyMs).to.be.at.least(150);
    expect(verdicts(r)).to.include({ 'availability(web) >= 99%': 'passed' });
  });

  it('packet loss: a service with every replica in the lossy zone fails p90 < 1s, with the retransmitted requests as evidence (exit 1)', async () => {
    const r = await runs.get('lossInTheOnlyZone')!;
    expect(r.code, r.output).to.equal(1);
    const p90 = checkOf(r, 'p90(web) < 1s');
    expect(p90.verdict).to.equal('failed');
    expect(p90.value).to.be.at.least(1000);
    expect(p90.evidence?.worst?.[0]?.latencyMs).to.be.at.least(1000);
  });

  it('maintenance taint: a service that drops requests on SIGTERM fails availability >= 99.9%, with the dropped requests as evidence (exit 1)', async () => {
    const r = await runs.get('maintenanceDroppingOnSigterm')!;
    expect(r.code, r.output).to.equal(1);
    const availability = checkOf(r, 'availability(web) >= 99.9%');
    expect(availability.verdict).to.equal('failed');
    expect(availability.evidence?.worst?.length).to.be.greaterThan(0);
    expect(availability.evidence!.worst!.every((s) => !s.ok)).to.equal(true);
    expect(availability.evidence?.firstViolationAt).to.be.a('string');
    // One pod went at a time and two stayed ready: what failed is how the evicted pod shut down.
    expect(verdicts(r)).to.include({ 'ready(deployment/shop/web) >= 2': 'passed' });
  });

  for (const [twin, experiment] of [
    ['drainDroppingOnSigterm', 'drain'],
    ['killDroppingOnSigterm', 'pod kill'],
  ] as const) {
    it(`${experiment}: a service that drops requests on SIGTERM fails readiness(shop/web) holds, naming the pod that was going away when a request failed on it (exit 1)`, async () => {
      const r = await runs.get(twin)!;
      expect(r.code, r.output).to.equal(1);
      const readiness = checkOf(r, 'readiness(shop/web) holds');
      expect(readiness.verdict).to.equal('failed');
      expect(readiness.message).to.contain('(failed-on-unready)');
      const first = readiness.evidence!.worst![0]!;
      expect(first.detail).to.include({ probe: 'web' });
      expect(first.detail!.why).to.be.oneOf(['pod-terminating', 'pod-gone']);
      expect(first.detail!.pod).to.match(/^web-/);
    });
  }

  it('disk fill: a cache volume without sizeLimit fills the node, whose kubelet evicts a pod: ready >= 3 fails, with the reading of 2 as evidence (exit 1)', async () => {
    const r = await runs.get('fillOfAnUnlimitedVolume')!;
    expect(r.code, r.output).to.equal(1);
    const ready = checkOf(r, 'ready(deployment/shop/web) >= 3');
    expect(ready.verdict).to.equal('failed');
    expect(ready.evidence?.worst?.[0]?.value).to.be.below(3);
    expect(r.output).to.match(/Warning Evicted Pod shop\/web-.*low on resource: ephemeral-storage/);
  });

  it('leader kill: a store that acknowledges writes before replicating them (async, 500ms) fails lostWrites(orders) == 0, naming lost records it had acknowledged, while the failover itself passes (exit 1)', async () => {
    const r = await runs.get('leaderKillWithAsyncReplication')!;
    expect(r.code, r.output).to.equal(1);
    const lost = checkOf(r, 'lostWrites(orders) == 0');
    expect(lost.verdict).to.equal('failed');
    expect(lost.value).to.be.greaterThan(0);
    const worst = lost.evidence!.worst!;
    expect(worst).to.have.length(Math.min(5, lost.value!));
    expect(worst.every((s) => s.error === 'lost' && s.detail!.found === 'missing')).to.equal(true);
    const keys = worst.map((s) => s.detail!.key as string);
    for (const key of keys) expect(lost.message).to.contain(key);
    const acknowledged = new Set(
      (r.journal as readonly { type: string; ok?: boolean; detail?: { op?: string; key?: string } }[]).filter((e) => e.type === 'sample' && e.ok && e.detail?.op === 'write').map((e) => e.detail!.key),
    );
    expect([...acknowledged]).to.include.members(keys);
    expect(r.output).to.contain('slo FAILED lostWrites(orders) == 0');
    expect(verdicts(r)).to.include({ 'failover(statefulset/shop/orders-db) < 10s': 'passed', 'duplicates(orders) == 0': 'passed' });
  });

  it('db leader failover: a Service that publishes not-ready addresses routes to the replacement leader while it still starts, so readiness(shop/db) holds fails, naming db-0 (exit 1)', async () => {
    const r = await runs.get('leaderFailoverRoutedWhileStarting')!;
    expect(r.code, r.output).to.equal(1);
    const readiness = checkOf(r, 'readiness(shop/db) holds');
    expect(readiness.verdict).to.equal('failed');
    expect(readiness.message).to.contain('(routed-to-unready)');
    const first = readiness.evidence!.worst![0]!;
    const routed = first.detail!.routedToUnready as { pod: string; why: string }[];
    expect(routed.map((u) => `${u.pod} ${u.why}`)).to.include('db-0 pod-not-ready');
    // The failover itself was quick: what fails is where the Service sends clients meanwhile.
    expect(verdicts(r)['failover(statefulset/shop/db) < 10s']).to.equal('passed');
  });

  it('browser checkout: a slow storefront that drops requests on SIGTERM loses the requests its killed pod was serving, so availability(frontend) >= 99% fails with them as evidence (exit 1)', async () => {
    const r = await runs.get('checkoutSlowAndDroppingOnSigterm')!;
    expect(r.code, r.output).to.equal(1);
    const availability = checkOf(r, 'availability(frontend) >= 99%');
    expect(availability.verdict).to.equal('failed');
    expect(availability.value).to.be.below(0.99);
    expect(availability.evidence?.worst?.length).to.be.greaterThan(0);
    expect(availability.evidence!.worst!.every((s) => !s.ok)).to.equal(true);
    expect(r.output).to.contain('slo FAILED availability(frontend) >= 99%');
  });

  it('containment: without the default-deny policy in payments, reachable(shop/frontend -> payments/db:5432) == false fails, naming the open path from each frontend pod, with the matrix as evidence (exit 1)', async () => {
    const r = await runs.get('containmentWithoutDefaultDeny')!;
    expect(r.code, r.output).to.equal(1);
    const db = checkOf(r, 'reachable(shop/frontend -> payments/db:5432) == false');
    expect(db.verdict).to.equal('failed');
    expect(db.value).to.equal(1);
    const matrix = db.evidence!.worst![0]!.detail!.matrix as { from: string; reachable: boolean }[];
    expect(matrix).to.have.length(2);
    expect(matrix.every((m) => m.reachable && /^shop\/frontend-/.test(m.from))).to.equal(true);
    for (const { from } of matrix) expect(db.message).to.contain(`${from} -> payments/db:5432`);
    expect(r.output).to.contain('slo FAILED reachable(shop/frontend -> payments/db:5432) == false');
    // The rest of the containment still holds: only the missing policy's path is open.
    expect(verdicts(r)).to.include({ 'reachable(shop/frontend -> payments/api:80) == true': 'passed', 'can(serviceaccount/shop/frontend, get, secrets) == false': 'passed' });
  });

  it('container crash: a web container whose memory limit is below the neighbour\'s stress is OOMKilled, so oomKills(deployment/shop/web) == 0 fails (exit 1)', async () => {
    const r = await runs.get('containerCrashWithLowMemoryLimit')!;
    expect(r.code, r.output).to.equal(1);
    const oom = checkOf(r, 'oomKills(deployment/shop/web) == 0');
    expect(oom.verdict).to.equal('failed');
    expect(oom.value).to.be.greaterThan(0);
    expect(r.output).to.contain('slo FAILED oomKills(deployment/shop/web) == 0');
  });

  it('zone outage: a store whose members all sit in the stopped zone has nothing left to answer, so availability(orders) >= 50% over 5s fails, with the failed writes as evidence (exit 1)', async () => {
    const r = await runs.get('zoneOutageWithEveryMemberInTheZone')!;
    expect(r.code, r.output).to.equal(1);
    const availability = checkOf(r, 'availability(orders) >= 50% over 5s');
    expect(availability.verdict).to.equal('failed');
    expect(availability.evidence?.worst?.length).to.be.greaterThan(0);
    expect(availability.evidence!.worst!.every((s) => !s.ok)).to.equal(true);
  });
});

describe('the shipped k6 experiment (real CLI, embedded cluster)', function () {
  this.timeout(120_000);

  it('without k6, ends with exit 4 (error), saying how to install k6, without a stack trace', async () => {
    // An empty PATH: no k6 whatever this machine has; the CLI runs under the absolute node path.
    const out = path.join(tempDir('gameday-k6-'), 'reports');
    const r = await runCli(['run', 'experiments/k6/drain-under-k6-load.yaml', '--out', out], { env: { PATH: tempDir('gameday-empty-path-') } });
    const output = r.stdout + r.stderr;
    expect(r.code, output).to.equal(4);
    expect(output).to.contain('probe load (k6) failed: no k6 binary on PATH');
    expect(output).to.contain('Install k6 so that `k6` is on PATH (https://grafana.com/docs/k6/latest/set-up/install-k6/');
    expect(output).to.match(/ERROR drain-under-k6-load in [\d.]+s: .*\(exit 4\)/);
    expect(output).not.to.match(/\n\s+at /, 'no stack trace');
  });

  it('with k6, a service that drops requests on SIGTERM fails availability(load) >= 99.9% under the drain (exit 1)', async function () {
    if (!k6OnPath()) {
      console.log('      skipped: k6 is not on PATH (https://grafana.com/docs/k6/latest/set-up/install-k6/)');
      this.skip();
    }
    this.timeout(180_000);
    const files = twinFiles('k6/drain-under-k6-load.yaml', 'workloads/web-nodeport.yaml', droppingOnSigterm);
    const r = await runExperimentCli({ ...files, 'load/browse.ts': shipped('k6/load/browse.ts') }, 'experiment.yaml');
    expect(r.code, r.output).to.equal(1);
    const availability = checkOf(r, 'availability(load) >= 99.9%');
    expect(availability.verdict).to.equal('failed');
    expect(availability.evidence!.worst!.every((s) => !s.ok)).to.equal(true);
  });
});
