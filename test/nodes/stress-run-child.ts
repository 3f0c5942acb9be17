/**
 * A `gameday run` of one node cpuStress on a network-namespace node, as a process of its own that
 * the test SIGKILLs while the stress is held (test/nodes/stress-ng.test.ts). The real CLI has no
 * netns node access, so this is the CLI's run reduced to what the test needs.
 *
 * Arguments: kubeconfig, run directory, node, network namespace. Prints `verified <id>` once the
 * stress is verified on the node.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { builtinRegistries } from '../../src/cli/registries.js';
import { readSnapshot } from '../../src/cluster/snapshot-read.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import { runExperiment } from '../../src/engine/runner.js';
import { NetnsNodeAccess } from '../../src/nodes/netns-node-access.js';
import { planExperiment } from '../../src/plan/plan.js';
import { loadExperimentText } from '../../src/spec/load.js';

const [kubeconfigPath, runDir, node, namespace] = process.argv.slice(2) as [string, string, string, string];
const kubeConfig = new KubeConfig();
kubeConfig.loadFromString(readFileSync(kubeconfigPath, 'utf8'));
const access = new NetnsNodeAccess({ namespaces: { [node]: namespace } });
const target: ClusterTarget = {
  ref: { kind: 'kubeconfig', name: kubeConfig.getCurrentContext(), context: kubeConfig.getCurrentContext(), kubeconfig: kubeconfigPath },
  kubeConfig,
  nodeAccess: access,
  snapshot: () => readSnapshot(kubeConfig),
  close: async () => {},
};
const registries = builtinRegistries();
const spec = loadExperimentText(
  `apiVersion: gameday/v1
kind: Experiment
metadata: { name: killed-node-stress }
spec:
  duration: 5m
  faults:
    - { at: 0s, for: 1m, cpuStress: { nodes: { names: [${node}] }, cpu: 200m } }
`,
  `${runDir}/killed-node-stress.yaml`,
  registries,
);
let id = '';
await runExperiment({
  spec,
  seed: 1,
  makePlan: (snapshot) => planExperiment(spec, snapshot, { seed: 1, cluster: target.ref, faults: registries.faults, probes: registries.probes, nodeAccess: access.provider }),
  cluster: target,
  registries,
  runId: 'killed-node-stress',
  runDir,
  observer: {
    onEvent: (e) => {
      if (e.type !== 'fault') return;
      if (e.step === 'inject') id = (e.targets as { id: string }).id;
      if (e.step === 'verified') console.log(`verified ${id}`);
    },
  },
  signal: new AbortController().signal,
});
