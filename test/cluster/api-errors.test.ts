import { ApiException, PolicyV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { expect } from 'chai';
import { errorMessage } from '../../src/core/errors.js';
import { apiStatusOf, isAlreadyExists, isConflict, isInvalid, isNotFound, isTooManyRequests } from '../../src/cluster/api-errors.js';
import { isReady, podsOf, startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { webDeployment } from '../support/kube-objects.js';

const predicates = { isNotFound, isConflict, isAlreadyExists, isInvalid, isTooManyRequests };
type Predicate = keyof typeof predicates;

/** The predicates that hold for what `request` threw. */
async function errorKinds(request: () => Promise<unknown>): Promise<Predicate[]> {
  try {
    await request();
  } catch (err) {
    return (Object.keys(predicates) as Predicate[]).filter((name) => predicates[name](err));
  }
  expect.fail('expected the request to fail');
}

describe('cluster/api-errors against the embedded cluster', function () {
  this.timeout(30_000);
  const NS = 'default';
  let sim: SimClients;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.cluster.stop());

  const configMap = (name: string, resourceVersion?: string): V1ConfigMap => ({ metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) }, data: { k: 'v' } });

  it('tells a missing object, a taken name, a lost write race and a refused patch apart', async () => {
    expect(await errorKinds(() => sim.core.readNamespacedConfigMap({ namespace: NS, name: 'nowhere' }))).to.deep.equal(['isNotFound']);
    expect(await errorKinds(() => sim.core.readNamespacedConfigMap({ namespace: 'no-such-namespace', name: 'x' }))).to.deep.equal(['isNotFound']);

    const created = await sim.core.createNamespacedConfigMap({ namespace: NS, body: configMap('taken') });
    expect(await errorKinds(() => sim.core.createNamespacedConfigMap({ namespace: NS, body: configMap('taken') }))).to.deep.equal(['isAlreadyExists']);

    await sim.core.replaceNamespacedConfigMap({ namespace: NS, name: 'taken', body: configMap('taken', created.metadata!.resourceVersion) });
    const stale = () => sim.core.replaceNamespacedConfigMap({ namespace: NS, name: 'taken', body: configMap('taken', created.metadata!.resourceVersion) });
    expect(await errorKinds(stale)).to.deep.equal(['isConflict']);

    const failedTest = [{ op: 'test', path: '/data/k', value: 'other' }, { op: 'replace', path: '/data/k', value: 'w' }];
    expect(await errorKinds(() => sim.core.patchNamespacedConfigMap({ namespace: NS, name: 'taken', body: failedTest }))).to.deep.equal(['isInvalid']);
  });

  it('knows a budget refusing an eviction, and reads the Status that says why', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment('guarded', 1) });
    await sim.kubeConfig.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
      namespace: NS,
      body: { metadata: { name: 'guarded' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } } },
    });
    const pod = await eventually('a ready pod', async () => (await podsOf(sim.core, NS, 'guarded')).find(isReady));
    const evict = () => sim.core.createNamespacedPodEviction({ namespace: NS, name: pod.metadata!.name!, body: { metadata: { name: pod.metadata!.name!, namespace: NS } } });
    let refusal: unknown;
    await eventually('the budget refuses', async () => {
      try {
        await evict();
        return false;
      } catch (err) {
        refusal = err;
        return isTooManyRequests(err);
      }
    });
    expect((Object.keys(predicates) as Predicate[]).filter((name) => predicates[name](refusal))).to.deep.equal(['isTooManyRequests']);
    const status = apiStatusOf(refusal as ApiException<unknown>);
    expect(status.reason).to.equal('TooManyRequests');
    expect(status.details?.causes?.some((c) => c.reason === 'DisruptionBudget')).to.equal(true);
  });

  it('says an API error as the API server\'s Status does, without client-node\'s dump of the body and headers', async () => {
    let err: unknown;
    await sim.core.readNamespacedConfigMap({ namespace: NS, name: 'nowhere' }).catch((e: unknown) => (err = e));
    expect(errorMessage(err)).to.equal('HTTP 404 NotFound: configmaps "nowhere" not found');
    const notStatus = new ApiException(502, 'Bad Gateway', '<html>proxy error</html>', { 'set-cookie': 'session=s3cret' });
    expect(errorMessage(notStatus)).to.equal('HTTP 502: Bad Gateway (<html>proxy error</html>)');
    expect(errorMessage(new Error('connect ECONNREFUSED'))).to.equal('connect ECONNREFUSED');
  });

  it('counts a 409 without a reason as either, and anything that is not an API answer as none', () => {
    const bare = new ApiException(409, 'Conflict', undefined, {});
    expect(isConflict(bare) && isAlreadyExists(bare)).to.equal(true);
    expect(apiStatusOf(new ApiException(500, 'x', 'not json', {}))).to.deep.equal({ message: 'not json' });
    for (const err of [new Error('connect ECONNREFUSED'), { code: 404 }, undefined]) {
      expect(Object.values(predicates).some((is) => is(err))).to.equal(false);
    }
  });
});
