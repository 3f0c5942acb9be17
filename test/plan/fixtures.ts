import { z } from 'zod';
import type { ClusterSnapshot, NodeInfo, PodInfo } from '../../src/cluster/snapshot.js';
import { Duration } from '../../src/core/duration.js';
import { Percent } from '../../src/core/quantity.js';
import { Registry } from '../../src/core/registry.js';
import type { FaultPlugin } from '../../src/faults/fault.js';
import type { ProbePlugin } from '../../src/probes/probe.js';
import type { CheckExpr } from '../../src/slo/ast.js';
import type { CheckSpec, ExperimentSpec, FaultSpec, ProbeSpec } from '../../src/spec/model.js';
import { chooseCount, selectNodes, selectPods } from '../../src/plan/select.js';
import type { PlanOptions } from '../../src/plan/plan.js';

/** A small cluster: one control plane, six workers in two zones, a shop namespace. */
export function sampleSnapshot(): ClusterSnapshot {
  const node = (name: string, labels: Record<string, string>, controlPlane = false): NodeInfo => ({
    name,
    labels,
    unschedulable: false,
    ready: true,
    controlPlane,
  });
  const pod = (name: string, owner: PodInfo['owner'], labels: Record<string, string>, phase = 'Running'): PodInfo => ({
    namespace: 'shop',
    name,
    labels,
    nodeName: 'w1',
    phase,
    ready: phase === 'Running',
    ...(owner ? { owner } : {}),
  });
  const web = { kind: 'ReplicaSet', name: 'web-abc' };
  const db = { kind: 'StatefulSet', name: 'db' };
  return {
    takenAt: 1_700_000_000_000,
    nodes: [
      node('cp', { role: 'control' }, true),
      node('w1', { role: 'worker', zone: 'a' }),
      node('w2', { role: 'worker', zone: 'a' }),
      node('w3', { role: 'worker', zone: 'a' }),
      node('w4', { role: 'worker', zone: 'b' }),
      node('w5', { role: 'worker', zone: 'b' }),
      node('w6', { role: 'worker', zone: 'b' }),
    ],
    pods: [
      pod('web-1', web, { app: 'web' }),
      pod('web-2', web, { app: 'web' }),
      pod('web-3', web, { app: 'web' }),
      pod('web-4', web, { app: 'web' }),
      pod('db-0', db, { app: 'db' }),
      pod('db-1', db, { app: 'db' }),
      pod('debug', undefined, { app: 'debug' }),
      pod('web-5', web, { app: 'web' }, 'Pending'),
    ],
  };
}

const countSchema = z.union([z.number().int(), z.string().transform((s) => Percent.parse(s))]);

const nodeFaultParams = z.strictObject({
  nodes: z.strictObject({ names: z.array(z.string()).optional(), labels: z.record(z.string(), z.string()).optional() }),
  count: countSchema,
});
type NodeFaultParams = z.output<typeof nodeFaultParams>;

const podFaultParams = z.strictObject({
  pods: z.strictObject({ namespace: z.string(), names: z.array(z.string()).optional(), labels: z.record(z.string(), z.string()).optional() }),
  count: countSchema,
});
type PodFaultParams = z.output<typeof podFaultParams>;

const notUsedAtPlanTime = (): never => {
  throw new Error('not used at plan time');
};

/** A node fault that selects the way every real fault must: selectNodes, then chooseCount. */
export const testNodeFault: FaultPlugin<NodeFaultParams, { nodes: string[] }> = {
  kind: 'testNodeFault',
  summary: 'a node fault for plan tests',
  params: nodeFaultParams,
  plan(params, { snapshot, rng }) {
    const nodes = chooseCount(rng, selectNodes(snapshot, params.nodes), params.count).map((n) => n.name);
    return { targets: { nodes }, touches: { nodes, pods: [] }, description: `poke node ${nodes.join(', ')}` };
  },
  inject: notUsedAtPlanTime,
  verify: notUsedAtPlanTime,
  revert: notUsedAtPlanTime,
};

export const testPodFault: FaultPlugin<PodFaultParams, { pods: string[] }> = {
  kind: 'testPodFault',
  summary: 'a pod fault for plan tests',
  params: podFaultParams,
  plan(params, { snapshot, rng }) {
    const pods = chooseCount(rng, selectPods(snapshot, params.pods), params.count).map((p) => `${p.namespace}/${p.name}`);
    return { targets: { pods }, touches: { nodes: [], pods }, description: `kill pod ${pods.join(', ')}` };
  },
  inject: notUsedAtPlanTime,
  verify: notUsedAtPlanTime,
  revert: notUsedAtPlanTime,
};

