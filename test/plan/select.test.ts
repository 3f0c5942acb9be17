import { expect } from 'chai';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { PlanError } from '../../src/core/errors.js';
import { Percent } from '../../src/core/quantity.js';
import { SeededRandom } from '../../src/core/rng.js';
import { chooseCount, selectNodes, selectPods } from '../../src/plan/select.js';
import { sampleSnapshot } from './fixtures.js';

describe('target selection', () => {
  const snapshot = sampleSnapshot();

  describe('selectNodes', () => {
    it('matches every label by equality and leaves the control plane out', () => {
      const names = selectNodes(snapshot, { labels: { role: 'worker', zone: 'b' } }).map((n) => n.name);
      expect(names).to.deep.equal(['w4', 'w5', 'w6']);
      expect(selectNodes(snapshot, {}).map((n) => n.name)).to.not.include('cp');
    });

    it('takes the control plane only when asked', () => {
      expect(selectNodes(snapshot, { names: ['cp'] }, { excludeControlPlane: false }).map((n) => n.name)).to.deep.equal(['cp']);
      expect(() => selectNodes(snapshot, { names: ['cp'] })).to.throw(PlanError, /only control-plane nodes match names cp/);
    });

    it('combines names and labels', () => {
      const names = selectNodes(snapshot, { names: ['w1', 'w4', 'cp'], labels: { zone: 'a' } }).map((n) => n.name);
      expect(names).to.deep.equal(['w1']);
    });

    it('explains an empty match with what the cluster has, showing only the labels asked about', () => {
      let err: unknown;
      try {
        selectNodes(snapshot, { labels: { zone: 'c' } });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(PlanError);
      const message = (err as Error).message;
      expect(message).to.include('no node matches labels {zone=c}');
      expect(message).to.include('w4 (zone=b)');
      expect(message).to.not.include('role=');
    });

    it('chooses the same nodes whatever order the API listed them in', () => {
      const reversed: ClusterSnapshot = { ...snapshot, nodes: [...snapshot.nodes].reverse() };
      for (let seed = 0; seed < 20; seed++) {
        const a = chooseCount(new SeededRandom(seed), selectNodes(snapshot, {}), 2).map((n) => n.name);
        const b = chooseCount(new SeededRandom(seed), selectNodes(reversed, {}), 2).map((n) => n.name);
        expect(b).to.deep.equal(a);
      }
    });
  });

  describe('selectPods', () => {
    it('takes running pods of the namespace that match', () => {
      expect(selectPods(snapshot, { namespace: 'shop', labels: { app: 'web' } }).map((p) => p.name)).to.deep.equal(['web-1', 'web-2', 'web-3', 'web-4']);
    });

    it('takes pods in other phases when asked', () => {
      const names = selectPods(snapshot, { namespace: 'shop', labels: { app: 'web' } }, { includeNotRunning: true }).map((p) => p.name);
      expect(names).to.include('web-5');
    });

    it('selects by name', () => {
      expect(selectPods(snapshot, { namespace: 'shop', names: ['db-1', 'nope'] }).map((p) => p.name)).to.deep.equal(['db-1']);
    });

    it('explains an empty match', () => {
      expect(() => selectPods(snapshot, { namespace: 'shop', names: ['web-5'] })).to.throw(PlanError, /no running pod in namespace shop matches names web-5.*web-5 \(Pending\)/);
      expect(() => selectPods(snapshot, { namespace: 'other' })).to.throw(PlanError, /namespace has no pods/);
    });
  });

  describe('chooseCount', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

    it('rounds a percentage up and takes at least one', () => {
      expect(chooseCount(new SeededRandom(1), items, Percent.of(30))).to.have.length(Math.ceil(items.length * 0.3));
      expect(chooseCount(new SeededRandom(1), items, Percent.of(1))).to.have.length(1);
      expect(chooseCount(new SeededRandom(1), items, Percent.of(100))).to.have.members(items);
      expect(chooseCount(new SeededRandom(1), items, Percent.of(0))).to.deep.equal([]);
      expect(chooseCount(new SeededRandom(1), [], Percent.of(50))).to.deep.equal([]);
    });

    it('chooses distinct items from the input', () => {
      for (let seed = 0; seed < 50; seed++) {
        const chosen = chooseCount(new SeededRandom(seed), items, 3);
        expect(new Set(chosen).size).to.equal(3);
        for (const c of chosen) expect(items).to.include(c);
      }
    });

    it('refuses a count larger than what matches', () => {
      expect(() => chooseCount(new SeededRandom(1), ['a', 'b'], 3)).to.throw(PlanError, /count 3 is more than the 2 targets that match/);
      expect(() => chooseCount(new SeededRandom(1), ['a'], 1.5)).to.throw(PlanError, /whole number/);
    });
  });
});
