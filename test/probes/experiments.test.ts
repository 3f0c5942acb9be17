import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { checkOf as check, runExperimentCli, type ExperimentRun } from '../cli/run-experiment.js';

/**
 * The watch-based probes end to end: experiments run by the built CLI against its embedded
 * cluster, judged on exit code, verdicts and the evidence in result.json. Each experiment is
 * short; they run two at a time to stay inside the area's time budget.
 */

const web = (shutdown: 'graceful' | 'drop', replicas: number, budget: string, startupDelay = '0s'): string => `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: gameday/web:1
          env: [ { name: GAMEDAY_SHUTDOWN, value: ${shutdown} }, { name: GAMEDAY_STARTUP_DELAY, value: ${startupDelay} } ]
          ports: [ { name: http, containerPort: 8080 } ]
          readinessProbe: { httpGet: { path: /readyz, port: http }, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [ { name: http, port: 80, targetPort: http } ]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: shop }
spec:
  ${budget}
  selector: { matchLabels: { app: web } }
`;

async function run(experiment: string, workload: string): Promise<ExperimentRun> {
  return runExperimentCli({ 'workload.yaml': workload, 'exp.yaml': experiment }, 'exp.yaml');
}

const drainExperiment = (name: string, extra = ''): string => `apiVersion: gameday/v1
kind: Experiment
metadata: { name: ${name} }
spec:
  workloads: [workload.yaml]
  duration: 8s
  steadyState:
    checks: [ "availability(web) >= 99% over 2s", "ready(deployment/shop/web) >= 3" ]
    recoverWithin: 20s
  probes:
    web: { http: { service: shop/web:80, path: /, rate: 40/s, timeout: 1s } }
  faults:
    - { at: 1s, nodeDrain: { nodes: { labels: { topology.kubernetes.io/zone: a } }, count: 1, timeout: 20s } }
  slos:
    - availability(web) >= 99.9%
    - pdb(shop/web) holds
    - readiness(shop/web) holds
${extra}`;

