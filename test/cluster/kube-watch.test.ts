import type { V1ConfigMap } from '@kubernetes/client-node';
import { expect } from 'chai';
import { KubeWatch } from '../../src/cluster/kube-watch.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { WatchProxy } from './watch-proxy.js';

describe('cluster/kube-watch: one retry policy, on the embedded cluster behind a proxy', function () {
  this.timeout(30_000);
  let sim: SimClients;
  let proxy: WatchProxy;
  let watch: KubeWatch<V1ConfigMap> | undefined;
  let namespace = '';
  let tests = 0;
  let retries: string[];
  let gaveUp: Error[];
  const path = (): string => `/api/v1/namespaces/${namespace}/configmaps`;

  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());
  beforeEach(async () => {
    proxy = await WatchProxy.start(sim.cluster.url);
    namespace = `kube-watch-${++tests}`;
    await sim.core.createNamespace({ body: { metadata: { name: namespace } } });
    retries = [];
    gaveUp = [];
  });
  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
    await proxy.stop();
  });

  const create = (name: string) => sim.core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { k: name } } });
  const names = (): string[] => watch!.list().map((c) => c.metadata!.name!).sort();

  async function startWatch(giveUpAfterMs?: number): Promise<void> {
    watch = new KubeWatch<V1ConfigMap>({
      kubeConfig: proxy.kubeConfig(),
      path: path(),
      onChange: () => undefined,
      onRetry: (message) => retries.push(message),
      onGiveUp: (error) => gaveUp.push(error),
      ...(giveUpAfterMs !== undefined ? { giveUpAfterMs } : {}),
    });
    await watch.start();
  }

  /** Starts watching a and b, then has the server refuse the watch and deletes a while it cannot be seen. */
  async function deleteWhileRefused(): Promise<void> {
    await create('a');
    await create('b');
    await startWatch();
    proxy.refusing = true;
    proxy.endWatches();
    await eventually('a retry', () => retries.length > 0);
    await sim.core.deleteNamespacedConfigMap({ namespace, name: 'a' });
  }

  it('a watch the server ends carries on from where it was and sees later changes, without listing again', async () => {
    await create('a');
    await startWatch();
    expect(names()).to.deep.equal(['a']);
    proxy.endWatches();
    await eventually('a second watch', () => proxy.watchesOf(path()) === 2);
    await create('b');
    await eventually('b in the cache', () => names().includes('b'));
    expect(proxy.listsOf(path())).to.equal(1);
    expect(retries).to.deep.equal([]);
  });

  it('after the server refused it for a while, it resumes from its resourceVersion and replays what it missed', async () => {
    await deleteWhileRefused();
    await create('c');
    proxy.refusing = false;
    await eventually('the missed changes in the cache', () => names().join() === 'b,c');
    expect(retries[0]).to.match(new RegExp(`^watch on ${path()} broke \\(.*\\); re-watching in 0\\.[0-5]s$`));
    expect(proxy.listsOf(path()), 'the server still had the history: no new list').to.equal(1);
    expect(gaveUp).to.deep.equal([]);
  });

  it('after a 410 it lists again, and the list takes out what was deleted meanwhile', async () => {
    await deleteWhileRefused();
    proxy.expireWatches(1);
    proxy.refusing = false;
    await eventually('a in the cache no more', () => names().join() === 'b');
    expect(proxy.listsOf(path())).to.equal(2);
    await create('d');
    await eventually('a change after the new list', () => names().join() === 'b,d');
    expect(gaveUp).to.deep.equal([]);
  });

  it('retries after pauses drawn under a ceiling that doubles (full jitter), then gives up once broken for giveUpAfterMs and stops', async () => {
    await startWatch(2500);
    proxy.refusing = true;
    proxy.endWatches();
    await eventually('giving up', () => gaveUp.length === 1, 10_000);
    const pauses = retries.map((r) => Number(/re-watching in ([\d.]+)s$/.exec(r)?.[1]));
    expect(pauses.length).to.be.at.least(2);
    pauses.forEach((s, i) => expect(s, `pause ${i + 1}`).to.be.at.most(Math.min(5, 0.5 * 2 ** i)));
    expect(gaveUp[0]!.message).to.match(new RegExp(`^the watch on ${path()} stayed broken for \\d+s: `));
    const watches = proxy.watchesOf(path());
    proxy.refusing = false;
    await new Promise((r) => setTimeout(r, 1000));
    expect(proxy.watchesOf(path()), 'no watch after giving up').to.equal(watches);
  });
});
