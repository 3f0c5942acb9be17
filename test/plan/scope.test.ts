import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { builtinRegistries } from '../../src/cli/registries.js';
import { everyNamespace, inNamespaces } from '../../src/cluster/namespace-scope.js';
import { readSnapshot } from '../../src/cluster/snapshot-read.js';
import { experimentScope } from '../../src/plan/scope.js';
import { loadExperimentFile } from '../../src/spec/load.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { webPodSpec } from '../support/kube-objects.js';

const registries = builtinRegistries();

async function scopeOf(file: string) {
  return experimentScope(await loadExperimentFile(file, registries), registries.probes);
}

function experiment(faults: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gameday-scope-'));
  const file = path.join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `apiVersion: gameday/v1
kind: Experiment
metadata: { name: scoped }
spec:
  duration: 10s
  steadyState: { checks: [ "ready(deployment/orders/db) >= 1" ] }
  probes:
    api: { http: { service: payments/api:80, path: / } }
  faults:
${faults}
  slos: [ "availability(api) >= 99%" ]
`,
  );
  return file;
}

describe('plan/scope: where a run reads pods and Warning events', () => {
  it('an experiment confined to namespaces: those of its pod faults, its probes, its checks, its workloads and its steps', async () => {
    const file = experiment('    - { at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } } } }');
    expect(await scopeOf(file)).to.deep.equal(inNamespaces(['shop', 'payments', 'orders']));
    expect(await scopeOf('experiments/pod-kill-keeps-web-up.yaml')).to.deep.equal(inNamespaces(['shop']));
    // The backup namespace is the restore step's and the workloads'; shop is deleted by a step.
    expect(await scopeOf('experiments/backup-restore-across-zones.yaml')).to.deep.equal(inNamespaces(['backup', 'shop']));
  });

  it('every namespace as soon as a fault acts on nodes, saying why', async () => {
    const file = experiment(
      ['    - { at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } } } }', '    - { at: 2s, nodeDrain: { nodes: { labels: { role: worker } } } }'].join('\n'),
    );
    expect(await scopeOf(file)).to.deep.equal(everyNamespace('a fault acts on nodes, and the pods on a node may be in any namespace'));
    expect(await scopeOf('experiments/node-stop-reschedules-web.yaml')).to.deep.equal(everyNamespace('a fault acts on nodes, and the pods on a node may be in any namespace'));
  });

  describe('the snapshot the plan chooses from, read within a scope', function () {
    this.timeout(20_000);
    let sim: SimClients;
    before(async () => {
      sim = await startSim();
      for (const namespace of ['scope-a', 'scope-b']) {
        await sim.core.createNamespace({ body: { metadata: { name: namespace } } });
        await sim.core.createNamespacedPod({ namespace, body: { metadata: { name: `pod-in-${namespace}` }, spec: webPodSpec() } });
      }
    });
    after(() => sim.cluster.stop());

    it('lists the pods of the scope\'s namespaces only, and every node', async () => {
      const scoped = await readSnapshot(sim.kubeConfig, inNamespaces(['scope-a']));
      expect(scoped.pods.map((p) => `${p.namespace}/${p.name}`)).to.deep.equal(['scope-a/pod-in-scope-a']);
      const everywhere = await readSnapshot(sim.kubeConfig, everyNamespace('a node fault'));
      expect(everywhere.pods.map((p) => p.namespace)).to.include.members(['scope-a', 'scope-b', 'kube-system']);
      expect(scoped.nodes.map((n) => n.name)).to.deep.equal(everywhere.nodes.map((n) => n.name)).and.to.have.length.above(1);
      expect((await readSnapshot(sim.kubeConfig, inNamespaces([]))).pods).to.deep.equal([]);
    });
  });
});
