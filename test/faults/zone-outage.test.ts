import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import type { ClusterSnapshot, NodeInfo } from '../../src/cluster/snapshot.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import { PlanError, SpecError } from '../../src/core/errors.js';
import type { RunEvent } from '../../src/journal/events.js';
import { formatPlan } from '../../src/plan/format.js';
import { planExperiment } from '../../src/plan/plan.js';
import { startEmbeddedCluster } from '../../src/sim/index.js';
import { loadExperimentText } from '../../src/spec/load.js';
import { FAST_TIMINGS, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { runNodeFaultExperiment, simTarget } from './node-fault-experiment.js';

const ZONE = 'topology.kubernetes.io/zone';

/** Six workers, two per zone, and a control plane in no zone. */
function zonedSnapshot(): ClusterSnapshot {
  const node = (name: string, zone?: string, controlPlane = false): NodeInfo => ({ name, labels: zone ? { [ZONE]: zone } : {}, unschedulable: false, ready: true, controlPlane });
  return { takenAt: 0, nodes: [node('cp', undefined, true), node('w1', 'a'), node('w2', 'b'), node('w3', 'c'), node('w4', 'a'), node('w5', 'b'), node('w6', 'c')], pods: [] };
}

function plan(yaml: string) {
  const registries = builtinRegistries();
  const spec = loadExperimentText(yaml, 'zone.yaml', registries);
  return planExperiment(spec, zonedSnapshot(), { seed: 1, cluster: { kind: 'embedded', name: 'test' }, faults: registries.faults, probes: registries.probes, nodeAccess: 'sim' });
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  expect.fail('expected an error');
}

const experiment = (blastRadius: string, fault: string): string => `apiVersion: gameday/v1
kind: Experiment
metadata: { name: zone }
spec:
  duration: 1m${blastRadius}
  faults:
    - ${fault}
`;

describe('zoneOutage', () => {
  describe('plan', () => {
    it('refuses a zone outage the blast radius does not allow, naming the zone, its nodes and the fix', () => {
      const err = thrown(() => plan(experiment('', '{ at: 10s, zoneOutage: { zone: a } }')));
      expect(err).to.be.instanceOf(PlanError);
      expect(err.message).to.equal(
        'zone.yaml:7:7 spec.faults[0]: zoneOutage#0 takes zone a out whole (2 nodes: w1, w4), and a zone outage needs an explicit allowance. ' +
          'To allow it, set spec.blastRadius.allowZoneOutage: true',
      );
    });

    it('shows the zone and its nodes when allowed, without counting them against maxNodes', () => {
      const p = plan(experiment('\n  blastRadius: { allowZoneOutage: true }', '{ at: 10s, zoneOutage: { zone: c, mode: stop } }'));
      expect(p.faults[0]!.targets).to.deep.include({ nodes: ['w3', 'w6'] });
      const text = formatPlan(p);
      expect(text).to.contain('stop zone c: nodes w3, w6 together');
      expect(text).to.contain('nodes  0 of at most 1 (and 2 taken out with their zone): w3, w6');
      expect(text).to.contain('zone   c out whole, by zoneOutage#0 (allowed by spec.blastRadius.allowZoneOutage): w3, w6');
    });

    it('still holds the other faults to maxNodes beside an allowed outage', () => {
      const err = thrown(() =>
        plan(`apiVersion: gameday/v1
kind: Experiment
metadata: { name: zone }
spec:
  duration: 1m
  blastRadius: { allowZoneOutage: true }
  faults:
    - { at: 10s, zoneOutage: { zone: a } }
    - { at: 10s, nodeCordon: { nodes: { labels: { ${ZONE}: b } }, count: 2 } }
`),
      );
      expect(err.message).to.contain('the faults together touch 2 nodes (w2, w5), more than the default blast-radius limit of 1 node; nodeCordon#1 is the fault that goes over it');
    });

    it('names the zones the cluster has when none matches', () => {
      const err = thrown(() => plan(experiment('\n  blastRadius: { allowZoneOutage: true }', '{ at: 10s, zoneOutage: { zone: d } }')));
      expect(err.message).to.contain(`no node matches labels {${ZONE}=d}; the cluster has: cp (control plane), w1 (${ZONE}=a)`);
    });

    it('rejects options of the other mode with their place in the file', () => {
      const err = thrown(() => plan(experiment('', '{ at: 10s, zoneOutage: { zone: a, mode: stop, from: control-plane } }')));
      expect(err).to.be.instanceOf(SpecError);
      expect(err.message).to.match(/zone\.yaml:7:\d+ spec\.faults\[0\]\.zoneOutage\.from: from applies to mode partition, not to mode stop/);
    });
  });

  describe('on the embedded cluster', function () {
    this.timeout(60_000);
    let sim: SimClients;
    before(async () => {
      const cluster = await startEmbeddedCluster({ workers: 4, zones: ['a', 'b'], timings: FAST_TIMINGS });
      const kubeConfig = new k8s.KubeConfig();
      kubeConfig.loadFromString(cluster.kubeconfigYaml());
      const make = <T extends k8s.ApiType>(api: new (c: k8s.Configuration) => T): T => kubeConfig.makeApiClient(api);
      sim = {
        cluster,
        kubeConfig,
        core: make(k8s.CoreV1Api),
        apps: make(k8s.AppsV1Api),
        batch: make(k8s.BatchV1Api),
        networking: make(k8s.NetworkingV1Api),
        coordination: make(k8s.CoordinationV1Api),
      };
    });
    after(() => sim?.cluster.stop());

    it("partitions a zone's nodes together, proven by traffic that is dropped, and lifts the partition together", async () => {
      const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: zone-b-cut }
spec:
  duration: 1s
  blastRadius: { allowZoneOutage: true }
  faults:
    - { at: 0s, zoneOutage: { zone: b } }
`);
      expect(run.summary.outcome, run.summary.reason).to.equal('passed');
      expect(run.steps).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'reverted']);
      const checked = (run.faultEvents.find((e) => e.step === 'verified')!.evidence as { node: string; result: { reachable: boolean } }[]).map((c) => [c.node, c.result.reachable]);
      expect(checked).to.deep.equal([['gameday-worker2', false], ['gameday-worker4', false]]);
      for (const node of ['gameday-worker2', 'gameday-worker4']) {
        const faults = (await (await fetch(`${sim.cluster.url}/gameday/v1/nodes/${node}/faults`)).json()) as { items: unknown[] };
        expect(faults.items, `${node}: partition lifted`).to.deep.equal([]);
      }
    });

    it("stops a zone's nodes together, keeps a pod pinned there by its volume Pending with the scheduler's message, and brings them back", async () => {
      // One member whose volume is provisioned in zone a: its claim pins it there.
      await sim.apps.createNamespacedStatefulSet({
        namespace: 'default',
        body: {
          metadata: { name: 'db' },
          spec: {
            serviceName: 'db',
            replicas: 1,
            selector: { matchLabels: { app: 'db' } },
            template: {
              metadata: { labels: { app: 'db' } },
              spec: {
                terminationGracePeriodSeconds: 0,
                nodeSelector: { [ZONE]: 'a' },
                containers: [{ name: 'db', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
              },
            },
            volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
          },
        },
      });
      const running = () =>
        eventually('db-0 Running', async () => {
          const p = await sim.core.readNamespacedPod({ name: 'db-0', namespace: 'default' });
          return p.status?.phase === 'Running' ? p : undefined;
        });
      const home = (await running()).spec!.nodeName!;
      // The member may now run anywhere: only its volume keeps it in zone a.
      await sim.apps.patchNamespacedStatefulSet(
        { name: 'db', namespace: 'default', body: [{ op: 'remove', path: '/spec/template/spec/nodeSelector' }] },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      );

      const run = await runNodeFaultExperiment(simTarget(sim), `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: zone-a-out }
spec:
  duration: 6s
  blastRadius: { allowZoneOutage: true }
  faults:
    - { at: 0s, zoneOutage: { zone: a, mode: stop, notReadyWithin: 10s, readyTimeout: 20s } }
`);
      expect(run.summary.outcome, run.summary.reason).to.equal('passed');
      expect(run.steps).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'reverted']);
      expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.equal('stopped and no longer Ready: gameday-worker, gameday-worker3');

      const notReady = (e: RunEvent): e is Extract<RunEvent, { type: 'node.condition' }> => e.type === 'node.condition' && e.condition === 'Ready' && e.status !== 'True';
      expect([...new Set(run.events.filter(notReady).map((e) => e.node))].sort(), 'the whole zone NotReady').to.deep.equal(['gameday-worker', 'gameday-worker3']);
      const pending = run.events.find((e): e is Extract<RunEvent, { type: 'cluster.event' }> => e.type === 'cluster.event' && e.reason === 'FailedScheduling' && e.object === 'Pod default/db-0');
      expect(pending?.message, 'the journal keeps why db-0 could not move').to.equal(
        "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match PersistentVolume's node affinity, " +
          '2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.',
      );

      const ready = await Promise.all(['gameday-worker', 'gameday-worker3'].map(async (name) => (await sim.core.readNode({ name })).status?.conditions?.find((c) => c.type === 'Ready')?.status));
      expect(ready, 'the zone Ready as soon as the run ended').to.deep.equal(['True', 'True']);
      expect((await running()).spec?.nodeName, 'db-0 back on its volume').to.equal(home);
    });
  });
});
