import { DUPLICATE, LOST, STALE, type ConsistencyOp } from '../core/consistency-sample.js';
import { ACCESS_TARGET_PATTERN } from '../core/access-target.js';
import { ADMISSION_TARGET_DESCRIPTION, ADMISSION_TARGET_PATTERN } from '../core/admission-target.js';
import { BLAST_RADIUS_FIELDS } from '../core/blast-radius.js';
import { REACHABILITY_TARGET_PATTERN } from '../core/reachability-target.js';
import { closest } from '../core/did-you-mean.js';
import { callText, type CheckExpr, type ThresholdUnit } from './ast.js';

/** What a counting function counts: samples of one `op` with one `error`, among the samples of that op. */
export interface CountedSamples {
  readonly op: ConsistencyOp;
  readonly error: string;
  /** The probe must have emitted a sample of this op at all (anywhere in the run), or there is no data. */
  readonly requires?: ConsistencyOp;
  /** What the counted samples are, for messages: `lost`. */
  readonly what: string;
  /** What the population is, for messages: `acknowledged write`. */
  readonly among: string;
  /** Why there may be no data, for messages. */
  readonly missing: string;
}

/** What a check function reads and how it is written. */
export interface CheckFunctionInfo {
  readonly name: string;
  /** `probe`: the argument names a probe under spec.probes; `target`: a Kubernetes object. */
  readonly arg: 'probe' | 'target';
  /**
   * `compare`: `fn(arg) >= threshold`; `holds`: `fn(arg) holds`; `series`: a series of values
   * read inside a percentile, `p99(lag(orders)) < 2s`.
   */
  readonly form: 'compare' | 'holds' | 'series';
  /** A percentile that may read a series function's values instead of the probe's latencies. */
  readonly readsSeries?: boolean;
  /** A count of a consistency probe's samples (src/core/consistency-sample.ts). */
  readonly counts?: CountedSamples;
  /** A series: the samples it takes its values from (their `value`, in the function's unit). */
  readonly seriesOp?: ConsistencyOp;
  /** The unit thresholds must be written in. For `holds` checks: the share of good samples, which must be 1. */
  readonly unit: ThresholdUnit;
  /** Other units a threshold may be written in, for a value whose unit the experiment decides (`prom`). */
  readonly alsoUnits?: readonly ThresholdUnit[];
  /** A probe function that reads what only one probe kind measures names that kind (`prom` reads a `prometheus` probe). */
  readonly probeKind?: string;
  /** `peak`: the highest reading over the range decides, not the worst (how far a workload got, as `maxReplicas`). */
  readonly reads?: 'peak';
  /** Target functions watch through a probe of this kind that the plan adds on its own. */
  readonly implicitProbe?: string;
  readonly targetShape?: { readonly pattern: RegExp; readonly description: string };
  /**
   * An argument of this shape names a probe declared under spec.probes, of the function's
   * implicit kind, instead of a target: `denies(root-pod)` reads the declared `root-pod` probe
   * (whose manifest is inline), where `denies(pods/root.yaml)` starts a probe of its own.
   */
  readonly declaredProbe?: RegExp;
  /** A function that measures several things names one after the call: `blastRadius(shop/frontend).secrets`; each field and what it counts. */
  readonly fields?: Readonly<Record<string, string>>;
  /** What the measured value is, for messages: `a latency`. */
  readonly measures: string;
  readonly example: string;
  readonly summary: string;
}

/** A probe's name as an argument: no path, no extension. */
const DECLARED_PROBE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const ADMISSION_TARGET_OR_PROBE = new RegExp(`${ADMISSION_TARGET_PATTERN.source}|${DECLARED_PROBE_NAME.source}`);

const NAMESPACED = { pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, description: 'namespace/name, like shop/web' };
const NAMESPACED_SERVICE = { ...NAMESPACED, description: 'namespace/service, like shop/web' };
const WORKLOAD = {
  pattern: /^(deployment|statefulset|daemonset|replicaset)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
  description: 'kind/namespace/name with kind one of deployment, statefulset, daemonset, replicaset, like statefulset/shop/db',
};

/** `rto(disaster, back)`: two step names (src/spec/step-schema.ts). */
export const STEP_PAIR = /^([A-Za-z][A-Za-z0-9_-]*), *([A-Za-z][A-Za-z0-9_-]*)$/;

/** `restored(restore)`: one step name. */
export const STEP_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** `rpo(orders, disaster)`: a consistency probe's name and a step name. */
export const PROBE_AND_STEP = /^([^\s,()]+), *([A-Za-z][A-Za-z0-9_-]*)$/;

function probeFunction(name: string, unit: ThresholdUnit, measures: string, example: string, summary: string): CheckFunctionInfo {
  return { name, arg: 'probe', form: 'compare', unit, measures, example, summary };
}

const latency = (p: string, label: string): CheckFunctionInfo => ({
  ...probeFunction(p, 'ms', 'a latency', `${p}(web) < 300ms`, `${label} latency of the probe's samples in the window (or of a series: ${p}(lag(orders)))`),
  readsSeries: true,
});

