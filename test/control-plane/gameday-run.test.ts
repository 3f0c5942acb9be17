import { expect } from 'chai';
import { execa } from 'execa';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { useRealCluster } from './real-cluster.js';
import { webWorkload } from './web-workload.js';

const WORKLOAD = webWorkload({ namespace: 'shop', replicas: 4, withNamespace: true, withService: true });

/**
 * The negative control's workload: pods that drop every request the moment SIGTERM arrives. The
 * probe goes through the NodePort (kube-proxy's path, with its propagation delay), as clients in
 * the cluster do: the API server's service proxy never picks an address whose pod is terminating
 * or gone, so through it even this workload looks perfect (see the README's fidelity table).
 */
const DROPPING = `apiVersion: v1
kind: Namespace
metadata: {name: rude}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: rude}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: gameday/web:1, env: [{name: GAMEDAY_SHUTDOWN, value: drop}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: rude}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
`;

const experiment = (name: string, fault: string) => `apiVersion: gameday/v1
kind: Experiment
metadata: {name: ${name}}
spec:
  workloads: [web.yaml]
  duration: 9s
  steadyState:
    checks: [ "ready(deployment/shop/web) >= 4" ]
    recoverWithin: 40s
  faults:
    - ${fault}
  slos:
    - pdb(shop/web) holds
`;

/**
 * gameday itself against upstream Kubernetes with its own nodes joined: the real API server,
 * disruption controller, scheduler and garbage collector decide, gameday's kubelets and data
 * plane serve the traffic its probes measure, and the verdicts must be the ones the embedded
 * cluster gives for the same game day. A drain that passes, and a denied eviction named and
 * reverted, are proven in rbac.test.ts, run there as a least-privilege service account.
 */
describe('gameday run against the real control plane', function () {
  this.timeout(180_000);
  const real = useRealCluster();
  before(() => {
    writeFileSync(path.join(real.dir, 'web.yaml'), WORKLOAD);
    writeFileSync(path.join(real.dir, 'rude.yaml'), DROPPING);
  });

  const run = (file: string, kubeconfig = real.kubeconfig) =>
    execa('node', [path.resolve('dist/cli/main.js'), 'run', file, '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--out', path.join(real.dir, 'reports'), '--reporter', 'terminal,json'], { cwd: real.dir, reject: false, all: true });

  function result(name: string): { outcome: string; checks: { check: string; verdict: string }[]; faults: { kind: string; targets: unknown[]; landed?: boolean }[] } {
    const runs = readdirSync(path.join(real.dir, 'reports')).filter((d) => d.includes(name)).sort();
    return JSON.parse(readFileSync(path.join(real.dir, 'reports', runs.at(-1)!, 'result.json'), 'utf8'));
  }

  it('a node cut off from the control plane (through the node proxy) goes NotReady with its pods, which are ready again once it is back', async () => {
    // A node lost is an involuntary disruption: its pods may take the budget below its desired
    // healthy (which pdb() holds would flag), so this asks only that the others keep serving.
    const isolation = experiment('isolate-zone-c', '{ at: 2s, networkPartition: { nodes: { labels: { topology.kubernetes.io/zone: c } }, from: control-plane } }')
      .replace('pdb(shop/web) holds', 'ready(deployment/shop/web) >= 2');
    writeFileSync(path.join(real.dir, 'isolate.yaml'), isolation);
    const r = await run('isolate.yaml');
    expect(r.exitCode, r.all).to.equal(0);
    const res = result('isolate-zone-c');
    expect(JSON.stringify(res.faults[0]?.targets)).to.include('gameday-worker3');
    expect(r.all, 'the real node lifecycle controller saw it').to.match(/NodeNotReady|Unknown|unreachable/);
  });

  it('negative control: pods that drop requests on SIGTERM fail availability when one is deleted', async () => {
    writeFileSync(path.join(real.dir, 'rude-drain.yaml'), `apiVersion: gameday/v1
kind: Experiment
metadata: {name: rude-drain}
spec:
  workloads: [rude.yaml]
  duration: 7s
  steadyState:
    checks: [ "ready(deployment/rude/web) >= 3" ]
    recoverWithin: 40s
  probes:
    web: { http: { url: "http://localhost:30080/", rate: 40/s, timeout: 1s } }
  faults:
    - { at: 2s, podKill: { pods: { namespace: rude, labels: { app: web } }, count: 1 } }
  slos:
    - availability(web) >= 99.9%
`);
    const r = await run('rude-drain.yaml');
    expect(r.exitCode, r.all).to.equal(1);
    const availability = result('rude-drain').checks.find((c) => c.check.startsWith('availability('));
    expect(availability?.verdict, r.all).to.equal('failed');
  });

  it('negative control: force-killing two pods under maxUnavailable 1 fails pdb(shop/web) holds', async () => {
    writeFileSync(path.join(real.dir, 'kill.yaml'), experiment('kill-two', '{ at: 2s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 2, gracePeriod: 0s } }'));
    const r = await run('kill.yaml');
    expect(r.exitCode, r.all).to.equal(1);
    const pdb = result('kill-two').checks.find((c) => c.check.startsWith('pdb('));
    expect(pdb?.verdict).to.equal('failed');
  });

});
