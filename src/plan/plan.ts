import type { ClusterSnapshot } from '../cluster/snapshot.js';
import { formatIssue, PlanError } from '../core/errors.js';
import type { ClusterRef } from '../journal/events.js';
import type { Registry } from '../core/registry.js';
import { SeededRandom } from '../core/rng.js';
import { needsNodeAccess, type FaultPlugin } from '../faults/fault.js';
import type { ProbePlugin } from '../probes/probe.js';
import type { ExperimentSpec, FaultSpec } from '../spec/model.js';
import { describeStep } from '../spec/step-schema.js';
import { checkBlastRadius, checkDeleteSteps } from './blast-radius.js';
import { controlPlaneStepRefusals } from './control-plane-steps.js';
import { implicitProbes } from './implicit-probes.js';
import { nodeAccessRefusal } from './node-access-limits.js';
import type { Plan, PlannedFault } from './model.js';

export interface PlanOptions {
  /** Drives every random choice; the same seed and snapshot give the same targets. */
  readonly seed: number;
  readonly cluster: ClusterRef;
  readonly faults: Registry<FaultPlugin>;
  readonly probes: Registry<ProbePlugin>;
  /** The cluster's node-access provider (`kind`, `pod`, `sim`, `netns`), if it has one. */
  readonly nodeAccess?: string;
  /** gameday runs the cluster's control plane itself (`--control-plane real`), so etcd drill steps may run. @default false */
  readonly controlPlane?: boolean;
}

/**
 * Spec + cluster snapshot → the concrete plan: which nodes and pods each fault acts on, when,
 * and which probes run. Pure (no I/O, no clock), so `gameday plan` shows exactly what
 * `gameday run --seed N` will do, and tests need no cluster.
 */
export function planExperiment(spec: ExperimentSpec, snapshot: ClusterSnapshot, options: PlanOptions): Plan {
  // One generator shared in file order: the choices of fault N depend on the seed and faults 0..N-1 only.
  const rng = new SeededRandom(options.seed);
  const faults: PlannedFault[] = [];
  const problems: string[] = [];
  for (const fault of spec.faults) {
    try {
      faults.push(planFault(spec, fault, snapshot, rng, options));
    } catch (err) {
      if (!(err instanceof PlanError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0) throw new PlanError(problems.join('\n'));

  const steps = spec.steps.map((s) => ({ id: s.id, name: s.name, kind: s.kind, atMs: s.at.ms, description: describeStep(s) }));
  const stepProblems = [...controlPlaneStepRefusals(spec, { name: options.cluster.name, controlPlane: options.controlPlane === true }), ...checkDeleteSteps(spec)];
  if (stepProblems.length > 0) throw new PlanError(stepProblems.join('\n'));

  const probes = [...spec.probes, ...implicitProbes(spec, options.probes)];
  const blastRadius = checkBlastRadius(spec, snapshot, faults);
  const touches = {
    nodes: distinct(faults.flatMap((f) => f.touches.nodes)),
    pods: distinct(faults.flatMap((f) => f.touches.pods)),
  };
  const warnings = [
    ...controlPlaneWarnings(snapshot, faults),
    ...blastRadius.warnings,
    ...overlapWarnings(faults, spec.duration.ms),
  ];
  return {
    experiment: spec.name,
    file: spec.file,
    seed: options.seed,
    cluster: options.cluster,
    durationMs: spec.duration.ms,
    faults,
    steps,
    probes,
    touches,
    blastRadius: blastRadius.use,
    warnings,
  };
}

function planFault(spec: ExperimentSpec, fault: FaultSpec, snapshot: ClusterSnapshot, rng: SeededRandom, options: PlanOptions): PlannedFault {
  const registry = options.faults;
  const plugin = registry.get(fault.kind);
  const at = (message: string): PlanError => {
    const { line, column } = spec.locate(fault.path);
    return new PlanError(formatIssue({ file: spec.file, line, column, path: fault.path, message }));
  };
  if (!plugin) throw at(registry.unknownMessage(fault.kind));
  if (needsNodeAccess(plugin, fault.params) && !options.nodeAccess) {
    throw at(
      `${fault.name} needs node access (it acts inside the nodes) and cluster ${options.cluster.name} has none; ` +
        'a kind cluster gets it through its kind-<name> context, any other cluster with --node-access pod',
    );
  }
  const refusal = nodeAccessRefusal(fault, options.nodeAccess, snapshot);
  if (refusal) throw at(refusal);
  let planned;
  try {
    planned = plugin.plan(fault.params, { snapshot, rng });
  } catch (err) {
    if (err instanceof PlanError) throw at(`${fault.name}: ${err.message}`);
    throw err;
  }
  return {
    id: fault.id,
    kind: fault.kind,
    name: fault.name,
    atMs: fault.at.ms,
    ...(fault.for ? { forMs: fault.for.ms } : {}),
    params: fault.params,
    targets: planned.targets,
    touches: { nodes: distinct(planned.touches.nodes), pods: distinct(planned.touches.pods), ...(planned.touches.zones ? { zones: distinct(planned.touches.zones) } : {}) },
    description: planned.description,
    spec: fault,
  };
}

function controlPlaneWarnings(snapshot: ClusterSnapshot, faults: readonly PlannedFault[]): string[] {
  const controlPlane = new Set(snapshot.nodes.filter((n) => n.controlPlane).map((n) => n.name));
  return faults.flatMap((f) =>
    f.touches.nodes.filter((n) => controlPlane.has(n)).map((n) => `${f.name} touches control-plane node ${n}: the API server may become unreachable`),
  );
}

/** Two faults on the same node at once: the second may mask or undo the first, and reverts interleave. */
function overlapWarnings(faults: readonly PlannedFault[], durationMs: number): string[] {
  const out: string[] = [];
  const end = (f: PlannedFault): number => (f.forMs === undefined ? durationMs : f.atMs + f.forMs);
  for (let i = 0; i < faults.length; i++) {
    for (let j = i + 1; j < faults.length; j++) {
      const a = faults[i]!;
      const b = faults[j]!;
      if (a.atMs >= end(b) || b.atMs >= end(a)) continue;
      const shared = a.touches.nodes.filter((n) => b.touches.nodes.includes(n));
      if (shared.length > 0) out.push(`${a.name} and ${b.name} act on node ${shared.join(', ')} at the same time`);
    }
  }
  return out;
}

function distinct(items: readonly string[]): string[] {
  return [...new Set(items)].sort();
}