const counting = (name: string, counts: CountedSamples, summary: string): CheckFunctionInfo => ({
  ...probeFunction(name, 'number', 'a count', `${name}(orders) == 0`, summary),
  counts,
});

const TABLE: readonly CheckFunctionInfo[] = [
  probeFunction('availability', 'ratio', 'a share of good samples', 'availability(web) >= 99.5%', 'share of the probe\'s samples that were ok'),
  latency('p50', 'median'),
  latency('p90', '90th percentile'),
  latency('p95', '95th percentile'),
  latency('p99', '99th percentile'),
  latency('max', 'highest'),
  probeFunction('errors', 'number', 'a count', 'errors(web) <= 5', 'number of samples that were not ok'),
  probeFunction('rate', 'per-second', 'a rate', 'rate(web) >= 40/s', 'samples per second the probe took'),
  counting('lostWrites', { op: 'verify', error: LOST, what: 'lost', among: 'acknowledged write', missing: 'a consistency probe verifies each acknowledged write after recovery; none was verified' }, 'acknowledged writes a consistency probe could not read back after recovery'),
  counting('duplicates', { op: 'list', error: DUPLICATE, requires: 'list', what: 'duplicated', among: 'listed record', missing: 'duplicates need a consistency probe with a list request, and its listing was never read' }, "records a consistency probe's listing holds more than once"),
  counting('staleReads', { op: 'read', error: STALE, what: 'stale', among: 'read-back', missing: 'stale reads need a consistency probe that reads records back (readEvery above 0s)' }, 'read-backs of an acknowledged record that did not return it'),
  {
    name: 'lag',
    arg: 'probe',
    form: 'series',
    unit: 'ms',
    seriesOp: 'lag',
    measures: 'replication lag',
    example: 'p99(lag(orders)) < 2s',
    summary: "a consistency probe's replication lag per record, from acknowledgement to settled read-backs",
  },
  {
    ...probeFunction(
      'prom',
      'number',
      "a PromQL query's value (in the query's own units: PromQL writes durations in seconds)",
      'prom(error_ratio) < 1%',
      "the value of a prometheus probe's query: its latest answer for steady state and abort, its worst answer over the run for an SLO",
    ),
    alsoUnits: ['ratio', 'per-second'],
    probeKind: 'prometheus',
  },
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
    name: 'replicas',
    arg: 'target',
    form: 'compare',
    unit: 'number',
    implicitProbe: 'replicas',
    targetShape: WORKLOAD,
    measures: 'a count of wanted replicas',
    example: 'replicas(deployment/shop/web) <= 10',
    summary: 'replicas the workload asks for (what an autoscaler set), as a series',
  },
  {
    name: 'maxReplicas',
    arg: 'target',
    form: 'compare',
    unit: 'number',
    implicitProbe: 'replicas',
    reads: 'peak',
    targetShape: WORKLOAD,
    measures: 'the highest count of wanted replicas',
    example: 'maxReplicas(deployment/shop/web) >= 6',
    summary: 'the most replicas the workload asked for during the run (how far an autoscaler scaled it), and how long it held there',
  },
  ...(
    [
      ['restarts', 'a count of container restarts', 'restarts(deployment/shop/web) == 0', "container restarts of the workload's pods during the run"],
      ['oomKills', 'a count of OOM kills', 'oomKills(deployment/shop/web) == 0', "containers of the workload's pods ended by the OOM killer during the run"],
      ['evictions', 'a count of evicted pods', 'evictions(deployment/shop/web) <= 1', "pods of the workload evicted during the run (by the kubelet under node pressure or through the Eviction API)"],
    ] as const
  ).map(([name, measures, example, summary]): CheckFunctionInfo => ({ name, arg: 'target', form: 'compare', unit: 'number', implicitProbe: name, targetShape: WORKLOAD, measures, example, summary })),
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
  {
    name: 'reachable',
    arg: 'target',
    form: 'compare',
    unit: 'boolean',
    implicitProbe: 'reachability',
    targetShape: { pattern: REACHABILITY_TARGET_PATTERN, description: 'namespace/app -> namespace/service:port (or pod/namespace/name:port), like shop/frontend -> payments/db:5432' },
    measures: 'whether any source pod can connect',
    example: 'reachable(shop/frontend -> payments/db:5432) == false',
    summary: 'whether a pod labelled app=<app> can open a TCP connection to the destination, tried from inside the pods',
  },
  ...(
    [
      ['admits', 'whether the API server admits the object', 'admits(pods/compliant.yaml) == true', "whether the API server would create the manifest's object, asked with a server-side dry run (?dryRun=All: admission runs, nothing is stored)"],
      ['denies', 'whether the API server refuses the object', 'denies(pods/privileged.yaml) == true', "whether the API server refuses the manifest's object (Pod Security, quota, validation, webhooks), asked with a server-side dry run; the refusal's message is the evidence"],
    ] as const
  ).map(([name, measures, example, summary]): CheckFunctionInfo => ({
    name,
    arg: 'target',
    form: 'compare',
    unit: 'boolean',
    implicitProbe: name,
    targetShape: { pattern: ADMISSION_TARGET_OR_PROBE, description: `${ADMISSION_TARGET_DESCRIPTION}, or the name of a ${name} probe declared under spec.probes with its manifest inline` },
    declaredProbe: DECLARED_PROBE_NAME,
    measures,
    example,
    summary,
  })),
  {
    name: 'blastRadius',
    arg: 'target',
    form: 'compare',
    unit: 'number',
    implicitProbe: 'blastRadius',
    targetShape: { pattern: NAMESPACED.pattern, description: 'namespace/app: the pods labelled app=<app>, like shop/frontend' },
    fields: BLAST_RADIUS_FIELDS,
    measures: 'a count',
    example: 'blastRadius(shop/frontend).secrets == 0',
    summary: "what an attacker in one of the app's pods could reach (Services, namespaces, from inside the pod) and do with its service account (SubjectAccessReview): one count per field",
  },
  {
    name: 'rto',
    arg: 'target',
    form: 'compare',
    unit: 'ms',
    targetShape: { pattern: STEP_PAIR, description: 'two drill step names under spec.steps, the disaster and the step that sees the service back, like disaster, back' },
    measures: 'a time',
    example: 'rto(disaster, back) < 30s',
    summary: 'recovery time of a drill: from the start of the first step (the disaster) to the end of the second (a waitFor that sees the service serve again)',
  },
  {
    name: 'rpo',
    arg: 'target',
    form: 'compare',
    unit: 'ms',
    targetShape: { pattern: PROBE_AND_STEP, description: 'a consistency probe and the drill step that is the disaster, like orders, disaster' },
    measures: 'a time',
    example: 'rpo(orders, disaster) < 5s',
    summary:
      "recovery point of a drill: how much time's worth of acknowledged writes the disaster and the restore lost; from the oldest write of the consistency probe sent before the disaster step started that did not read back after recovery, to that start (0 when none was lost)",
  },
  {
    name: 'restored',
    arg: 'target',
    form: 'compare',
    unit: 'ratio',
    targetShape: { pattern: STEP_NAME, description: 'the name of an etcdRestore drill step under spec.steps, like restore' },
    measures: 'a share of the deleted objects',
    example: 'restored(restore) >= 100%',
    summary: 'share of the objects that the delete steps before an etcdRestore step deleted which the API server served again after the restore; the check names those that did not come back',
  },
];

