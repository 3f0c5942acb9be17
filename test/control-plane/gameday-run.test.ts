import { expect } from 'chai';
import { execa } from 'execa';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { useRealCluster } from './real-cluster.js';

const WORKLOAD = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: gameday/web:1}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
`;

const experiment = (name: string, fault: string) => `apiVersion: gameday/v1
kind: Experiment
metadata: {name: ${name}}
spec:
  workloads: [web.yaml]
  duration: 12s
  steadyState:
    checks: [ "ready(deployment/shop/web) >= 4" ]
    recoverWithin: 40s
  faults:
    - ${fault}
  slos:
    - pdb(shop/web) holds
`;

/**
 * gameday itself against upstream Kubernetes: the real API server, disruption controller,
 * scheduler and garbage collector decide, and the verdicts must be the ones the embedded cluster
 * gives for the same game day.
 */
describe('gameday run against the real control plane', function () {
  this.timeout(180_000);
  const real = useRealCluster();
  before(() => writeFileSync(path.join(real.dir, 'web.yaml'), WORKLOAD));

  const run = (file: string, kubeconfig = real.kubeconfig) =>
    execa('node', [path.resolve('dist/cli/main.js'), 'run', file, '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--node-access', 'none', '--out', path.join(real.dir, 'reports'), '--reporter', 'terminal,json'], { cwd: real.dir, reject: false, all: true });

  function result(name: string): { outcome: string; checks: { check: string; verdict: string }[]; faults: { kind: string; targets: string[]; landed?: boolean }[] } {
    const runs = readdirSync(path.join(real.dir, 'reports')).filter((d) => d.includes(name)).sort();
    return JSON.parse(readFileSync(path.join(real.dir, 'reports', runs.at(-1)!, 'result.json'), 'utf8'));
  }

  it('a drain of one zone passes: evictions through the real budget, which holds', async () => {
    writeFileSync(path.join(real.dir, 'drain.yaml'), experiment('drain-zone-a', '{ at: 2s, nodeDrain: { nodes: { labels: { topology.kubernetes.io/zone: a } }, count: 1, timeout: 1m } }'));
    const r = await run('drain.yaml');
    expect(r.exitCode, r.all).to.equal(0);
    const res = result('drain-zone-a');
    expect(res.outcome).to.equal('passed');
    expect(res.faults[0]?.targets).to.deep.equal(['gameday-worker']);
    expect((await real.cluster.core.readNode({ name: 'gameday-worker' })).spec?.unschedulable, 'the drain was reverted').to.not.equal(true);
  });

  it('negative control: force-killing two pods under maxUnavailable 1 fails pdb(shop/web) holds', async () => {
    writeFileSync(path.join(real.dir, 'kill.yaml'), experiment('kill-two', '{ at: 2s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 2, gracePeriod: 0s } }'));
    const r = await run('kill.yaml');
    expect(r.exitCode, r.all).to.equal(1);
    const pdb = result('kill-two').checks.find((c) => c.check.startsWith('pdb('));
    expect(pdb?.verdict).to.equal('failed');
  });

  it('as a user without create on pods/eviction, the run stops naming that permission and reverts the cordon', async () => {
    const rbac = await import('@kubernetes/client-node');
    const api = real.cluster.kubeConfig.makeApiClient(rbac.RbacAuthorizationV1Api);
    await real.cluster.core.createNamespace({ body: { metadata: { name: 'gameday' } } });
    await real.cluster.core.createNamespacedServiceAccount({ namespace: 'gameday', body: { metadata: { name: 'runner' } } });
    const everything = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
    await api.createClusterRole({
      body: {
        metadata: { name: 'gameday-no-evictions' },
        rules: [
          { apiGroups: [''], resources: ['namespaces', 'nodes', 'pods', 'services', 'endpoints', 'events', 'configmaps', 'pods/log'], verbs: everything },
          { apiGroups: ['apps', 'batch', 'discovery.k8s.io', 'coordination.k8s.io', 'events.k8s.io', 'networking.k8s.io'], resources: ['*'], verbs: everything },
          { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: everything },
        ],
      },
    });
    await api.createClusterRoleBinding({ body: { metadata: { name: 'gameday-runner' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'gameday-no-evictions' }, subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: 'gameday' }] } });
    const token = await real.cluster.core.createNamespacedServiceAccountToken({ name: 'runner', namespace: 'gameday', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    const user = { token: token.status!.token, user: 'system:serviceaccount:gameday:runner', groups: [] };
    const kubeconfig = path.join(real.dir, 'runner.kubeconfig');
    await real.cluster.controlPlane.writeKubeconfig(kubeconfig, user);

    writeFileSync(path.join(real.dir, 'denied.yaml'), experiment('drain-denied', '{ at: 2s, nodeDrain: { nodes: { labels: { topology.kubernetes.io/zone: b } }, count: 1, timeout: 1m } }'));
    const r = await run('denied.yaml', kubeconfig);
    expect(r.exitCode, r.all).to.equal(4);
    expect(r.all).to.match(/forbidden: .*cannot create resource "pods\/eviction" in API group "" in the namespace "shop"/);
    expect(r.all).to.not.match(/^\s+at /m, 'no stack trace');
    expect((await real.cluster.core.readNode({ name: 'gameday-worker2' })).spec?.unschedulable, 'the cordon was reverted').to.not.equal(true);
  });
});
