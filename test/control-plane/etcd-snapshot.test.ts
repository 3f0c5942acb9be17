import { expect } from 'chai';
import { runEtcdSnapshotDrill, type EtcdSnapshotDrillReport } from '../../src/control-plane/etcd-snapshot-drill.js';
import { locateEtcdTools } from '../../src/control-plane/locate.js';
import { useRealCluster } from './real-cluster.js';

const NS = 'etcd-drill';

/**
 * The control plane's backup drill on upstream etcd and kube-apiserver: a snapshot, a Deployment
 * and a ConfigMap deleted, the snapshot restored into a fresh etcd and the API server restarted
 * on it. The objects come back, one created after the snapshot does not, and the Deployment is
 * served again by pods the nodes started after the restore.
 */
describe('etcd snapshot drill (real control plane)', function () {
  this.timeout(120_000);
  const real = useRealCluster();
  let report: EtcdSnapshotDrillReport;

  before(async function () {
    try {
      locateEtcdTools();
    } catch (err) {
      if (process.env.CI === 'true') throw err;
      console.log(`      skipped: ${(err as Error).message}`);
      this.skip();
    }
    const { core, apps } = real.cluster;
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'settings' }, data: { mode: 'before' } } });
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'gameday/web:1', ports: [{ containerPort: 8080 }] }] } } },
      },
    });
    for (const deadline = Date.now() + 30_000; ((await apps.readNamespacedDeployment({ namespace: NS, name: 'web' })).status?.readyReplicas ?? 0) < 2; ) {
      if (Date.now() > deadline) throw new Error('web never had 2 ready replicas');
      await new Promise((r) => setTimeout(r, 250));
    }
    report = await runEtcdSnapshotDrill({
      controlPlane: real.cluster.controlPlane,
      kubeConfig: real.cluster.kubeConfig,
      delete: [
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web' },
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'settings' },
      ],
    });
  });

  it('restores the deleted objects from the snapshot, timing the API server\'s recovery', async () => {
    expect(report.snapshot.bytes).to.be.greaterThan(0);
    expect(report.objects).to.deep.equal([
      { object: `Deployment ${NS}/web`, cameBack: true },
      { object: `ConfigMap ${NS}/settings`, cameBack: true },
    ]);
    expect(report.rtoMs).to.be.a('number').greaterThan(0);
    expect((await real.cluster.core.readNamespacedConfigMap({ namespace: NS, name: 'settings' })).data).to.deep.equal({ mode: 'before' });
  });

  it('the controllers and nodes reconcile: the Deployment is ready again in pods started after the restore', () => {
    expect(report.workloads).to.have.length(1);
    expect(report.workloads[0]!.reconciledMs, report.workloads[0]!.state).to.be.a('number');
  });
});
