import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir, writeFile } from '../cli/cli-process.js';

/**
 * `readiness(ns/svc) holds` judges the requests of the http probe that targets the Service, not
 * only its endpoints: experiments run by the built CLI against its embedded cluster, so the
 * engine's sample feed between the two probes is the real one.
 */

const workload = (shutdown: 'graceful' | 'drop'): string => `apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: gameday/web:1
          env: [ { name: GAMEDAY_SHUTDOWN, value: ${shutdown} } ]
          ports: [ { name: http, containerPort: 8080 } ]
          readinessProbe: { httpGet: { path: /readyz, port: http }, periodSeconds: 1, failureThreshold: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [ { name: http, port: 80, targetPort: http } ]
`;

const experiment = (name: string, requestPath: string): string => `apiVersion: gameday/v1
kind: Experiment
metadata: { name: ${name} }
spec:
  workloads: [workload.yaml]
  duration: 4s
  steadyState:
    checks: [ "ready(deployment/shop/web) >= 3" ]
    recoverWithin: 20s
  probes:
    web: { http: { service: shop/web:80, path: ${requestPath}, rate: 100/s, timeout: 1s } }
  faults:
    - { at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 1 } }
  slos:
    - readiness(shop/web) holds
`;

interface Evidence {
  readonly t: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly detail?: Record<string, unknown>;
}

interface Run {
  readonly code: number | null;
  readonly output: string;
  readonly readiness: { verdict: string; message: string; evidence?: { worst?: Evidence[] } };
  readonly killed: string;
  readonly webSamples: Evidence[];
}

async function run(name: string, shutdown: 'graceful' | 'drop', requestPath: string): Promise<Run> {
  const dir = tempDir('gameday-readiness-');
  writeFile(dir, 'workload.yaml', workload(shutdown));
  const file = writeFile(dir, 'exp.yaml', experiment(name, requestPath));
  const out = path.join(dir, 'reports');
  const r = await runCli(['run', file, '--out', out, '--seed', '5']);
  const output = r.stdout + r.stderr;
  const runDir = readdirSync(out).find((d) => existsSync(path.join(out, d, 'result.json')));
  if (!runDir) throw new Error(`no result.json:\n${output}`);
  const result = JSON.parse(readFileSync(path.join(out, runDir, 'result.json'), 'utf8')) as {
    checks: (Run['readiness'] & { check: string; role: string })[];
    faults: { targets: { name: string }[] }[];
  };
  const readiness = result.checks.find((c) => c.check === 'readiness(shop/web) holds' && c.role === 'slo');
  if (!readiness) throw new Error(`no readiness check in result.json:\n${output}`);
  const journal = readFileSync(path.join(out, runDir, 'journal.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Evidence & { type: string; probe?: string });
  const webSamples = journal.filter((e) => e.type === 'sample' && e.probe === 'web');
  return { code: r.code, output, readiness, killed: result.faults[0]!.targets[0]!.name, webSamples };
}

const blamed = (r: Run): Evidence[] => (r.readiness.evidence?.worst ?? []).filter((s) => s.error === 'failed-on-unready');

describe('readiness() judges failed requests against pod readiness (real CLI, embedded cluster)', function () {
  this.timeout(90_000);
  let dropping: Promise<Run>;
  let graceful: Promise<Run>;
  let unreadyAnswers: Promise<Run>;
  // Each CLI process runs its own embedded cluster; two at a time keep the area inside its budget.
  before(() => {
    dropping = run('kill-dropping', 'drop', '/');
    graceful = run('kill-graceful', 'graceful', '/');
    unreadyAnswers = Promise.allSettled([dropping, graceful]).then(() => run('kill-answers-unready', 'graceful', '/readyz'));
  });

  it('a pod that drops requests on SIGTERM fails readiness() with failed-on-unready naming the killed pod (exit 1)', async () => {
    const r = await dropping;
    expect(r.code, r.output).to.equal(1);
    expect(r.readiness.verdict, r.readiness.message).to.equal('failed');
    expect(r.readiness.message).to.include('failed-on-unready');
    const evidence = blamed(r);
    expect(evidence.length, JSON.stringify(r.readiness.evidence)).to.be.greaterThan(0);
    for (const s of evidence) {
      // The proxy's 503 for a refused or reset connection names no pod: the blame comes from the timeline.
      expect(s.detail).to.include({ pod: r.killed, by: 'time', probe: 'web', requestAt: s.t });
      // A dropping pod exits on SIGTERM and is deleted at once, while traffic still reaches it.
      expect(s.detail?.why).to.be.oneOf(['pod-terminating', 'pod-gone']);
      expect(s.detail?.requestError).to.be.a('string');
    }
  });

  it('a graceful deployment keeps readiness() (exit 0), and every answer names the pod that served it', async () => {
    const r = await graceful;
    expect(r.code, r.output).to.equal(0);
    expect(r.readiness.verdict, r.readiness.message).to.equal('passed');
    const answered = r.webSamples.filter((s) => s.ok);
    expect(answered.length).to.be.greaterThan(100);
    const servedBy = new Set(answered.map((s) => s.detail?.pod));
    expect([...servedBy].every((pod) => typeof pod === 'string' && pod.startsWith('web-')), [...servedBy].join(', ')).to.equal(true);
    expect(servedBy.has(r.killed), 'the killed pod served before it was killed').to.equal(true);
  });

  it('errors answered by a terminating pod are blamed on it through the response header (exit 1)', async () => {
    const r = await unreadyAnswers;
    expect(r.code, r.output).to.equal(1);
    expect(r.readiness.verdict, r.readiness.message).to.equal('failed');
    const evidence = blamed(r);
    expect(evidence.length, JSON.stringify(r.readiness.evidence)).to.be.greaterThan(0);
    // The pod's own 503s name it in a header; a busy machine may also let its exit reset a
    // connection, and that failure, which names no pod, is blamed by the timeline instead.
    const answered = evidence.filter((s) => s.detail?.requestError === 'status-503');
    expect(answered.length, JSON.stringify(evidence)).to.be.greaterThan(0);
    for (const s of answered) expect(s.detail).to.include({ pod: r.killed, why: 'pod-terminating', by: 'response-header' });
    for (const s of evidence) expect(s.detail).to.include({ pod: r.killed });
    const refused = r.webSamples.filter((s) => !s.ok);
    expect(refused.every((s) => s.detail?.pod === r.killed), JSON.stringify(refused)).to.equal(true);
  });
});
