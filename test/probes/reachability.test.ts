import type * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { reachabilityProbe } from '../../src/probes/reachability.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { checkFunctionProblem } from '../../src/slo/functions.js';
import { parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';
import { isReady, startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { collectingContext, embeddedTarget, type CollectingContext } from './collecting-context.js';

const PATH = 'shop/frontend -> payments/db:5432';
const CHECK = `reachable(${PATH}) == false`;

function pod(namespace: string, app: string, image: string, port: number): k8s.V1Pod {
  return { metadata: { name: `${app}-0`, namespace, labels: { app } }, spec: { containers: [{ name: app, image, ports: [{ containerPort: port }] }] } };
}

function service(namespace: string, app: string, port: number): k8s.V1Service {
  return { metadata: { name: app, namespace }, spec: { selector: { app }, ports: [{ port, targetPort: port }] } };
}

/**
 * reachable() on the embedded cluster, whose data plane honours NetworkPolicy: the probe execs
 * nc -z in the frontend pod, so a default-deny policy in payments closes the path to the database
 * while the policy's allowed path to the API stays open.
 */
describe('probes/reachability on the embedded cluster', function () {
  this.timeout(60_000);
  let sim: SimClients;

  before(async () => {
    sim = await startSim();
    for (const ns of ['shop', 'payments']) await sim.core.createNamespace({ body: { metadata: { name: ns } } });
    await sim.core.createNamespacedPod({ namespace: 'shop', body: pod('shop', 'frontend', 'nginx:1.27', 80) });
    await sim.core.createNamespacedPod({ namespace: 'payments', body: pod('payments', 'db', 'postgres:16', 5432) });
    await sim.core.createNamespacedPod({ namespace: 'payments', body: pod('payments', 'api', 'nginx:1.27', 80) });
    await sim.core.createNamespacedService({ namespace: 'payments', body: service('payments', 'db', 5432) });
    await sim.core.createNamespacedService({ namespace: 'payments', body: service('payments', 'api', 80) });
    const np = sim.networking;
    await np.createNamespacedNetworkPolicy({ namespace: 'payments', body: { metadata: { name: 'default-deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } } });
    await np.createNamespacedNetworkPolicy({
      namespace: 'payments',
      body: {
        metadata: { name: 'api-from-shop' },
        spec: { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'], ingress: [{ _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } } }], ports: [{ port: 80 }] }] },
      },
    });
    for (const [ns, name] of [['shop', 'frontend-0'], ['payments', 'db-0'], ['payments', 'api-0']] as const) {
      await eventually(`${ns}/${name} to be ready`, async () => isReady(await sim.core.readNamespacedPod({ namespace: ns, name })));
    }
    // A Service without a ready endpoint refuses connections (as kube-proxy does): wait for both to route.
    for (const name of ['db', 'api']) {
      await eventually(`payments/${name} to have its endpoint`, async () => ((await sim.core.readNamespacedEndpoints({ namespace: 'payments', name })).subsets?.[0]?.addresses?.length ?? 0) > 0);
    }
    await new Promise((r) => setTimeout(r, 2 * sim.cluster.timings.endpointPropagationMs));
  });

  after(async () => {
    await sim?.cluster.stop();
  });

  /** Runs the probe until `until` holds of its samples, then stops it. */
  async function probeUntil(params: unknown, name: string, until: (ctx: CollectingContext) => boolean, during?: (ctx: CollectingContext) => Promise<void>): Promise<CollectingContext> {
    const ctx = collectingContext({ cluster: await embeddedTarget(sim.cluster), name });
    const running = await reachabilityProbe.start(ctx, reachabilityProbe.params.parse({ every: '100ms', ...(params as object) }));
    try {
      await during?.(ctx);
      await eventually(`${name} to answer`, () => until(ctx), 20_000);
    } finally {
      await running.stop();
    }
    expect(ctx.failures).to.deep.equal([]);
    return ctx;
  }

  it('records the matrix from inside the source pod: the denied path to the database, the allowed one to the API', async () => {
    const ctx = await probeUntil({ from: { namespace: 'shop', labels: { app: 'frontend' } }, to: ['payments/db:5432', 'payments/api:80'] }, 'matrix', (c) => c.samples.length >= 2);
    const byDestination = Object.fromEntries(ctx.samples.map((s) => [s.detail!.to, s]));
    expect(byDestination['payments/db:5432']).to.deep.include({ ok: true, value: 0 });
    expect(byDestination['payments/db:5432']!.detail!.matrix).to.deep.equal([{ from: 'shop/frontend-0', reachable: false, said: 'nc: db.payments.svc.cluster.local (' + (await sim.core.readNamespacedService({ namespace: 'payments', name: 'db' })).spec!.clusterIP + ':5432): Connection timed out' }]);
    expect(byDestination['payments/api:80']).to.deep.include({ ok: true, value: 1 });
    expect(byDestination['payments/api:80']!.detail).to.deep.include({ message: 'open: shop/frontend-0 -> payments/api:80', matrix: [{ from: 'shop/frontend-0', reachable: true }] });
  });

  it('passes reachable(...) == false under the default-deny policy, and fails naming the open path once the policy is gone', async () => {
    expect(checkFunctionProblem(parseCheck(CHECK))).to.equal(undefined);
    const name = `reachable(${PATH})`;
    const ctx = await probeUntil(
      { target: PATH },
      name,
      (c) => c.samples.some((s) => s.value === 1),
      async (running) => {
        await eventually('the denied reading', () => running.samples.length > 0);
        await sim.networking.deleteNamespacedNetworkPolicy({ namespace: 'payments', name: 'default-deny' });
      },
    );
    const idx = new SampleIndex();
    for (const s of ctx.samples) idx.add(s);
    const [denied, open] = [ctx.samples[0]!, ctx.samples.at(-1)!];
    expect(denied).to.deep.include({ ok: true, value: 0 });
    expect(evaluateCheck(parseCheck(CHECK), idx, { from: denied.t, to: open.t - 1 }, 'worst-window').verdict).to.equal('passed');
    const broken = evaluateCheck(parseCheck(CHECK), idx, { from: denied.t, to: open.t + 1 }, 'worst-window');
    expect(broken.verdict).to.equal('failed');
    expect(broken.message).to.include('= true (need == false)').and.include('open: shop/frontend-0 -> payments/db:5432');
  });
});

describe('probes/reachability parameters', () => {
  const problems = (raw: unknown): string[] => {
    const r = reachabilityProbe.params.safeParse(raw);
    return r.success ? [] : r.error.issues.map((i) => i.message);
  };

  it('takes one path as reachable() writes it, or sources and destinations, and says how to write either', () => {
    expect(problems({ target: PATH })).to.deep.equal([]);
    expect(problems({ from: { namespace: 'shop', labels: { app: 'frontend' } }, to: ['payments/db:5432', 'pod/payments/db-0:5432'] })).to.deep.equal([]);
    expect(problems({ target: 'shop/frontend to payments/db:5432' })).to.deep.equal(['write the path as namespace/app -> namespace/service:port, like "shop/frontend -> payments/db:5432"']);
    expect(problems({ from: { namespace: 'shop' }, to: ['payments/db'] })).to.deep.equal(['write a destination as namespace/service:port or pod/namespace/name:port, like payments/db:5432']);
    expect(problems({ target: PATH, to: ['payments/db:5432'] })).to.deep.equal(['give either target, or both from and to']);
    expect(problems({ from: { namespace: 'shop' } })).to.deep.equal(['give either target, or both from and to']);
  });
});
