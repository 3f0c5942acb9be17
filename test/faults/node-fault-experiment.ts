import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readSnapshot } from '../../src/cluster/snapshot-read.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import type { RunEvent } from '../../src/journal/events.js';
import { runExperiment, type RunSummary } from '../../src/engine/runner.js';
import { builtinRegistries } from '../../src/cli/registries.js';
import { SimNodeAccess } from '../../src/nodes/sim-node-access.js';
import { planExperiment } from '../../src/plan/plan.js';
import { loadExperimentText } from '../../src/spec/load.js';
import type { SimClients } from '../sim/sim-fixture.js';

/** The embedded cluster as the CLI targets it: client-node over HTTP, nodes through the sim provider. */
export function simTarget(sim: SimClients, options: { nodeAccess?: boolean } = {}): ClusterTarget {
  const { kubeConfig } = sim;
  return {
    ref: { kind: 'embedded', name: sim.cluster.name, server: sim.cluster.url },
    kubeConfig,
    ...(options.nodeAccess === false ? {} : { nodeAccess: new SimNodeAccess(kubeConfig) }),
    snapshot: (scope) => readSnapshot(kubeConfig, scope),
    close: async () => {},
  };
}

export interface NodeFaultRun {
  readonly summary: RunSummary;
  readonly events: readonly RunEvent[];
  /** The fault steps, in order: inject, injected, verified, revert, reverted… */
  readonly steps: readonly string[];
  readonly faultEvents: readonly Extract<RunEvent, { type: 'fault' }>[];
}

/** Loads the experiment text like `gameday run` does, plans it and runs it through the engine. */
export async function runNodeFaultExperiment(target: ClusterTarget, yaml: string, seed = 7): Promise<NodeFaultRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gameday-node-fault-'));
  const file = path.join(dir, 'experiment.yaml');
  writeFileSync(file, yaml);
  const registries = builtinRegistries();
  const spec = loadExperimentText(yaml, file, registries);
  const events: RunEvent[] = [];
  const summary = await runExperiment({
    spec,
    seed,
    makePlan: (snapshot) => planExperiment(spec, snapshot, { seed, cluster: target.ref, faults: registries.faults, probes: registries.probes, nodeAccess: target.nodeAccess?.provider }),
    cluster: target,
    registries,
    runId: 'node-fault-test',
    runDir: path.join(dir, 'run'),
    observer: { onEvent: (e) => events.push(e) },
    signal: new AbortController().signal,
  });
  const faultEvents = events.filter((e): e is Extract<RunEvent, { type: 'fault' }> => e.type === 'fault');
  return { summary, events, steps: faultEvents.map((e) => e.step), faultEvents };
}

/** What a node fault may leave behind: node readiness and schedulability, sim faults, filesystems. */
export async function clusterState(sim: SimClients): Promise<unknown> {
  const nodes = (await sim.core.listNode()).items;
  const state = [];
  for (const n of nodes) {
    const name = n.metadata!.name!;
    const faults = (await (await fetch(`${sim.cluster.url}/gameday/v1/nodes/${name}/faults`)).json()) as { items: unknown[] };
    const fs = (await (await fetch(`${sim.cluster.url}/gameday/v1/nodes/${name}/filesystem`)).json()) as unknown;
    state.push({
      name,
      ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status,
      unschedulable: n.spec?.unschedulable ?? false,
      faults: faults.items,
      fs,
    });
  }
  return state;
}

export function writeYaml(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
