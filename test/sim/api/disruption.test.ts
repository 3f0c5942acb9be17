import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import { expect } from 'chai';
import { computeBudgetStatus } from '../../../src/sim/controllers/disruption.js';
import type { OwnerReference, StoredObject } from '../../../src/sim/store.js';

const RS: OwnerReference = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-1', controller: true };
const NOW = Date.parse('2026-01-01T12:00:00Z');

function pdb(spec: Record<string, unknown>, status: Record<string, unknown> = {}): StoredObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'shop', uid: 'p', resourceVersion: '1', creationTimestamp: '', generation: 3 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, status } as StoredObject;
}

function podOf(name: string, opts: { ready?: boolean; deleting?: boolean; owner?: OwnerReference | null; app?: string } = {}): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      uid: name,
      resourceVersion: '1',
      creationTimestamp: '',
      labels: { app: opts.app ?? 'web' },
      ...(opts.owner === null ? {} : { ownerReferences: [opts.owner ?? RS] }),
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T12:00:30Z' } : {}),
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  } as StoredObject;
}

function compute(budget: StoredObject, pods: StoredObject[], replicas = 4) {
  return computeBudgetStatus({ pdb: budget, pods, scaleOf: (_ns, ref) => (ref.uid === RS.uid ? replicas : undefined), now: NOW, deletionTimeoutMs: 120_000 });
}

describe('sim disruption controller: computeBudgetStatus', () => {
  const four = ['a', 'b', 'c', 'd'].map((n) => podOf(n));

  it('integer minAvailable: expected = matching pods, desired = minAvailable', () => {
    const { status } = compute(pdb({ minAvailable: 2 }), [...four, podOf('other', { app: 'db' })]);
    expect(status).to.deep.include({ expectedPods: 4, desiredHealthy: 2, currentHealthy: 4, disruptionsAllowed: 2, observedGeneration: 3 });
    expect((status['conditions'] as LooseJson[])[0]).to.include({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
  });

  it('percentage minAvailable rounds up against the controllers replicas', () => {
    const { status } = compute(pdb({ minAvailable: '50%' }), four.slice(0, 3), 5);
    expect(status).to.deep.include({ expectedPods: 5, desiredHealthy: 3, currentHealthy: 3, disruptionsAllowed: 0 });
    expect((status['conditions'] as LooseJson[])[0]).to.include({ status: 'False', reason: 'InsufficientPods' });
  });

  it('maxUnavailable (int and rounded-up percentage) subtracts from the controllers replicas', () => {
    expect(compute(pdb({ maxUnavailable: 1 }), four).status).to.deep.include({ expectedPods: 4, desiredHealthy: 3, disruptionsAllowed: 1 });
    expect(compute(pdb({ maxUnavailable: '30%' }), four).status).to.deep.include({ desiredHealthy: 2, disruptionsAllowed: 2 });
    expect(compute(pdb({ maxUnavailable: 10 }), four).status).to.deep.include({ desiredHealthy: 0, disruptionsAllowed: 4 });
  });

  it('counts only ready, not terminating, not disrupted pods as healthy', () => {
    const pods = [podOf('a'), podOf('b', { ready: false }), podOf('c', { deleting: true }), podOf('d')];
    const { status, recheckAt } = compute(pdb({ minAvailable: 1 }, { disruptedPods: { d: '2026-01-01T11:59:30Z', c: '2026-01-01T11:59:30Z', gone: '2026-01-01T11:59:30Z' } }), pods);
    expect(status).to.deep.include({ currentHealthy: 1, disruptionsAllowed: 0 });
    expect(status['disruptedPods']).to.deep.equal({ d: '2026-01-01T11:59:30Z' });
    expect(recheckAt).to.equal(Date.parse('2026-01-01T12:01:30Z'));
  });

  it('drops disruptedPods entries older than the deletion timeout', () => {
    const { status } = compute(pdb({ minAvailable: 1 }, { disruptedPods: { d: '2026-01-01T11:57:00Z' } }), four);
    expect(status['disruptedPods']).to.equal(undefined);
    expect(status['currentHealthy']).to.equal(4);
  });

  it('allows nothing when no pods are expected, and fails safe without a controller', () => {
    expect(compute(pdb({ minAvailable: 0 }), []).status).to.deep.include({ expectedPods: 0, disruptionsAllowed: 0 });
    const { status } = compute(pdb({ maxUnavailable: 1 }, { observedGeneration: 2 }), [podOf('a', { owner: null })]);
    expect(status).to.deep.include({ disruptionsAllowed: 0, observedGeneration: 2 });
    expect((status['conditions'] as LooseJson[])[0]).to.include({ status: 'False', reason: 'SyncFailed', message: 'found no controller ref for pod "a"' });
  });

  it('keeps lastTransitionTime while the condition status holds', () => {
    const first = compute(pdb({ minAvailable: 1 }, { conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', lastTransitionTime: '2025-01-01T00:00:00Z' }] }), four);
    expect((first.status['conditions'] as LooseJson[])[0]?.lastTransitionTime).to.equal('2025-01-01T00:00:00Z');
    const flipped = compute(pdb({ minAvailable: 4 }, { conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', lastTransitionTime: '2025-01-01T00:00:00Z' }] }), four);
    expect((flipped.status['conditions'] as LooseJson[])[0]?.lastTransitionTime).to.equal('2026-01-01T12:00:00Z');
  });
});
