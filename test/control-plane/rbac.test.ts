import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { useRealCluster } from './real-cluster.js';
import { webWorkload } from './web-workload.js';

const CLI = path.resolve('dist/cli/main.js');

/**
 * The shipped smoke suite's podKill and nodeDrain with their probes, and a node-level fault
 * through node access (the node proxy), in one short game day.
 */
const EXPERIMENT = `apiVersion: gameday/v1
kind: Experiment
metadata: {name: kill-and-drain}
spec:
  workloads: [web.yaml]
  duration: 5s
  blastRadius: {maxNodes: 2, maxPodPercent: 100}
  steadyState:
    checks: [ "ready(deployment/shop/web) >= 4" ]
    recoverWithin: 40s
  probes:
    web: { http: { service: shop/web:80, path: /, rate: 10/s, timeout: 2s } }
  faults:
    - { at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 1 } }
    - { at: 1s, for: 2s, networkLatency: { nodes: { labels: { topology.kubernetes.io/zone: c } }, delay: 50ms } }
    - { at: 2s, nodeDrain: { nodes: { labels: { topology.kubernetes.io/zone: a } }, count: 1, timeout: 1m } }
  slos:
    - availability(web) >= 95%
    - readiness(shop/web) holds
`;

/**
 * `gameday rbac` is proven on upstream Kubernetes with its RBAC authorizer: a game day run as a
 * service account holding exactly the generated roles passes, and one rule less stops it with the
 * missing permission named and everything reverted. The run is the CronJob's: gameday in a pod's
 * environment (the service-account files and KUBERNETES_SERVICE_HOST), publishing its result.
 */
describe('gameday rbac on the real control plane', function () {
  this.timeout(240_000);
  const real = useRealCluster();
  let root: string;
  let jobPod: string;

  before(async () => {
    writeFileSync(path.join(real.dir, 'web.yaml'), webWorkload({ namespace: 'shop', replicas: 4, withNamespace: true, withService: true }));
    writeFileSync(path.join(real.dir, 'kill-and-drain.yaml'), EXPERIMENT);
    const { core } = real.cluster;
    await core.createNamespace({ body: { metadata: { name: 'gameday' } } });
    await core.createNamespacedServiceAccount({ namespace: 'gameday', body: { metadata: { name: 'gameday' } } });
    const token = await core.createNamespacedServiceAccountToken({ name: 'gameday', namespace: 'gameday', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    // What the kubelet mounts in a pod, under a root of the test's own.
    root = path.join(real.dir, 'pod-root');
    const sa = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(path.join(sa, 'token'), token.status!.token);
    writeFileSync(path.join(sa, 'namespace'), 'gameday');
    writeFileSync(path.join(sa, 'ca.crt'), Buffer.from(real.cluster.kubeConfig.getCurrentCluster()!.caData!, 'base64'));
    // The Job whose pod "runs" gameday: --publish records an Event on it. Zone b: the drain empties zone a.
    const batch = real.cluster.kubeConfig.makeApiClient(k8s.BatchV1Api);
    await batch.createNamespacedJob({
      namespace: 'gameday',
      body: { metadata: { name: 'nightly' }, spec: { template: { spec: { restartPolicy: 'Never', nodeSelector: { 'topology.kubernetes.io/zone': 'b' }, containers: [{ name: 'gameday', image: 'gameday/web:1' }] } } } },
    });
    for (let i = 0; !jobPod; i++) {
      jobPod = (await core.listNamespacedPod({ namespace: 'gameday', labelSelector: 'job-name=nightly' })).items[0]?.metadata?.name ?? '';
      if (i > 100) throw new Error('the Job made no pod');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  const kubectl = (args: readonly string[], input?: string) =>
    execa('kubectl', ['--kubeconfig', real.kubeconfig, ...args], { env: { KUBECACHEDIR: path.join(real.dir, 'kubecache') }, ...(input !== undefined ? { input } : {}) });

  /** `gameday run` as the CronJob runs it: in-cluster config, allowed by name, publishing its result. */
  const runInPod = () => {
    const url = new URL(real.cluster.controlPlane.url);
    return execa('node', [CLI, 'run', 'kill-and-drain.yaml', '--allow-context', 'in-cluster', '--node-access', 'sim', '--publish', 'gameday/gameday-last-result', '--out', path.join(real.dir, 'reports'), '--reporter', 'terminal,json'], {
      cwd: real.dir,
      reject: false,
      all: true,
      env: { GAMEDAY_IN_CLUSTER_ROOT: root, KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, HOSTNAME: jobPod, KUBECONFIG: path.join(real.dir, 'no-such-kubeconfig') },
    });
  };

  it('a game day run with exactly the generated RBAC passes, in-cluster, and publishes its result', async () => {
    const rbac = await execa('node', [CLI, 'rbac', 'kill-and-drain.yaml', '--node-access', 'sim', '--publish', 'gameday/gameday-last-result'], { cwd: real.dir });
    await kubectl(['apply', '-f', '-'], rbac.stdout);

    const r = await runInPod();
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.include('context in-cluster');
    expect(r.all).to.match(/networkLatency verified/);
    const published = await real.cluster.core.readNamespacedConfigMap({ namespace: 'gameday', name: 'gameday-last-result' });
    expect(published.data).to.include({ outcome: 'passed', 'exit-code': '0' });
    const events = await real.cluster.core.listNamespacedEvent({ namespace: 'gameday', fieldSelector: 'involvedObject.kind=Job,involvedObject.name=nightly' });
    expect(events.items.map((e) => e.reason)).to.include('GamedayRunPassed');
  });

  it('without create on pods/eviction the run stops naming that permission, and leaves nothing applied', async () => {
    const rbacApi = real.cluster.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    const role = await rbacApi.readClusterRole({ name: 'gameday' });
    const rules = role.rules!.filter((rule) => !rule.resources?.includes('pods/eviction'));
    expect(rules.length, 'the generated ClusterRole grants the eviction').to.equal(role.rules!.length - 1);
    await rbacApi.replaceClusterRole({ name: 'gameday', body: { ...role, rules } });

    const r = await runInPod();
    expect(r.exitCode, r.all).to.equal(4);
    expect(r.all).to.match(/cannot create resource "pods\/eviction" in API group "" in the namespace "shop"/);
    const nodes = (await real.cluster.core.listNode()).items;
    expect(nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata?.name), 'the cordon was reverted').to.deep.equal([]);
    const deployments = await real.cluster.apps.listNamespacedDeployment({ namespace: 'shop' });
    expect(deployments.items, 'the workloads were removed').to.deep.equal([]);
    const lock = await real.cluster.kubeConfig.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: 'kube-system', name: 'gameday-run-lock' });
    expect(lock.spec?.holderIdentity ?? '', 'the run lock was released').to.equal('');
    const published = await real.cluster.core.readNamespacedConfigMap({ namespace: 'gameday', name: 'gameday-last-result' });
    expect(published.data).to.include({ outcome: 'error', 'exit-code': '4' });
  });
});
