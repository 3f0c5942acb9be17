import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { readinessProbe } from '../../src/probes/readiness.js';
import { eventually, startSim, type SimClients } from '../sim/sim-fixture.js';
import { createAll, kubeConfigOf, startProbe, until, webDeployment } from './probe-harness.js';

describe('readiness probe (watch-based, embedded cluster)', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let kc: k8s.KubeConfig;

  before(async () => {
    sim = await startSim();
    kc = kubeConfigOf(sim.cluster.kubeconfigYaml());
    await createAll(kc, webDeployment('shop', 'web', 3));
    await eventually('3 ready web pods', async () => ((await sim.apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' })).status?.readyReplicas ?? 0) >= 3);
  });
  after(() => sim.cluster.stop());

  it('holds while a well-behaved pod is killed: its endpoint leaves before or with its readiness', async () => {
    const probe = await startProbe(readinessProbe, { target: 'shop/web' }, kc);
    try {
      expect(probe.samples[0]).to.include({ ok: true, value: 3 });
      const [victim] = (await sim.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items;
      await sim.core.deleteNamespacedPod({ namespace: 'shop', name: victim!.metadata!.name! });
      await until('the endpoint to leave', () => probe.samples.some((s) => !(s.detail?.readyEndpoints as string[]).includes(victim!.metadata!.name!)));
      await until('three ready endpoints again', () => probe.samples.at(-1)?.value === 3);
      expect(probe.samples.filter((s) => !s.ok)).to.deep.equal([]);
    } finally {
      await probe.stop();
    }
  });

  it('flags an endpoint that stays ready after its pod stopped being ready, once the grace is over', async () => {
    // A Service without selector has hand-kept endpoints: nothing takes the unready pod out.
    await createAll(kc, [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } } as k8s.KubernetesObject,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'slow', namespace: 'shop', labels: { app: 'slow' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'gameday/web:1',
              env: [{ name: 'GAMEDAY_STARTUP_DELAY', value: '1h' }],
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      } as k8s.KubernetesObject,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'manual-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'manual' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.9.9.9'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'slow', namespace: 'shop' } }],
        ports: [{ port: 8080 }],
      } as k8s.KubernetesObject,
    ]);
    const probe = await startProbe(readinessProbe, { target: 'shop/manual', grace: '300ms' }, kc);
    try {
      expect(probe.samples[0]!.ok, 'within the grace it is only lagging').to.equal(true);
      expect(probe.samples[0]!.detail?.withinGrace).to.deep.equal(['slow']);
      const bad = await until('a violation', () => probe.samples.find((s) => !s.ok), 5000);
      expect(bad.error).to.equal('routed-to-unready');
      expect(bad.detail?.routedToUnready).to.deep.include({ pod: 'slow', why: 'pod-not-ready', since: probe.samples[0]!.t });
      expect(bad.t - probe.samples[0]!.t).to.be.at.least(300);
    } finally {
      await probe.stop();
    }
  });
});
