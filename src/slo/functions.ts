import { ACCESS_TARGET_PATTERN } from '../core/access-target.js';
import { closest } from '../core/did-you-mean.js';
import type { CheckExpr, ThresholdUnit } from './ast.js';

/** What a check function reads and how it is written. */
export interface CheckFunctionInfo {
  readonly name: string;
  /** `probe`: the argument names a probe under spec.probes; `target`: a Kubernetes object. */
  readonly arg: 'probe' | 'target';
  /** `compare`: `fn(arg) >= threshold`; `holds`: `fn(arg) holds`. */
  readonly form: 'compare' | 'holds';
  /** The unit thresholds must be written in. For `holds` checks: the share of good samples, which must be 1. */
  readonly unit: ThresholdUnit;
  /** Target functions watch through a probe of this kind that the plan adds on its own. */
  readonly implicitProbe?: string;
  readonly targetShape?: { readonly pattern: RegExp; readonly description: string };
  /** What the measured value is, for messages: `a latency`. */
  readonly measures: string;
  readonly example: string;
  readonly summary: string;
}

const NAMESPACED = { pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, description: 'namespace/name, like shop/web' };
const NAMESPACED_SERVICE = { ...NAMESPACED, description: 'namespace/service, like shop/web' };
const WORKLOAD = {
  pattern: /^(deployment|statefulset|daemonset|replicaset)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
  description: 'kind/namespace/name with kind one of deployment, statefulset, daemonset, replicaset, like statefulset/shop/db',
};

function probeFunction(name: string, unit: ThresholdUnit, measures: string, example: string, summary: string): CheckFunctionInfo {
  return { name, arg: 'probe', form: 'compare', unit, measures, example, summary };
}

const latency = (p: string, label: string): CheckFunctionInfo =>
  probeFunction(p, 'ms', 'a latency', `${p}(web) < 300ms`, `${label} latency of the probe's samples in the window`);

const TABLE: readonly CheckFunctionInfo[] = [
  probeFunction('availability', 'ratio', 'a share of good samples', 'availability(web) >= 99.5%', 'share of the probe\'s samples that were ok'),
  latency('p50', 'median'),
  latency('p90', '90th percentile'),
  latency('p95', '95th percentile'),
  latency('p99', '99th percentile'),
  latency('max', 'highest'),
  probeFunction('errors', 'number', 'a count', 'errors(web) <= 5', 'number of samples that were not ok'),
  probeFunction('rate', 'per-second', 'a rate', 'rate(web) >= 40/s', 'samples per second the probe took'),
  {
    name: 'pdb',
    arg: 'target',
    form: 'holds',
    unit: 'ratio',
    implicitProbe: 'pdb',
    targetShape: NAMESPACED,
    measures: 'whether ready pods stayed at or above the budget',
    example: 'pdb(shop/web) holds',
    summary: 'ready pods never fell below the PodDisruptionBudget\'s desired healthy',
  },
  {
    name: 'readiness',
    arg: 'target',
    form: 'holds',
    unit: 'ratio',
    implicitProbe: 'readiness',
    targetShape: NAMESPACED_SERVICE,
    measures: 'whether endpoints followed pod readiness',
    example: 'readiness(shop/web) holds',
    summary: 'the service never routed traffic to an unready pod',
  },
  {
    name: 'failover',
    arg: 'target',
    form: 'compare',
    unit: 'ms',
    implicitProbe: 'failover',
    targetShape: WORKLOAD,
    measures: 'a time',
    example: 'failover(statefulset/shop/db) < 20s',
    summary: 'longest time from losing a ready pod to a replacement serving',
  },
  {
    name: 'ready',
    arg: 'target',
    form: 'compare',
    unit: 'number',
    implicitProbe: 'ready',
    targetShape: WORKLOAD,
    measures: 'a count of ready pods',
    example: 'ready(deployment/shop/web) >= 3',
    summary: 'ready pods of the workload',
  },
  {
    name: 'can',
    arg: 'target',
    form: 'compare',
    unit: 'boolean',
    implicitProbe: 'access',
    targetShape: { pattern: ACCESS_TARGET_PATTERN, description: 'serviceaccount/namespace/name, verb, resource[, namespace], like serviceaccount/shop/web, get, secrets' },
    measures: 'whether the access is allowed',
    example: 'can(serviceaccount/shop/web, get, secrets) == false',
    summary: 'whether the service account may do the verb on the resource, asked through SubjectAccessReview',
  },
];

/** The check functions, by name. */
export const CHECK_FUNCTIONS: ReadonlyMap<string, CheckFunctionInfo> = new Map(TABLE.map((f) => [f.name, f]));

/** The name the plan and engine give the probe a target check implies: `pdb(shop/web)`. */
export function implicitProbeName(fn: string, arg: string): string {
  return `${fn}(${arg})`;
}

const HOW_TO_WRITE: Readonly<Record<ThresholdUnit, string>> = {
  ratio: 'as a percentage, like 99.5%',
  ms: 'as a duration, like 300ms or 1s',
  number: 'as a plain number, like 3',
  'per-second': 'as a rate, like 50/s',
  boolean: 'as true or false',
};

/**
 * What is wrong with a parsed check against the function table (unknown function, `holds` where a
 * comparison belongs, a threshold in the wrong unit, a target of the wrong shape), or undefined.
 * Whether a named probe exists is the experiment's business (src/spec/rules.ts).
 */
export function checkFunctionProblem(expr: CheckExpr): string | undefined {
  const info = CHECK_FUNCTIONS.get(expr.fn);
  if (!info) {
    const names = [...CHECK_FUNCTIONS.keys()];
    const guess = closest(expr.fn, names);
    return guess
      ? `unknown check function "${expr.fn}"; did you mean "${guess}"?`
      : `unknown check function "${expr.fn}"; known: ${names.join(', ')}`;
  }
  if (info.form === 'holds' && expr.op !== 'holds') return `${info.name} is checked with "holds", not a comparison: write ${info.example}`;
  if (info.form === 'compare' && expr.op === 'holds') return `${info.name} compares ${info.measures}: write a comparison, like ${info.example}`;
  if (expr.op !== 'holds' && expr.threshold.unit !== info.unit) {
    return `${info.name} compares ${info.measures}: write the threshold ${HOW_TO_WRITE[info.unit]} (not ${expr.threshold.text})`;
  }
  if (info.targetShape && !info.targetShape.pattern.test(expr.arg)) {
    return `${info.name} needs a target written as ${info.targetShape.description}; "${expr.arg}" is not`;
  }
  return undefined;
}
