import { PolicyV1Api } from '@kubernetes/client-node';
import { expect } from 'chai';
import { BudgetWatch, type BudgetWake } from '../../src/cluster/budget-watch.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { webDeployment } from '../support/kube-objects.js';
import { WatchProxy } from './watch-proxy.js';

const NS = 'budget-watch';
const APP = { app: 'guarded' };

describe('cluster/budget-watch on the embedded cluster behind a proxy', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let proxy: WatchProxy;
  let budgets: BudgetWatch | undefined;
  const path = `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`;

  before(async () => {
    sim = await startSim();
    await sim.core.createNamespace({ body: { metadata: { name: NS } } });
    await sim.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment('guarded', 1) });
    await sim.kubeConfig.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace: NS,
      body: { metadata: { name: 'guarded' }, spec: { minAvailable: 1, selector: { matchLabels: APP } } },
    });
  });
  after(() => sim.cluster.stop());
  beforeEach(async () => {
    proxy = await WatchProxy.start(sim.cluster.url);
    await scaleTo(1, 0);
  });
  afterEach(async () => {
    budgets?.close();
    budgets = undefined;
    await proxy.stop();
  });

  /** Scales the guarded Deployment and waits until its budget's status allows `room` disruptions. */
  async function scaleTo(replicas: number, room: number): Promise<void> {
    await sim.apps.patchNamespacedDeploymentScale({ namespace: NS, name: 'guarded', body: [{ op: 'replace', path: '/spec/replicas', value: replicas }] });
    await eventually(`room for ${room} disruptions`, async () => {
      const pdb = await sim.kubeConfig.makeApiClient(PolicyV1Api).readNamespacedPodDisruptionBudget({ namespace: NS, name: 'guarded' });
      return pdb.status?.disruptionsAllowed === room && (pdb.status.observedGeneration ?? 0) >= (pdb.metadata?.generation ?? 0) && pdb.status.currentHealthy === replicas;
    }, 15_000);
  }

  /** Starts a wait and reports how it ended, and when. */
  function waitForRoom(): { readonly woke: Promise<{ why: BudgetWake; afterMs: number }> } {
    const started = Date.now();
    return { woke: budgets!.waitForDisruption(NS, APP, new AbortController().signal).then((why) => ({ why, afterMs: Date.now() - started })) };
  }

  it('wakes a blocked eviction as soon as its budget has room, also after the server ended the watch', async () => {
    budgets = new BudgetWatch(proxy.kubeConfig(), { fallbackMs: 60_000 });
    const { woke } = waitForRoom();
    let settled = false;
    void woke.then(() => (settled = true));
    await eventually('the budget watched', () => proxy.watchesOf(path) === 1);
    proxy.endWatches();
    await eventually('the watch resumed', () => proxy.watchesOf(path) === 2);
    expect(settled, 'no room yet').to.equal(false);
    await scaleTo(2, 1);
    expect((await woke).why).to.equal('allowed');
  });

  it('hands one slot of room to one waiter, however many other changes make the waiters look again at the same status', async () => {
    budgets = new BudgetWatch(proxy.kubeConfig(), { fallbackMs: 60_000 });
    const woken: BudgetWake[] = [];
    for (let i = 0; i < 3; i++) void budgets.waitForDisruption(NS, APP, new AbortController().signal).then((why) => woken.push(why));
    await scaleTo(2, 1);
    await eventually('one waiter woken', () => woken.length === 1);
    // Each new budget in the namespace makes every waiter look again; the guarded budget's status is unchanged.
    const policy = sim.kubeConfig.makeApiClient(PolicyV1Api);
    const others = ['other-a', 'other-b', 'other-c'];
    for (const name of others) await policy.createNamespacedPodDisruptionBudget({ namespace: NS, body: { metadata: { name }, spec: { minAvailable: 0, selector: { matchLabels: { app: name } } } } });
    await new Promise((r) => setTimeout(r, 500));
    expect(woken).to.deep.equal(['allowed']);
    for (const name of others) await policy.deleteNamespacedPodDisruptionBudget({ namespace: NS, name });
  });

  it('on the fallback interval, retries only when a fresh read of the budget shows room the watch missed', async () => {
    budgets = new BudgetWatch(proxy.kubeConfig(), { fallbackMs: 1000 });
    const { woke } = waitForRoom();
    let settled = false;
    void woke.then(() => (settled = true));
    await eventually('the budget watched', () => proxy.watchesOf(path) === 1);
    const reads = proxy.listsOf(path);
    await eventually('two fallback reads of the budget', () => proxy.listsOf(path) >= reads + 2, 10_000);
    expect(settled, 'no room: the fallback reads, and does not retry').to.equal(false);
    proxy.muted = true;
    await scaleTo(2, 1);
    expect((await woke).why).to.equal('fallback');
  });

  it('stops trusting the budgets of a namespace whose watch gave up, and wakes its waiters on the fallback interval', async () => {
    const logs: string[] = [];
    budgets = new BudgetWatch(proxy.kubeConfig(), { fallbackMs: 1500, giveUpAfterMs: 1000, log: (m) => logs.push(m) });
    await scaleTo(2, 1);
    expect((await waitForRoom().woke).why).to.equal('allowed');
    proxy.refusing = true;
    proxy.endWatches();
    await eventually('giving up', () => logs.some((l) => l.includes('no longer watched')), 10_000);
    expect(logs[0]).to.match(/^budget watch on \/apis\/policy\/v1\/namespaces\/budget-watch\/poddisruptionbudgets broke .*; re-watching in 0\.[0-5]s$/);
    expect(logs.at(-1)).to.match(/^budgets in budget-watch are no longer watched, so blocked evictions there are retried every 1.5s: the watch on .* stayed broken/);
    // The last the cache heard is room for one; the budget has none now.
    await scaleTo(1, 0);
    const { why, afterMs } = await waitForRoom().woke;
    expect(why).to.equal('fallback');
    expect(afterMs).to.be.at.least(1400);
  });
});
