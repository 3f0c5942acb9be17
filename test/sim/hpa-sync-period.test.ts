import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { SYNC_PERIOD_ANNOTATION } from '../../src/sim/controllers/hpa.js';
import { eventually } from '../support/eventually.js';
import { webDeployment } from '../support/kube-objects.js';
import { startSim, type SimClients } from './sim-fixture.js';

/**
 * The embedded cluster's own knob on an HPA: `gameday.dev/sync-period` reconciles that HPA at its
 * own period instead of the controller's (--horizontal-pod-autoscaler-sync-period), so a shipped
 * experiment can show a spike absorbed in seconds; a bad value is a Warning event.
 */
describe('HPA sync period of its own (gameday.dev/sync-period)', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let autoscaling: k8s.AutoscalingV2Api;
  // The controller's own period is far beyond the test: whatever syncs here, the annotation did.
  before(async () => {
    sim = await startSim({ hpaSyncPeriodMs: 600_000 });
    autoscaling = sim.kubeConfig.makeApiClient(k8s.AutoscalingV2Api);
  });
  after(() => sim?.cluster.stop());

  /** An HPA whose minimum (3) is above its Deployment's 2 replicas: its first sync scales it to 3, without any metric. */
  async function hpaAboveItsDeployment(name: string, syncPeriod: string): Promise<void> {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment(name, 2) });
    await autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace: 'default',
      body: {
        metadata: { name, annotations: { [SYNC_PERIOD_ANNOTATION]: syncPeriod } },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas: 3,
          maxReplicas: 5,
          metrics: [{ type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } }],
        },
      },
    });
  }

  const replicasOf = async (name: string): Promise<number | undefined> => (await sim.apps.readNamespacedDeployment({ namespace: 'default', name })).spec?.replicas;

  it('syncs an annotated HPA at its own period: it scales its Deployment up to its minimum and says why', async () => {
    await hpaAboveItsDeployment('fast', '200ms');
    await eventually('3 replicas', async () => (await replicasOf('fast')) === 3, 10_000);
    const events = await sim.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=fast' });
    expect(events.items.map((e) => `${e.reason}: ${e.message}`)).to.include('SuccessfulRescale: New size: 3; reason: Current number of replicas below Spec.MinReplicas');
  });

  it('names a period it cannot read in one Warning event and keeps the controller\'s period', async () => {
    await hpaAboveItsDeployment('unreadable', 'soon');
    const warning = await eventually('an InvalidSyncPeriod event', async () => {
      const events = await sim.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=unreadable' });
      return events.items.find((e) => e.reason === 'InvalidSyncPeriod');
    });
    expect(warning.type).to.equal('Warning');
    expect(warning.message).to.equal('annotation gameday.dev/sync-period: "soon" is not a duration of at least 100ms, like 1s; syncing every 600000ms');
    expect(warning.count ?? 1).to.equal(1);
    expect(await replicasOf('unreadable')).to.equal(2);
  });
});
