import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest } from '../../src/cluster/raw-request.js';
import { eventually } from '../support/eventually.js';
import { startSim, type SimClients } from './sim-fixture.js';

/**
 * What the embedded cluster's own components leave in managedFields, and where kube-system's
 * host-network pods live, as `kubectl` shows them.
 */
describe('embedded components in managedFields; host-network pods', function () {
  this.timeout(60_000);
  let sim: SimClients;
  let dir: string;
  let kubeconfig: string;

  before(async () => {
    sim = await startSim();
    dir = mkdtempSync(join(tmpdir(), 'gameday-managed-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sim.cluster.kubeconfigYaml());
  });
  after(async () => {
    await sim?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = (...args: string[]) => execa('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { KUBECACHEDIR: join(dir, 'cache') } });
  const get = async (path: string) => JSON.parse((await rawRequest(sim.kubeConfig, path)).body) as { metadata: { managedFields?: { manager: string; operation: string; subresource?: string }[] }; items?: { metadata: { managedFields?: { manager: string; operation: string; subresource?: string }[] } }[] };
  const entries = (o: { metadata: { managedFields?: { manager: string; operation: string; subresource?: string }[] } }) =>
    (o.metadata.managedFields ?? []).map((e) => `${e.manager} ${e.operation}${e.subresource ? ` ${e.subresource}` : ''}`).sort();

  it('a Deployment and its ReplicaSet carry kube-controller-manager entries (pods none, for their cost at scale); an HPA scale conflicts with an apply of replicas', async () => {
    await sim.apps.createNamespacedDeployment({
      namespace: 'default',
      fieldManager: 'creator',
      body: { metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } },
    });
    await eventually('rolled out', async () => ((await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' })).status?.availableReplicas === 1 ? true : undefined));
    expect(entries(await get('/apis/apps/v1/namespaces/default/deployments/web'))).to.deep.equal(['creator Update', 'kube-controller-manager Update status']);
    expect(entries((await get('/apis/apps/v1/namespaces/default/replicasets')).items![0]!)).to.deep.equal(['kube-controller-manager Update', 'kube-controller-manager Update status']);
    const pod = (await get('/api/v1/namespaces/default/pods')).items![0]!;
    expect(entries(pod), 'the components record nothing on pods').to.deep.equal([]);

    await rawRequest(sim.kubeConfig, '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
      method: 'POST',
      body: JSON.stringify({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', annotations: { 'gameday.dev/sync-period': '200ms' } }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] } }),
    });
    await eventually('scaled by the HPA', async () => ((await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' })).spec?.replicas === 2 ? true : undefined));
    expect(entries(await get('/apis/apps/v1/namespaces/default/deployments/web'))).to.include('kube-controller-manager Update scale');
    const conflict = await execa('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--field-manager=creator', '-f', '-'], {
      env: { KUBECACHEDIR: join(dir, 'cache') },
      input: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1 } }),
      reject: false,
    });
    expect(conflict.exitCode).to.equal(1);
    expect(conflict.stderr).to.include('conflict with "kube-controller-manager" with subresource "scale" using apps/v1: .spec.replicas');
  });

  it('kube-proxy and kindnet pods have their node\'s InternalIP as pod IP', async () => {
    const nodes = await sim.core.listNode();
    const internalIp = new Map(nodes.items.map((n) => [n.metadata!.name!, n.status!.addresses!.find((a) => a.type === 'InternalIP')!.address]));
    const wide = await eventually('kube-system pods running with IPs', async () => {
      const out = (await kubectl('get', 'pods', '-n', 'kube-system', '-o', 'wide', '--no-headers')).stdout;
      const rows = out.split('\n').filter((l) => /^(kube-proxy|kindnet)-/.test(l)).map((l) => l.trim().split(/\s+/));
      return rows.length === 2 * internalIp.size && rows.every((r) => r[2] === 'Running') ? rows : undefined;
    });
    for (const row of wide) expect(row[5], row[0]).to.equal(internalIp.get(row[6]!));
    const coredns = (await sim.core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })).items;
    for (const p of coredns) expect(p.status?.podIP, 'a pod on the pod network').to.match(/^10\.244\./);
  });
});
