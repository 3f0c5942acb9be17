import { statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { closest } from '../core/did-you-mean.js';
import { Duration } from '../core/duration.js';
import { CHECK_FUNCTIONS, PROBE_AND_STEP, STEP_PAIR } from '../slo/functions.js';
import type { CheckSpec, ExperimentSpec } from './model.js';
import type { SpecRegistries } from './registries.js';
import type { SpecProblem } from './spec-problem.js';
import { resolve } from 'node:path';
import type { ApplyParams, EtcdRestoreParams, WaitForParams } from './step-schema.js';

/**
 * The rules a schema cannot express because they relate one part of the experiment to another
 * or to the disk: checks name declared probes, faults fit in the run, names are unique, workload
 * files exist. Every broken rule is returned, not just the first.
 */
export function experimentRuleProblems(spec: ExperimentSpec, registries: SpecRegistries): SpecProblem[] {
  return [...faultProblems(spec), ...stepProblems(spec), ...workloadProblems(spec), ...checkProblems(spec, registries), ...declaredProbeTargetProblems(spec, registries)];
}

/** A declared probe whose `target` a check could have named (a manifest file of `denies`) is checked as that check's would be. */
function declaredProbeTargetProblems(spec: ExperimentSpec, registries: SpecRegistries): SpecProblem[] {
  return spec.probes.flatMap((probe) => {
    const target = (probe.params as { readonly target?: unknown } | undefined)?.target;
    const plugin = registries.probes.get(probe.kind);
    if (typeof target !== 'string' || !plugin?.targetProblems) return [];
    return plugin.targetProblems(target, dirname(spec.file)).map((message) => ({ path: `${probe.path}.${probe.kind}.target`, message }));
  });
}

function faultProblems(spec: ExperimentSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const end = spec.duration;
  const firstWithName = new Map<string, string>();
  for (const fault of spec.faults) {
    if (fault.at.ms >= end.ms) {
      problems.push({ path: `${fault.path}.at`, message: `starts at ${fault.at}, but the run ends at ${end} (spec.duration); start it earlier or lengthen the run` });
    } else if (fault.for && fault.at.ms + fault.for.ms > end.ms) {
      const longest = Duration.millis(end.ms - fault.at.ms);
      problems.push({ path: `${fault.path}.for`, message: `holds until ${fault.at.plus(fault.for)}, but the run ends at ${end} (spec.duration); hold it for at most ${longest} or lengthen the run` });
    }
    const earlier = firstWithName.get(fault.name);
    if (earlier) problems.push({ path: `${fault.path}.name`, message: `the fault name "${fault.name}" is already used by ${earlier}; fault names must be unique` });
    else firstWithName.set(fault.name, fault.path);
  }
  return problems;
}

function stepProblems(spec: ExperimentSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const firstWithName = new Map<string, string>();
  for (const step of spec.steps) {
    if (step.at.ms >= spec.duration.ms) {
      problems.push({ path: `${step.path}.at`, message: `starts at ${step.at}, but the run ends at ${spec.duration} (spec.duration); start it earlier or lengthen the run` });
    }
    const earlier = firstWithName.get(step.name);
    if (earlier) problems.push({ path: `${step.path}.name`, message: `the step name "${step.name}" is already used by ${earlier}; step names must be unique` });
    else firstWithName.set(step.name, step.path);
  }
  const order = spec.steps.map((s) => s.name);
  for (const check of [...spec.steadyState.checks, ...spec.slos, ...spec.abort]) {
    const pair = check.expr.fn === 'rto' ? STEP_PAIR.exec(check.expr.arg) : null;
    if (!pair) continue;
    const [, from, to] = pair as unknown as [string, string, string];
    const unknown = [from, to].filter((name) => !order.includes(name));
    if (unknown.length > 0) {
      const declared = order.length > 0 ? `the steps are ${order.join(', ')}` : 'declare them under spec.steps';
      problems.push({ path: check.path, message: `rto() names ${unknown.map((n) => `"${n}"`).join(' and ')}, which no step is called; ${declared}` });
    } else if (order.indexOf(to) <= order.indexOf(from)) {
      problems.push({ path: check.path, message: `rto(${from}, ${to}) measures from ${from} to a later step, and ${to} does not come after ${from} in spec.steps` });
    }
  }
  for (const check of [...spec.steadyState.checks, ...spec.slos, ...spec.abort]) {
    const named = check.expr.fn === 'rpo' ? PROBE_AND_STEP.exec(check.expr.arg) : null;
    if (!named) continue;
    const [, probe, step] = named as unknown as [string, string, string];
    if (check.path.startsWith('spec.slos') === false) problems.push({ path: check.path, message: `rpo(${probe}, ${step}) is known only once the probe verified its writes after recovery: check it under spec.slos` });
    const declared = spec.probes.find((p) => p.name === probe);
    if (!declared) problems.push({ path: check.path, message: `rpo() names the probe "${probe}", which is not declared; declare a consistency probe under spec.probes` });
    else if (declared.kind !== 'consistency') problems.push({ path: check.path, message: `rpo() reads the writes of a consistency probe; "${probe}" is a ${declared.kind} probe` });
    if (!order.includes(step)) problems.push({ path: check.path, message: `rpo() names the step "${step}", which no step is called; ${order.length > 0 ? `the steps are ${order.join(', ')}` : 'declare it under spec.steps'}` });
  }
  problems.push(...etcdStepProblems(spec));
  return problems;
}

/** A restore reads the snapshot an earlier etcdSnapshot step took; `restored(step)` reads what an etcdRestore step found. */
function etcdStepProblems(spec: ExperimentSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  spec.steps.forEach((step, i) => {
    if (step.kind !== 'etcdRestore') return;
    const snapshots = spec.steps.slice(0, i).filter((s) => s.kind === 'etcdSnapshot').map((s) => s.name);
    const named = (step.params as EtcdRestoreParams).snapshot;
    if (named === undefined && snapshots.length === 0) problems.push({ path: `${step.path}.etcdRestore`, message: 'restores a snapshot, and no etcdSnapshot step comes before it; add one before the disaster' });
    else if (named !== undefined && !snapshots.includes(named)) {
      problems.push({ path: `${step.path}.etcdRestore.snapshot`, message: `"${named}" is no etcdSnapshot step before this one; ${snapshots.length > 0 ? `those are ${snapshots.join(', ')}` : 'add one before the disaster'}` });
    }
  });
  const restores = spec.steps.filter((s) => s.kind === 'etcdRestore').map((s) => s.name);
  for (const check of [...spec.steadyState.checks, ...spec.slos, ...spec.abort]) {
    if (check.expr.fn !== 'restored' || restores.includes(check.expr.arg)) continue;
    problems.push({ path: check.path, message: `restored() names "${check.expr.arg}", which is no etcdRestore step; ${restores.length > 0 ? `the etcdRestore steps are ${restores.join(', ')}` : 'declare one under spec.steps'}` });
  }
  return problems;
}

/** The checks of waitFor steps, with their place in the file. */
export function stepChecks(spec: ExperimentSpec): CheckSpec[] {
  return spec.steps.flatMap((s) => (s.kind === 'waitFor' ? [{ path: `${s.path}.waitFor.check`, expr: (s.params as WaitForParams).check }] : []));
}

function workloadProblems(spec: ExperimentSpec): SpecProblem[] {
  const files = [
    ...spec.workloads.map((file, i) => ({ file, path: `spec.workloads[${i}]`, what: 'workload paths' })),
    ...spec.steps.flatMap((s) => (s.kind === 'apply' ? [{ file: resolve(spec.dir, (s.params as ApplyParams).file), path: `${s.path}.apply.file`, what: 'apply files' }] : [])),
  ];
  const problems: SpecProblem[] = [];
  files.forEach(({ file, path, what }) => {
    let stat: Stats | undefined;
    try {
      stat = statSync(file, { throwIfNoEntry: false });
    } catch (err) {
      problems.push({ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    if (!stat) problems.push({ path, message: `no such file: ${file} (${what} are relative to the experiment file)` });
    else if (!stat.isFile()) problems.push({ path, message: `${file} is not a file; name a manifest file` });
  });
  return problems;
}

function checkProblems(spec: ExperimentSpec, registries: SpecRegistries): SpecProblem[] {
  const probeNames = spec.probes.map((p) => p.name);
  const problems: SpecProblem[] = [];
  const all: readonly CheckSpec[] = [...spec.steadyState.checks, ...spec.slos, ...spec.abort, ...stepChecks(spec)];
  for (const { path, expr } of all) {
    const info = CHECK_FUNCTIONS.get(expr.fn);
    // The schema already rejected unknown functions; this guards the table lookup only.
    if (!info) continue;
    const argOffset = expr.text.indexOf(expr.arg, expr.text.indexOf('('));
    if (info.arg === 'probe' && !probeNames.includes(expr.arg)) {
      const guess = closest(expr.arg, probeNames);
      const message = guess
        ? `no probe named "${expr.arg}"; did you mean "${guess}"?`
        : probeNames.length > 0
          ? `no probe named "${expr.arg}"; declared probes: ${probeNames.join(', ')}`
          : `no probe named "${expr.arg}"; declare it under spec.probes`;
      problems.push({ path, message, offset: argOffset });
    }
    const probe = info.probeKind ? spec.probes.find((p) => p.name === expr.arg) : undefined;
    if (probe && probe.kind !== info.probeKind) {
      problems.push({ path, message: `${info.name}(…) reads the value of a ${info.probeKind} probe; "${probe.name}" is a ${probe.kind} probe`, offset: argOffset });
    }
    const declared = info.declaredProbe?.test(expr.arg) ? spec.probes.find((p) => p.name === expr.arg) : undefined;
    if (info.declaredProbe?.test(expr.arg) && declared?.kind !== info.implicitProbe) {
      const what = declared ? `"${expr.arg}" is a ${declared.kind} probe` : `no probe is named "${expr.arg}"`;
      problems.push({ path, message: `${info.name}(${expr.arg}) reads a probe of kind ${info.implicitProbe} declared under spec.probes, and ${what}; declare it with its manifest inline, or name a manifest file like ${info.example.slice(info.name.length + 1, info.example.indexOf(')'))}`, offset: argOffset });
    }
    const implicit = info.implicitProbe ? registries.probes.get(info.implicitProbe) : undefined;
    if (implicit?.targetProblems && info.targetShape?.pattern.test(expr.arg) && !info.declaredProbe?.test(expr.arg)) {
      for (const problem of implicit.targetProblems(expr.arg, dirname(spec.file))) problems.push({ path, message: `${info.name}(${expr.arg}): ${problem}`, offset: argOffset });
    }
    if (info.implicitProbe && !registries.probes.has(info.implicitProbe)) {
      problems.push({
        path,
        message: `${info.name}(…) checks need the probe kind "${info.implicitProbe}", which this gameday does not have (probe kinds: ${registries.probes.kinds().join(', ') || 'none'})`,
      });
    }
  }
  return problems;
}
