import { expect } from 'chai';
import { PlanError } from '../../src/core/errors.js';
import { SeededRandom } from '../../src/core/rng.js';
import type { Plan } from '../../src/plan/model.js';
import { planExperiment } from '../../src/plan/plan.js';
import { below, buildSpec, type FaultInput, holds, options, sampleSnapshot, testNodeFault } from './fixtures.js';

const snapshot = sampleSnapshot();
const oneWorker: FaultInput = { kind: 'testNodeFault', at: '30s', params: { nodes: { labels: { role: 'worker' } }, count: 1 } };

function planError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).to.be.instanceOf(PlanError);
    return (err as Error).message;
  }
  expect.fail('expected a PlanError');
}

function nodeTargets(plan: Plan): string[][] {
  return plan.faults.map((f) => (f.targets as { nodes: string[] }).nodes);
}

describe('planExperiment', () => {
  describe('targets and seeds', () => {
    it('replays the same targets for the same seed', () => {
      const spec = buildSpec({ faults: [oneWorker, { ...oneWorker, at: '1m' }], maxNodes: 6 });
      for (const seed of [1, 7, 12345]) {
        expect(planExperiment(spec, snapshot, options(seed))).to.deep.equal(planExperiment(spec, snapshot, options(seed)));
      }
    });

    it('chooses other targets under other seeds', () => {
      const spec = buildSpec({ faults: [oneWorker] });
      const chosen = new Set<string>();
      for (let seed = 0; seed < 40; seed++) chosen.add(nodeTargets(planExperiment(spec, snapshot, options(seed)))[0]![0]!);
      expect(chosen.size).to.be.greaterThan(1);
    });

    it('shares one generator across the faults in file order', () => {
      const second: FaultInput = { kind: 'testNodeFault', at: '10s', params: { nodes: { labels: { zone: 'b' } }, count: 2 } };
      const spec = buildSpec({ faults: [oneWorker, second], maxNodes: 6 });
      const plan = planExperiment(spec, snapshot, options(99));
      const rng = new SeededRandom(99);
      const expected = spec.faults.map((f) => testNodeFault.plan(f.params as never, { snapshot, rng }).targets.nodes);
      expect(nodeTargets(plan)).to.deep.equal(expected);
    });

    it('records when, how long and what each fault touches, and the union', () => {
      const spec = buildSpec({
        faults: [
          { ...oneWorker, for: '45s', name: 'poke' },
          { kind: 'testPodFault', at: '2m', params: { pods: { namespace: 'shop', names: ['db-0'] }, count: 1 } },
        ],
      });
      const plan = planExperiment(spec, snapshot, options(3));
      const [a, b] = plan.faults;
      expect(a).to.include({ id: 'f0', kind: 'testNodeFault', name: 'poke', atMs: 30_000, forMs: 45_000 });
      expect(a!.description).to.match(/^poke node w\d$/);
      expect(b).to.include({ id: 'f1', atMs: 120_000 });
      expect(b).to.not.have.property('forMs');
      expect(plan.touches).to.deep.equal({ nodes: a!.touches.nodes, pods: ['shop/db-0'] });
      expect(plan).to.include({ experiment: 'plan-test', file: 'experiments/test.yaml', seed: 3, durationMs: 300_000 });
      expect(JSON.parse(JSON.stringify(plan)).faults[0].spec.at).to.equal('30s');
    });
  });

  describe('errors from fault plug-ins', () => {
    it('prefixes a plug-in PlanError with the fault position and path', () => {
      const spec = buildSpec({ faults: [oneWorker, { kind: 'testNodeFault', at: '1m', params: { nodes: { labels: { zone: 'z' } }, count: 1 } }] });
      const message = planError(() => planExperiment(spec, snapshot, options(1)));
      expect(message).to.match(/^experiments\/test\.yaml:21:7 spec\.faults\[1\]: testNodeFault#1: no node matches labels \{zone=z\}/);
    });

    it('reports every fault that cannot be planned at once', () => {
      const spec = buildSpec({
        faults: [
          { kind: 'testNodeFault', at: '1m', params: { nodes: { names: ['nope'] }, count: 1 } },
          { kind: 'testPodFault', at: '1m', params: { pods: { namespace: 'shop', labels: { app: 'db' } }, count: 3 } },
        ],
      });
      const lines = planError(() => planExperiment(spec, snapshot, options(1))).split('\n');
      expect(lines).to.have.length(2);
      expect(lines[0]).to.match(/^experiments\/test\.yaml:20:7 spec\.faults\[0\]: .*no node matches names nope/);
      expect(lines[1]).to.match(/^experiments\/test\.yaml:21:7 spec\.faults\[1\]: .*count 3 is more than the 2 targets/);
    });

    it('names an unknown fault kind with a suggestion', () => {
      const spec = buildSpec({ faults: [{ kind: 'testNodeFaul', at: '1s', params: {} }] });
      expect(planError(() => planExperiment(spec, snapshot, options(1)))).to.match(/:20:7 spec\.faults\[0\]: unknown fault "testNodeFaul"; did you mean "testNodeFault"\?/);
    });
  });

  describe('blast radius', () => {
    it('refuses more nodes than the default limit, at the fault that goes over it', () => {
      const spec = buildSpec({ faults: [oneWorker, { kind: 'testNodeFault', at: '1m', params: { nodes: { names: ['w6'] }, count: 1 } }] });
      // Seeds where the first fault already took w6 stay inside the limit; find one that does not.
      const seed = [...Array(50).keys()].find((s) => nodeTargets(planExperiment(buildSpec({ faults: [oneWorker] }), snapshot, options(s)))[0]![0] !== 'w6')!;
      const message = planError(() => planExperiment(spec, snapshot, options(seed)));
      expect(message).to.match(/^experiments\/test\.yaml:21:7 spec\.faults\[1\]: the faults together touch 2 nodes \(w\d, w\d\)/);
      expect(message).to.include('w6');
      expect(message).to.include('default blast-radius limit of 1 node');
      expect(message).to.include('set spec.blastRadius.maxNodes to 2');
    });

    it('points at a limit written in the file and names the fault too', () => {
      const spec = buildSpec({ faults: [{ ...oneWorker, params: { nodes: { labels: { role: 'worker' } }, count: 3 } }], maxNodes: 2 });
      const message = planError(() => planExperiment(spec, snapshot, options(5)));
      expect(message).to.match(/^experiments\/test\.yaml:8:15 spec\.blastRadius\.maxNodes: the faults together touch 3 nodes/);
      expect(message).to.include('limit of 2 nodes');
      expect(message).to.include('experiments/test.yaml:20:7 spec.faults[0]');
      expect(message).to.include('raise spec.blastRadius.maxNodes to 3');
    });

    it('counts a node touched by two faults once', () => {
      const again = { kind: 'testNodeFault', at: '2m', params: { nodes: { names: ['w2'] }, count: 1 } };
      const spec = buildSpec({ faults: [{ ...again, at: '10s' }, again] });
      expect(planExperiment(spec, snapshot, options(1)).touches.nodes).to.deep.equal(['w2']);
    });

    it('refuses more than maxPodPercent of one workload, counting all its pods in the snapshot', () => {
      // web-abc has five pods (one Pending): two are 40 %, three are 60 %.
      const kill = (count: number): FaultInput => ({ kind: 'testPodFault', at: '1m', params: { pods: { namespace: 'shop', labels: { app: 'web' } }, count } });
      const ok = planExperiment(buildSpec({ faults: [kill(2)] }), snapshot, options(1));
      expect(ok.blastRadius!.owners).to.deep.equal([{ namespace: 'shop', owner: 'ReplicaSet/web-abc', touched: 2, total: 5, percent: 40 }]);
      const message = planError(() => planExperiment(buildSpec({ faults: [kill(3)] }), snapshot, options(1)));
      expect(message).to.match(/^experiments\/test\.yaml:20:7 spec\.faults\[0\]: the faults together touch 3 of the 5 pods of ReplicaSet\/web-abc in namespace shop \(60%/);
      expect(message).to.include('set spec.blastRadius.maxPodPercent to 60');
    });

    it('adds up pods across faults and blames the fault that crossed the limit', () => {
      const killDb = (name: string, at: string): FaultInput => ({ kind: 'testPodFault', at, params: { pods: { namespace: 'shop', names: [name] }, count: 1 } });
      const spec = buildSpec({ faults: [killDb('db-0', '10s'), oneWorker, killDb('db-1', '2m')], maxPodPercent: 60 });
      const message = planError(() => planExperiment(spec, snapshot, options(1)));
      expect(message).to.match(/^experiments\/test\.yaml:9:20 spec\.blastRadius\.maxPodPercent: .*2 of the 2 pods of StatefulSet\/db/);
      expect(message).to.include('testPodFault#2 (experiments/test.yaml:22:7 spec.faults[2])');
    });

    it('reports the node and pod limits together', () => {
      const spec = buildSpec({
        faults: [
          { ...oneWorker, params: { nodes: { labels: { zone: 'a' } }, count: 2 } },
          { kind: 'testPodFault', at: '1m', params: { pods: { namespace: 'shop', labels: { app: 'db' } }, count: 2 } },
        ],
      });
      const lines = planError(() => planExperiment(spec, snapshot, options(1))).split('\n');
      expect(lines).to.have.length(2);
      expect(lines[0]).to.include('spec.blastRadius.maxNodes');
      expect(lines[1]).to.include('StatefulSet/db');
    });

    it('warns about pods no workload controls instead of limiting them', () => {
      const spec = buildSpec({ faults: [{ kind: 'testPodFault', at: '1m', params: { pods: { namespace: 'shop', names: ['debug'] }, count: 1 } }] });
      const plan = planExperiment(spec, snapshot, options(1));
      expect(plan.warnings).to.have.length(1);
      expect(plan.warnings[0]).to.match(/shop\/debug.*no workload controls/);
    });
  });

  describe('warnings', () => {
    it('warns when two faults hold the same node at the same time, not when they follow each other', () => {
      const onW3 = (at: string, hold?: string): FaultInput => ({ kind: 'testNodeFault', at, ...(hold ? { for: hold } : {}), params: { nodes: { names: ['w3'] }, count: 1 } });
      const overlapping = planExperiment(buildSpec({ faults: [onW3('10s', '1m'), onW3('30s', '10s')] }), snapshot, options(1));
      expect(overlapping.warnings).to.deep.equal(['testNodeFault#0 and testNodeFault#1 act on node w3 at the same time']);
      const sequential = planExperiment(buildSpec({ faults: [onW3('10s', '20s'), onW3('30s')] }), snapshot, options(1));
      expect(sequential.warnings).to.deep.equal([]);
    });

    it('warns when a fault touches the control plane', () => {
      const spec = buildSpec({ faults: [{ kind: 'cpFault', at: '1s', params: {} }] });
      const opts = options(1);
      opts.faults.register({
        ...testNodeFault,
        kind: 'cpFault',
        plan: () => ({ targets: {}, touches: { nodes: ['cp'], pods: [] }, description: 'poke cp' }),
      } as never);
      expect(planExperiment(spec, snapshot, opts).warnings[0]).to.match(/control-plane node cp/);
    });
  });

  describe('implicit probes', () => {
    const declared = { name: 'web', kind: 'http', params: { url: 'http://x' }, path: 'spec.probes.web' };

    it('adds one probe per function and target that checks ask for, after the declared ones', () => {
      const spec = buildSpec({
        probes: [declared],
        steadyState: [holds('pdb', 'shop/web')],
        slos: [below('availability', 'web', '99%', 0.99, 'ratio'), holds('pdb', 'shop/web'), below('failover', 'statefulset/shop/db', '20s', 20_000, 'ms')],
        abort: [holds('pdb', 'shop/web'), below('failover', 'statefulset/shop/db', '30s', 30_000, 'ms')],
      });
      const plan = planExperiment(spec, snapshot, options(1));
      expect(plan.probes).to.deep.equal([
        declared,
        { name: 'pdb(shop/web)', kind: 'pdb', params: { target: 'shop/web' }, path: 'spec.steadyState.checks[0]' },
        { name: 'failover(statefulset/shop/db)', kind: 'failover', params: { target: 'statefulset/shop/db' }, path: 'spec.slos[2]' },
      ]);
    });

    it('adds nothing for checks on declared probes', () => {
      const spec = buildSpec({ probes: [declared], slos: [below('p99', 'web', '300ms', 300, 'ms')] });
      expect(planExperiment(spec, snapshot, options(1)).probes).to.deep.equal([declared]);
    });

    it('refuses a check whose probe kind is not registered, at the check', () => {
      const spec = buildSpec({ slos: [below('availability', 'web', '99%', 0.99, 'ratio'), holds('readiness', 'shop/web')] });
      const message = planError(() => planExperiment(spec, snapshot, options(1, ['http'])));
      expect(message).to.match(/^experiments\/test\.yaml:41:7 spec\.slos\[1\]: readiness\(\) needs a probe of kind "readiness"/);
    });
  });
});
