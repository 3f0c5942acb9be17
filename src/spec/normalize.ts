import { dirname, resolve } from 'node:path';
import { Duration } from '../core/duration.js';
import type { CheckExpr } from '../slo/ast.js';
import type { ExperimentDocument } from './experiment-schema.js';
import type { CheckSpec, ExperimentSpec } from './model.js';
import { formatPath } from './path.js';
import type { YamlSource } from './yaml-source.js';

const DEFAULT_RECOVER_WITHIN = Duration.seconds(60);
const DEFAULT_STEADY_STATE_TIMEOUT = Duration.seconds(60);
const DEFAULT_MAX_NODES = 1;
const DEFAULT_MAX_POD_PERCENT = 50;

/**
 * The schema's output as the plan and engine want it: defaults filled in, faults numbered
 * `f0, f1…` and named, workload paths absolute, every check and probe carrying its dotted path.
 */
export function normalizeExperiment(doc: ExperimentDocument, source: YamlSource): ExperimentSpec {
  const dir = resolve(dirname(source.file));
  const spec = doc.spec;
  const checks = (exprs: readonly CheckExpr[] | undefined, base: string): CheckSpec[] => (exprs ?? []).map((expr, i) => ({ path: `${base}[${i}]`, expr }));
  return {
    file: source.file,
    dir,
    name: doc.metadata.name,
    labels: { ...doc.metadata.labels },
    ...(doc.metadata.description === undefined ? {} : { description: doc.metadata.description }),
    workloads: (spec.workloads ?? []).map((w) => resolve(dir, w)),
    duration: spec.duration,
    steadyState: {
      checks: checks(spec.steadyState?.checks, 'spec.steadyState.checks'),
      recoverWithin: spec.steadyState?.recoverWithin ?? DEFAULT_RECOVER_WITHIN,
      timeout: spec.steadyState?.timeout ?? DEFAULT_STEADY_STATE_TIMEOUT,
    },
    probes: Object.entries(spec.probes ?? {}).map(([name, probe]) => ({ name, kind: probe.kind, params: probe.params, path: formatPath(['spec', 'probes', name]) })),
    faults: (spec.faults ?? []).map((fault, index) => ({
      id: `f${index}`,
      index,
      kind: fault.kind,
      name: fault.name ?? `${fault.kind}#${index}`,
      at: fault.at,
      ...(fault.for === undefined ? {} : { for: fault.for }),
      params: fault.params,
      path: `spec.faults[${index}]`,
    })),
    steps: (spec.steps ?? []).map((step, index) => ({ id: `s${index}`, name: step.name, kind: step.kind, at: step.at, params: step.params, path: `spec.steps[${index}]` })),
    slos: checks(spec.slos, 'spec.slos'),
    abort: checks(spec.abort, 'spec.abort'),
    blastRadius: {
      maxNodes: spec.blastRadius?.maxNodes ?? DEFAULT_MAX_NODES,
      maxPodPercent: spec.blastRadius?.maxPodPercent ?? DEFAULT_MAX_POD_PERCENT,
      allowZoneOutage: spec.blastRadius?.allowZoneOutage ?? false,
      allowDeleteIn: spec.blastRadius?.allowDeleteIn ?? [],
    },
    locate: (path) => source.locate(path),
  };
}
