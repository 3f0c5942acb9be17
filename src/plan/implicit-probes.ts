import { formatIssue, PlanError } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import type { ProbePlugin } from '../probes/probe.js';
import { CHECK_FUNCTIONS, implicitProbeName } from '../slo/functions.js';
import type { ExperimentSpec, ProbeSpec } from '../spec/model.js';
import { stepChecks } from '../spec/rules.js';

/**
 * The probes checks ask for without the file declaring them: `pdb(shop/web) holds` needs a pdb
 * probe watching shop/web. One probe per function and target, however many checks use it, so
 * the steady state, the SLOs and the abort conditions all judge the same samples.
 */
export function implicitProbes(spec: ExperimentSpec, probes: Registry<ProbePlugin>): ProbeSpec[] {
  const taken = new Set(spec.probes.map((p) => p.name));
  const out: ProbeSpec[] = [];
  for (const check of [...spec.steadyState.checks, ...spec.slos, ...spec.abort, ...stepChecks(spec)]) {
    const { fn, arg } = check.expr;
    const info = CHECK_FUNCTIONS.get(fn);
    if (info?.arg !== 'target' || info.implicitProbe === undefined) continue;
    const name = implicitProbeName(fn, arg);
    if (taken.has(name)) continue;
    if (!probes.has(info.implicitProbe)) {
      const { line, column } = spec.locate(check.path);
      const message = `${fn}() needs a probe of kind "${info.implicitProbe}", which this gameday does not have`;
      throw new PlanError(formatIssue({ file: spec.file, line, column, path: check.path, message }));
    }
    taken.add(name);
    out.push({ name, kind: info.implicitProbe, params: { target: arg }, path: check.path });
  }
  return out;
}