/** The check functions, by name. */
export const CHECK_FUNCTIONS: ReadonlyMap<string, CheckFunctionInfo> = new Map(TABLE.map((f) => [f.name, f]));

/** The name the plan and engine give the probe a target check implies: `pdb(shop/web)`; or the declared probe the argument names (`denies(root-pod)`). */
export function implicitProbeName(fn: string, arg: string): string {
  return CHECK_FUNCTIONS.get(fn)?.declaredProbe?.test(arg) ? arg : `${fn}(${arg})`;
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
  const series = expr.op === 'holds' ? undefined : expr.series;
  if (info.form === 'series') return `${info.name} is a series of values, not one: read it inside a percentile, like ${info.example}`;
  if (series !== undefined) {
    const inner = CHECK_FUNCTIONS.get(series);
    if (!info.readsSeries) return `${info.name} cannot read a series like ${callText(expr).slice(info.name.length + 1, -1)}: only percentiles can (p50, p90, p95, p99, max), like p99(lag(orders)) < 2s`;
    if (inner?.form !== 'series') {
      const names = TABLE.filter((f) => f.form === 'series').map((f) => f.name);
      const guess = closest(series, names);
      return `unknown series function "${series}"${guess ? `; did you mean "${guess}"?` : `; known: ${names.join(', ')}`}`;
    }
  }
  const field = expr.op === 'holds' ? undefined : expr.field;
  if (info.fields && field === undefined) return `${info.name} measures several things: name one after the call, like ${info.example} (fields: ${Object.keys(info.fields).join(', ')})`;
  if (field !== undefined && !info.fields) return `${info.name} has no fields: write ${info.example}, without .${field}`;
  if (field !== undefined && info.fields && !(field in info.fields)) {
    const names = Object.keys(info.fields);
    const guess = closest(field, names);
    return `${info.name} has no field "${field}"${guess ? `; did you mean "${guess}"?` : ''} (fields: ${names.join(', ')})`;
  }
  if (info.form === 'holds' && expr.op !== 'holds') return `${info.name} is checked with "holds", not a comparison: write ${info.example}`;
  if (info.form === 'compare' && expr.op === 'holds') return `${info.name} compares ${info.measures}: write a comparison, like ${info.example}`;
  const units = [info.unit, ...(info.alsoUnits ?? [])];
  if (expr.op !== 'holds' && !units.includes(expr.threshold.unit)) {
    return `${info.name} compares ${info.measures}: write the threshold ${units.map((u) => HOW_TO_WRITE[u]).join(', or ')} (not ${expr.threshold.text})`;
  }
  if (info.targetShape && !info.targetShape.pattern.test(expr.arg)) {
    return `${info.name} needs a target written as ${info.targetShape.description}; "${expr.arg}" is not`;
  }
  return undefined;
}
