import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import type { Sample } from '../../src/core/sample.js';
import { httpProbe } from '../../src/probes/http.js';
import type { ProbeContext, SampleFeed, SampleOrigin } from '../../src/probes/probe.js';
import { readinessProbe } from '../../src/probes/readiness.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { webPod } from '../support/kube-objects.js';
import { collectingContext, embeddedTarget } from './collecting-context.js';
import { createAll, startProbe, webApp } from './probe-harness.js';

/** A Service without selector: its endpoints are kept by hand, so nothing takes an unready pod out. */
const serviceWithoutSelector = (name: string): k8s.V1Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { ports: [{ port: 80 }] } });

/** A gameday/web pod still starting an hour from now: running, never ready. */
const neverReadyPod = (name: string): k8s.V1Pod => webPod(name, { namespace: 'shop', env: { GAMEDAY_STARTUP_DELAY: '1h' }, liveness: false });

/** An EndpointSlice of `service` that calls the pod `pod` at `ip` ready, whatever the pod says. */
const readyEndpoint = (service: string, ip: string, pod: string): k8s.V1EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: [{ addresses: [ip], conditions: { ready: true }, targetRef: { kind: 'Pod', name: pod, namespace: 'shop' } }],
  ports: [{ port: 8080 }],
});

describe('readiness probe (watch-based, embedded cluster)', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let kc: k8s.KubeConfig;

  before(async () => {
    sim = await startSim();
    kc = sim.kubeConfig;
    await createAll(kc, webApp('shop', 'web', 3));
    await eventually('3 ready web pods', async () => ((await sim.apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' })).status?.readyReplicas ?? 0) >= 3);
  });
  after(() => sim.cluster.stop());

  it('holds while a well-behaved pod is killed: its endpoint leaves before or with its readiness', async () => {
    const probe = await startProbe(readinessProbe, { target: 'shop/web' }, kc);
    try {
      expect(probe.samples[0]).to.include({ ok: true, value: 3 });
      const [victim] = (await sim.core.listNamespacedPod({ namespace: 'shop', labelSelector: 'app=web' })).items;
      await sim.core.deleteNamespacedPod({ namespace: 'shop', name: victim!.metadata!.name! });
      await eventually('the endpoint to leave', () => probe.samples.some((s) => !(s.detail?.readyEndpoints as string[]).includes(victim!.metadata!.name!)));
      await eventually('three ready endpoints again', () => probe.samples.at(-1)?.value === 3);
      expect(probe.samples.filter((s) => !s.ok)).to.deep.equal([]);
    } finally {
      await probe.stop();
    }
  });

  it('flags an endpoint that stays ready after its pod stopped being ready, once the grace is over', async () => {
    // A Service without selector has hand-kept endpoints: nothing takes the unready pod out.
    await createAll(kc, [
      serviceWithoutSelector('manual'),
      neverReadyPod('slow'),
      readyEndpoint('manual', '10.9.9.9', 'slow'),
    ]);
    const probe = await startProbe(readinessProbe, { target: 'shop/manual', grace: '300ms' }, kc);
    try {
      expect(probe.samples[0]!.ok, 'within the grace it is only lagging').to.equal(true);
      expect(probe.samples[0]!.detail?.withinGrace).to.deep.equal(['slow']);
      const bad = await eventually('a violation', () => probe.samples.find((s) => !s.ok), 5000);
      expect(bad.error).to.equal('routed-to-unready');
      expect(bad.detail?.routedToUnready).to.deep.include({ pod: 'slow', why: 'pod-not-ready', since: probe.samples[0]!.t });
      expect(bad.t - probe.samples[0]!.t).to.be.at.least(300);
    } finally {
      await probe.stop();
    }
  });

  it('blames requests that a named probe saw fail on a not-ready pod, found by the IP in a custom header', async () => {
    // A pod that never becomes ready behind a hand-kept endpoint, and an edge proxy in front of it
    // that answers 503 and says which pod IP it tried, as an ingress controller would.
    await createAll(kc, [serviceWithoutSelector('edge'), neverReadyPod('stuck')]);
    const ip = await eventually('the stuck pod to get an IP', async () => (await sim.core.readNamespacedPod({ namespace: 'shop', name: 'stuck' })).status?.podIP);
    await createAll(kc, [readyEndpoint('edge', ip, 'stuck')]);
    const edge = http.createServer((_req, res) => res.writeHead(503, { 'x-served-by': ip }).end('upstream not ready\n'));
    await new Promise<void>((resolve) => edge.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(edge.address() as AddressInfo).port}/`;

    const listeners = new Set<(sample: Sample, origin: SampleOrigin) => void>();
    const feed: SampleFeed = { subscribe: (l) => (listeners.add(l), () => listeners.delete(l)) };
    const cluster = await embeddedTarget(sim.cluster);
    const requester = (name: string, params: unknown): ProbeContext & { samples: Sample[] } => {
      const ctx = collectingContext({ cluster, name });
      return { ...ctx, emit: (s) => (ctx.emit(s), listeners.forEach((l) => l(ctx.samples.at(-1)!, { kind: 'http', params }))) };
    };
    const judged = { url, podHeader: 'x-served-by', rate: '20/s' };
    const ignored = { url, rate: '20/s' };
    const readiness = { ...collectingContext({ cluster, name: 'readiness(shop/edge)' }), feed };
    const running = await readinessProbe.start(readiness, readinessProbe.params.parse({ target: 'shop/edge', grace: '300ms', probes: ['through-edge'] }));
    const through = requester('through-edge', judged);
    const other = requester('other', ignored);
    const probes = [await httpProbe.start(through, httpProbe.params.parse(judged)), await httpProbe.start(other, httpProbe.params.parse(ignored))];
    try {
      const blamed = await eventually('a failed-on-unready sample', () => readiness.samples.find((s) => s.error === 'failed-on-unready'), 5000);
      expect(blamed.detail).to.include({ pod: 'stuck', why: 'pod-not-ready', by: 'response-header', probe: 'through-edge', requestError: 'status-503', requestAt: blamed.t });
      expect(through.samples.every((s) => s.detail?.pod === ip), 'the sample keeps what the header said').to.equal(true);
      expect(other.samples.some((s) => !s.ok), 'the other probe failed too').to.equal(true);
      expect(readiness.samples.filter((s) => s.detail?.probe === 'other'), 'a probe not named is not judged').to.deep.equal([]);
    } finally {
      await Promise.all([...probes, running].map((p) => p.stop()));
      await new Promise((resolve) => edge.close(resolve));
    }
  });
});