function probePlugin(kind: string): ProbePlugin {
  return { kind, summary: `${kind} probe`, params: z.unknown(), start: notUsedAtPlanTime };
}

export function registries(probeKinds: readonly string[] = ['http', 'pdb', 'failover', 'readiness', 'ready']): Pick<PlanOptions, 'faults' | 'probes'> {
  const faults = new Registry<FaultPlugin>('fault');
  faults.register(testNodeFault as FaultPlugin);
  faults.register(testPodFault as FaultPlugin);
  const probes = new Registry<ProbePlugin>('probe');
  for (const kind of probeKinds) probes.register(probePlugin(kind));
  return { faults, probes };
}

export function options(seed: number, probeKinds?: readonly string[]): PlanOptions {
  return { seed, cluster: { kind: 'embedded', name: 'gameday-sim' }, ...registries(probeKinds) };
}

export interface FaultInput {
  readonly kind: string;
  readonly at: string;
  readonly for?: string;
  readonly params: unknown;
  readonly name?: string;
}

export interface SpecInput {
  readonly faults?: readonly FaultInput[];
  readonly probes?: readonly ProbeSpec[];
  readonly slos?: readonly CheckExpr[];
  readonly steadyState?: readonly CheckExpr[];
  readonly abort?: readonly CheckExpr[];
  readonly maxNodes?: number;
  readonly maxPodPercent?: number;
  readonly allowZoneOutage?: boolean;
}

/**
 * Where each path stands in the imaginary file: faults from line 20 on, one line each, the limits
 * at line 8; any other path maps to line 1 (what the loader does for a missing key's parent).
 */
export function fakeLocate(path: string): { line: number; column: number } {
  const fault = /^spec\.faults\[(\d+)\]$/.exec(path);
  if (fault) return { line: 20 + Number(fault[1]), column: 7 };
  if (path === 'spec.blastRadius.maxNodes') return { line: 8, column: 15 };
  if (path === 'spec.blastRadius.maxPodPercent') return { line: 9, column: 20 };
  const check = /^spec\.(slos|abort)\[(\d+)\]$/.exec(path);
  if (check) return { line: check[1] === 'slos' ? 40 + Number(check[2]) : 50 + Number(check[2]), column: 7 };
  return { line: 1, column: 1 };
}

export function buildSpec(input: SpecInput): ExperimentSpec {
  const faults: FaultSpec[] = (input.faults ?? []).map((f, index) => ({
    id: `f${index}`,
    index,
    kind: f.kind,
    name: f.name ?? `${f.kind}#${index}`,
    at: Duration.parse(f.at),
    ...(f.for ? { for: Duration.parse(f.for) } : {}),
    params: f.kind === 'testNodeFault' ? nodeFaultParams.parse(f.params) : f.kind === 'testPodFault' ? podFaultParams.parse(f.params) : f.params,
    path: `spec.faults[${index}]`,
  }));
  const checks = (exprs: readonly CheckExpr[] | undefined, path: string): CheckSpec[] =>
    (exprs ?? []).map((expr, i) => ({ path: `${path}[${i}]`, expr }));
  return {
    file: 'experiments/test.yaml',
    dir: '/tmp',
    name: 'plan-test',
    labels: {},
    workloads: [],
    duration: Duration.parse('5m'),
    steadyState: { checks: checks(input.steadyState, 'spec.steadyState.checks'), recoverWithin: Duration.seconds(60), timeout: Duration.seconds(60) },
    probes: input.probes ?? [],
    faults,
    steps: [],
    slos: checks(input.slos, 'spec.slos'),
    abort: checks(input.abort, 'spec.abort'),
    blastRadius: { maxNodes: input.maxNodes ?? 1, maxPodPercent: input.maxPodPercent ?? 50, allowZoneOutage: input.allowZoneOutage ?? false, allowDeleteIn: [] },
    locate: fakeLocate,
  };
}

export function holds(fn: string, arg: string): CheckExpr {
  return { text: `${fn}(${arg}) holds`, fn, arg, op: 'holds' };
}

export function below(fn: string, arg: string, text: string, value: number, unit: 'ms' | 'ratio'): CheckExpr {
  return { text: `${fn}(${arg}) < ${text}`, fn, arg, op: '<', threshold: { value, unit, text } };
}
