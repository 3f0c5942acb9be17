import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { watchHealthy } from '../support/healthy-watch.js';
import { webDeployment } from '../support/kube-objects.js';
import { isReady, podsOf, startSim, type SimClients } from './sim-fixture.js';

describe('sim workload controllers', function () {
  this.timeout(20_000);
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  it('makes a Deployment available with pods Ready through real readiness probes', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('web', 3) });
    const d = await eventually('web available', async () => {
      const d = await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' });
      return d.status?.availableReplicas === 3 && d.status.observedGeneration === d.metadata?.generation ? d : undefined;
    });
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).to.equal('True');
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).to.equal('NewReplicaSetAvailable');
    const pods = await podsOf(sim.core, 'default', 'web');
    expect(pods).to.have.length(3);
    for (const p of pods) {
      expect(p.status?.phase).to.equal('Running');
      expect(isReady(p)).to.equal(true);
      expect(p.status?.podIP).to.match(/^10\.244\.\d+\.\d+$/);
      expect(p.status?.containerStatuses?.[0]?.ready).to.equal(true);
      expect(p.metadata?.labels?.['pod-template-hash']).to.be.a('string');
    }
    expect(new Set(pods.map((p) => p.spec?.nodeName)).size).to.equal(3, 'spread over the three workers');
    expect(pods.every((p) => p.spec?.nodeName !== 'gameday-control-plane')).to.equal(true);
    const events = await sim.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${pods[0]!.metadata!.name}` });
    expect(events.items.map((e) => e.reason)).to.include.members(['Scheduled', 'Started']);
  });

  it('keeps a pod not ready while its readiness probe fails (startup delay)', async () => {
    const body = webDeployment('slow', 1, { env: { GAMEDAY_STARTUP_DELAY: '1500ms' } });
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body });
    const running = await eventually('slow running', async () => (await podsOf(sim.core, 'default', 'slow')).find((p) => p.status?.phase === 'Running'));
    expect(isReady(running)).to.equal(false);
    await eventually('slow ready', async () => (await podsOf(sim.core, 'default', 'slow')).find(isReady));
  });

  it('scales a Deployment up and down', async () => {
    await sim.apps.patchNamespacedDeploymentScale({ namespace: 'default', name: 'web', body: [{ op: 'replace', path: '/spec/replicas', value: 5 }] });
    await eventually('5 ready', async () => (await podsOf(sim.core, 'default', 'web')).filter(isReady).length === 5);
    await sim.apps.patchNamespacedDeploymentScale({ namespace: 'default', name: 'web', body: [{ op: 'replace', path: '/spec/replicas', value: 2 }] });
    await eventually('2 pods left', async () => (await podsOf(sim.core, 'default', 'web')).length === 2);
    const d = await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' });
    await eventually('status 2', async () => (await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' })).status?.availableReplicas === 2);
    expect(d.spec?.replicas).to.equal(2);
  });

  it('rolls out a new template without dropping below maxUnavailable', async () => {
    await sim.apps.patchNamespacedDeployment({ namespace: 'default', name: 'web', body: [{ op: 'replace', path: '/spec/replicas', value: 4 }] });
    await eventually('4 available', async () => (await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' })).status?.availableReplicas === 4);
    const healthy = await watchHealthy(sim.kubeConfig, 'default', 'app=web');
    try {
      await sim.apps.patchNamespacedDeployment({ namespace: 'default', name: 'web', body: [{ op: 'add', path: '/spec/template/metadata/annotations', value: { rev: '2' } }] });
      const done = await eventually('rollout complete', async () => {
        const d = await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' });
        const s = d.status;
        return s && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && s.updatedReplicas === 4 && s.replicas === 4 && s.availableReplicas === 4 ? d : undefined;
      }, 15_000);
      expect(done.metadata?.annotations?.['deployment.kubernetes.io/revision']).to.equal('2');
    } finally {
      healthy.stop();
    }
    expect(healthy.lowest()).to.be.at.least(3, 'maxUnavailable 25% of 4 is 1');
    const rss = await sim.apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=web' });
    expect(rss.items).to.have.length(2);
    expect(rss.items.map((r) => r.spec?.replicas).sort()).to.deep.equal([0, 4]);
    const pods = await podsOf(sim.core, 'default', 'web');
    const newHash = rss.items.find((r) => r.spec?.replicas === 4)!.metadata!.labels!['pod-template-hash'];
    await eventually('old pods gone', async () => (await podsOf(sim.core, 'default', 'web')).every((p) => p.metadata?.labels?.['pod-template-hash'] === newHash));
    expect(pods.length).to.be.at.least(4);
  });

  it('creates StatefulSet pods in order with stable names and recreates a deleted one under its name', async () => {
    await sim.apps.createNamespacedStatefulSet({ namespace: 'default', body: {
      metadata: { name: 'db' },
      spec: {
        replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'db', image: 'gameday/web:1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 } }] } },
      },
    } });
    const seen: string[] = [];
    await eventually('3 ready members', async () => {
      const pods = await podsOf(sim.core, 'default', 'db');
      for (const p of pods) if (!seen.includes(p.metadata!.name!)) seen.push(p.metadata!.name!);
      // OrderedReady: a member exists only once every lower ordinal is Ready.
      for (const p of pods) {
        const ordinal = Number(p.metadata!.name!.split('-')[1]);
        for (let i = 0; i < ordinal; i++) expect(pods.find((q) => q.metadata?.name === `db-${i}`), `db-${i} before db-${ordinal}`).to.not.equal(undefined);
      }
      return pods.filter(isReady).length === 3;
    });
    expect(seen).to.deep.equal(['db-0', 'db-1', 'db-2']);
    const before = (await sim.core.readNamespacedPod({ namespace: 'default', name: 'db-1' })).metadata!.uid;
    await sim.core.deleteNamespacedPod({ namespace: 'default', name: 'db-1' });
    const again = await eventually('db-1 back', async () => {
      const p = await sim.core.readNamespacedPod({ namespace: 'default', name: 'db-1' });
      return p.metadata?.uid !== before && isReady(p) ? p : undefined;
    });
    expect(again.spec?.hostname).to.equal('db-1');
    const sts = await sim.apps.readNamespacedStatefulSet({ namespace: 'default', name: 'db' });
    expect(sts.status?.readyReplicas).to.equal(3);
  });

  it('runs one DaemonSet pod per worker and none on the tainted control plane', async () => {
    await sim.apps.createNamespacedDaemonSet({ namespace: 'kube-system', body: {
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'registry.example/agent:1' }] } } },
    } });
    const pods = await eventually('3 agents running', async () => {
      const pods = await podsOf(sim.core, 'kube-system', 'agent');
      return pods.length === 3 && pods.every((p) => p.status?.phase === 'Running') ? pods : undefined;
    });
    expect(pods.map((p) => p.spec?.nodeName).sort()).to.deep.equal(['gameday-worker', 'gameday-worker2', 'gameday-worker3']);
    const ds = await eventually('ds status', async () => {
      const ds = await sim.apps.readNamespacedDaemonSet({ namespace: 'kube-system', name: 'agent' });
      return ds.status?.numberReady === 3 ? ds : undefined;
    });
    expect(ds.status?.desiredNumberScheduled).to.equal(3);
  });

  it('runs a Job to completion', async () => {
    await sim.batch.createNamespacedJob({ namespace: 'default', body: {
      metadata: { name: 'pi' },
      spec: { completions: 2, parallelism: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34', command: ['perl', '-e', 'print 1'] }] } } },
    } });
    const job = await eventually('job complete', async () => {
      const j = await sim.batch.readNamespacedJob({ namespace: 'default', name: 'pi' });
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    });
    expect(job.status?.succeeded).to.equal(2);
    const pods = (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: 'job-name=pi' })).items;
    expect(pods.map((p) => p.status?.phase)).to.deep.equal(['Succeeded', 'Succeeded']);
  });

  it('fails a Job whose pods exit non-zero past its backoffLimit', async () => {
    await sim.batch.createNamespacedJob({ namespace: 'default', body: {
      metadata: { name: 'broken' },
      spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'b', image: 'busybox', command: ['sh', '-c', 'exit 3'] }] } } },
    } });
    const job = await eventually('job failed', async () => {
      const j = await sim.batch.readNamespacedJob({ namespace: 'default', name: 'broken' });
      return j.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
    });
    expect(job.status?.failed).to.equal(2);
    expect(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason).to.equal('BackoffLimitExceeded');
  });

  it('garbage-collects a deleted Deployment\'s ReplicaSets and pods', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('gc', 2, { grace: 0 }) });
    await eventually('gc pods', async () => (await podsOf(sim.core, 'default', 'gc')).length === 2);
    await sim.apps.deleteNamespacedDeployment({ namespace: 'default', name: 'gc' });
    await eventually('rs gone', async () => (await sim.apps.listNamespacedReplicaSet({ namespace: 'default', labelSelector: 'app=gc' })).items.length === 0);
    await eventually('pods gone', async () => (await podsOf(sim.core, 'default', 'gc')).length === 0);
  });

  it('holds a Deployment deleted in the foreground until its dependents are gone', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('fg', 1, { grace: 1 }) });
    await eventually('fg pod', async () => (await podsOf(sim.core, 'default', 'fg')).some(isReady));
    await sim.apps.deleteNamespacedDeployment({ namespace: 'default', name: 'fg', propagationPolicy: 'Foreground' });
    const held = await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'fg' });
    expect(held.metadata?.finalizers).to.include('foregroundDeletion');
    await eventually('fg deployment gone', async () => (await sim.apps.listNamespacedDeployment({ namespace: 'default', fieldSelector: 'metadata.name=fg' })).items.length === 0);
    expect(await podsOf(sim.core, 'default', 'fg')).to.have.length(0);
  });

  it('empties and removes a deleted namespace', async () => {
    await sim.core.createNamespace({ body: { metadata: { name: 'scratch' } } });
    await sim.apps.createNamespacedDeployment({ namespace: 'scratch', body: webDeployment('w', 1, { grace: 0 }) });
    await eventually('scratch pod', async () => (await podsOf(sim.core, 'scratch', 'w')).length === 1);
    await sim.core.deleteNamespace({ name: 'scratch' });
    await eventually('namespace gone', async () => (await sim.core.listNamespace()).items.every((n) => n.metadata?.name !== 'scratch'));
    expect((await sim.core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=scratch' })).items).to.have.length(0);
  });
});