describe('watch-based probes in experiments (real CLI, embedded cluster)', function () {
  this.timeout(120_000);
  const runs = new Map<string, Promise<ExperimentRun>>();
  // Started together, two at a time: each CLI process runs its own embedded cluster.
  before(() => {
    const graceful = (): Promise<ExperimentRun> => run(drainExperiment('drain-graceful'), web('graceful', 3, 'maxUnavailable: 1'));
    const dropping = (): Promise<ExperimentRun> => run(drainExperiment('drain-dropping'), web('drop', 3, 'maxUnavailable: 1'));
    const overKilled = (): Promise<ExperimentRun> =>
      run(
        `apiVersion: gameday/v1
kind: Experiment
metadata: { name: kill-past-the-budget }
spec:
  workloads: [workload.yaml]
  duration: 5s
  steadyState: { checks: [ "ready(deployment/shop/web) >= 4" ], recoverWithin: 20s }
  faults:
    - { at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 2, force: true } }
  slos: [ "pdb(shop/web) holds" ]
`,
        web('graceful', 4, 'maxUnavailable: 1'),
      );
    const leader = (): Promise<ExperimentRun> =>
      run(
        readFileSync('experiments/db-leader-failover.yaml', 'utf8').replace('duration: 15s', 'duration: 6s').replace('workloads/db.yaml', 'workload.yaml'),
        readFileSync('experiments/workloads/db.yaml', 'utf8'),
      );
    const aborted = (): Promise<ExperimentRun> =>
      // Replacements take 6 s to become ready: ready pods stay below 3 for longer than the abort's
      // 3 s window, which ends after the drain has landed (an abort mid-inject is inconclusive).
      run(drainExperiment('drain-aborted', '  abort: [ "ready(deployment/shop/web) < 3 over 3s" ]\n').replace('duration: 8s', 'duration: 30s'), web('graceful', 3, 'maxUnavailable: 1', '6s'));
    // A budget that lets every pod go at once allows too much: pdb holds must not pass it.
    const permissive = (): Promise<ExperimentRun> => run(drainExperiment('drain-permissive-budget'), web('graceful', 3, 'maxUnavailable: "100%"'));
    const pairs: [string, () => Promise<ExperimentRun>][][] = [
      [['graceful', graceful], ['dropping', dropping]],
      [['overKilled', overKilled], ['leader', leader]],
      [['aborted', aborted], ['permissive', permissive]],
    ];
    let previous: Promise<unknown> = Promise.resolve();
    for (const pair of pairs) {
      const started = previous.then(() => pair.map(([name, start]) => [name, start()] as const));
      for (const [name] of pair) runs.set(name, started.then((list) => list.find(([n]) => n === name)![1]));
      previous = started.then((list) => Promise.allSettled(list.map(([, p]) => p)));
    }
  });

  it('a well-behaved deployment with a budget passes a drain: budget, readiness and availability hold (exit 0)', async () => {
    const r = await runs.get('graceful')!;
    expect(r.code, r.output).to.equal(0);
    expect(check(r, 'pdb(shop/web) holds').verdict).to.equal('passed');
    expect(check(r, 'readiness(shop/web) holds').verdict).to.equal('passed');
    expect(r.result.faults[0]).to.include({ kind: 'nodeDrain' });
  });

  it('the same deployment dropping requests on SIGTERM fails availability, with the failed samples as evidence (exit 1)', async () => {
    const r = await runs.get('dropping')!;
    expect(r.code, r.output).to.equal(1);
    const availability = check(r, 'availability(web) >= 99.9%');
    expect(availability.verdict).to.equal('failed');
    expect(availability.evidence?.worst?.length).to.be.greaterThan(0);
    expect(availability.evidence!.worst!.every((s) => !s.ok)).to.equal(true);
    expect(availability.evidence?.firstViolationAt).to.be.a('string');
    // The budget still held: the drain respected it; the pods are what misbehaved.
    expect(check(r, 'pdb(shop/web) holds').verdict).to.equal('passed');
  });

  it('pods disrupted past the budget fail pdb() holds, with the moment and the pods that were not ready (exit 1)', async () => {
    const r = await runs.get('overKilled')!;
    expect(r.code, r.output).to.equal(1);
    const pdb = check(r, 'pdb(shop/web) holds');
    expect(pdb.verdict).to.equal('failed');
    expect(pdb.message).to.match(/did not hold: \d+ violations? in \d+ samples, first at \+\d+\.\ds \(below-budget\)/);
    const first = pdb.evidence!.worst![0]!;
    expect(first.detail).to.include({ desiredHealthy: 3 });
    const named = pdb.evidence!.worst!.flatMap((s) => s.detail!.notReady as string[]);
    expect(named, 'not-ready pods named in the evidence').to.have.length.greaterThan(0);
    expect(named.every((name) => name.startsWith('web-')), named.join(', ')).to.equal(true);
    expect(pdb.evidence?.firstViolationAt).to.be.a('string');
  });

  it('a budget that allows too much (maxUnavailable 100%) fails pdb() holds, saying it protects nothing (exit 1)', async () => {
    const r = await runs.get('permissive')!;
    expect(r.code, r.output).to.equal(1);
    const pdb = check(r, 'pdb(shop/web) holds');
    expect(pdb.verdict).to.equal('failed');
    expect(pdb.message).to.contain('(budget-protects-nothing)');
    expect(String(pdb.evidence!.worst![0]!.detail!.message)).to.contain('lets all 3 of its pods be disrupted at once');
  });

  it("killing the kv StatefulSet's leader reports the failover time in result.json", async () => {
    const r = await runs.get('leader')!;
    expect(r.code, r.output).to.equal(0);
    const failover = check(r, 'failover(statefulset/shop/db) < 10s');
    expect(failover.verdict).to.equal('passed');
    expect(failover.value).to.be.greaterThan(0);
    const worst = failover.evidence!.worst![0]!;
    expect(worst.detail).to.include({ from: 'db-0', lease: 'db-leader' });
  });

  it('an abort condition stops the run and reverts everything (exit 1, abort event, drain reverted)', async () => {
    const r = await runs.get('aborted')!;
    expect(r.code, r.output).to.equal(1);
    expect(r.journal.some((e) => e.type === 'abort')).to.equal(true);
    const steps = r.journal.filter((e) => e.type === 'fault').map((e) => e.step);
    expect(steps).to.include.members(['inject', 'revert', 'reverted']);
    expect(r.result.aborts).to.have.length.greaterThan(0);
  });
});
