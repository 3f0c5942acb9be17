/**
 * The HorizontalPodAutoscaler's arithmetic, as upstream's replica_calculator.go and horizontal.go
 * do it, kept free of the store so a test can drive it step by step with its own clock. Metric
 * values are milli-units (int64 in Go), and the integer divisions are Go's: they truncate.
 */

/** --horizontal-pod-autoscaler-tolerance: a usage ratio within 10% of 1 changes nothing. */
export const DEFAULT_TOLERANCE = 0.1;

/** What the calculator needs to know of each pod the target's selector matches. */
export interface PodState {
  readonly name: string;
  readonly phase: string;
  readonly deleting: boolean;
  /** The Ready condition; undefined when the pod has none yet. */
  readonly ready?: { readonly status: boolean; readonly lastTransitionTime: number };
  readonly startTime?: number;
}

export interface PodMetric {
  /** Milli-units: millicores, milli-bytes, or a custom metric's value × 1000. */
  readonly value: number;
  readonly timestamp: number;
  readonly windowMs: number;
}

export interface GroupTimings {
  readonly cpuInitializationPeriodMs: number;
  readonly delayOfInitialReadinessStatusMs: number;
}

/** groupPods: deleted and failed pods are left out; pending ones ignored; pods without a metric missing; for CPU, unready or too fresh samples ignored. */
export function groupPods(pods: readonly PodState[], metrics: ReadonlyMap<string, PodMetric>, resource: string | undefined, now: number, timings: GroupTimings): { readyPodCount: number; ignored: Set<string>; missing: Set<string> } {
  const ignored = new Set<string>();
  const missing = new Set<string>();
  let readyPodCount = 0;
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') continue;
    if (pod.phase === 'Pending') {
      ignored.add(pod.name);
      continue;
    }
    const metric = metrics.get(pod.name);
    if (!metric) {
      missing.add(pod.name);
      continue;
    }
    if (resource === 'cpu') {
      let ignore: boolean;
      if (!pod.ready || pod.startTime === undefined) ignore = true;
      else if (pod.startTime + timings.cpuInitializationPeriodMs > now) ignore = !pod.ready.status || metric.timestamp < pod.ready.lastTransitionTime + metric.windowMs;
      else ignore = !pod.ready.status && pod.startTime + timings.delayOfInitialReadinessStatusMs > pod.ready.lastTransitionTime;
      if (ignore) {
        ignored.add(pod.name);
        continue;
      }
    }
    readyPodCount++;
  }
  return { readyPodCount, ignored, missing };
}

export interface Proposal {
  readonly replicas: number;
  /** The average the status reports: milli-units for a value, percent of requests for a utilization. */
  readonly utilization: number;
  /** For a utilization target: the raw average in milli-units. */
  readonly rawUtilization?: number;
}

export class MetricError extends Error {}

/** GetMetricUtilizationRatio: the truncated average over the pods that have a metric. */
function metricRatio(metrics: ReadonlyMap<string, number>, target: number): { ratio: number; average: number } {
  let total = 0;
  for (const v of metrics.values()) total += v;
  const average = Math.trunc(total / metrics.size);
  return { ratio: average / target, average };
}

/** GetResourceUtilizationRatio: usage over requests of the pods that have both, in whole percent. */
function resourceRatio(metrics: ReadonlyMap<string, number>, requests: ReadonlyMap<string, number>, targetPercent: number): { ratio: number; percent: number; raw: number } {
  let used = 0;
  let requested = 0;
  let n = 0;
  for (const [pod, v] of metrics) {
    const r = requests.get(pod);
    if (r === undefined) continue;
    used += v;
    requested += r;
    n++;
  }
  if (requested === 0) throw new MetricError('no metrics returned matched known pods');
  const percent = Math.trunc((used * 100) / requested);
  return { ratio: percent / targetPercent, percent, raw: Math.trunc(used / n) };
}

export interface CalculationInput {
  readonly currentReplicas: number;
  readonly pods: readonly PodState[];
  readonly metrics: ReadonlyMap<string, PodMetric>;
  readonly now: number;
  readonly timings: GroupTimings;
  readonly tolerance?: number;
}

/**
 * The shared shape of calcPlainMetricReplicas and GetResourceReplicas: the ratio over ready pods
 * with metrics; if pods are missing metrics or unready pods are ignored during a scale-up, those
 * pods count at 0 (scaling up) or at the target (scaling down, missing ones only), and a change of
 * direction or one within tolerance keeps the current count.
 */
function calculate(input: CalculationInput, resource: string | undefined, ratioOf: (metrics: ReadonlyMap<string, number>) => number, fullUsage: (pod: string) => number): { replicas: number; counted: ReadonlyMap<string, number> } {
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  if (!input.pods.length) throw new MetricError('no pods returned by selector while calculating replica count');
  const { readyPodCount, ignored, missing } = groupPods(input.pods, input.metrics, resource, input.now, input.timings);
  const values = new Map<string, number>();
  for (const [pod, m] of input.metrics) if (!ignored.has(pod) && input.pods.some((p) => p.name === pod)) values.set(pod, m.value);
  if (!values.size) throw new MetricError('did not receive metrics for any ready pods');
  const counted = new Map(values);
  const replicas = (n: number) => ({ replicas: n, counted });
  const usageRatio = ratioOf(values);
  const rebalanceIgnored = ignored.size > 0 && usageRatio > 1;
  if (!rebalanceIgnored && !missing.size) {
    if (Math.abs(1 - usageRatio) <= tolerance) return replicas(input.currentReplicas);
    return replicas(Math.ceil(usageRatio * readyPodCount));
  }
  if (missing.size) for (const pod of missing) values.set(pod, usageRatio < 1 ? fullUsage(pod) : 0);
  if (rebalanceIgnored) for (const pod of ignored) values.set(pod, 0);
  const newRatio = ratioOf(values);
  if (Math.abs(1 - newRatio) <= tolerance || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1)) return replicas(input.currentReplicas);
  const proposed = Math.ceil(newRatio * values.size);
  if ((newRatio < 1 && proposed > input.currentReplicas) || (newRatio > 1 && proposed < input.currentReplicas)) return replicas(input.currentReplicas);
  return replicas(proposed);
}

/** A Pods metric or a Resource metric with an AverageValue target (calcPlainMetricReplicas); `target` in milli-units. */
export function plainMetricReplicas(input: CalculationInput & { readonly target: number; readonly resource?: string }): Proposal {
  const { replicas, counted } = calculate(input, input.resource, (m) => metricRatio(m, input.target).ratio, () => input.target);
  return { replicas, utilization: metricRatio(counted, input.target).average };
}

/** A Resource metric with a Utilization target (GetResourceReplicas); `requests` per pod in milli-units. */
export function resourceUtilizationReplicas(input: CalculationInput & { readonly targetPercent: number; readonly resource: string; readonly requests: ReadonlyMap<string, number> }): Proposal {
  const { replicas, counted } = calculate(input, input.resource, (m) => resourceRatio(m, input.requests, input.targetPercent).ratio, (pod) => input.requests.get(pod) ?? 0);
  const first = resourceRatio(counted, input.requests, input.targetPercent);
  return { replicas, utilization: first.percent, rawUtilization: first.raw };
}

// ---- normalization: stabilization windows, behavior policies, min and max -----------------------

export interface ScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRules {
  readonly stabilizationWindowSeconds?: number;
  readonly selectPolicy?: 'Max' | 'Min' | 'Disabled';
  readonly policies?: readonly ScalingPolicy[];
}

export interface Behavior {
  readonly scaleUp?: ScalingRules;
  readonly scaleDown?: ScalingRules;
}

export interface ConditionProposal {
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
}

export interface Normalized {
  readonly replicas: number;
  /** AbleToScale after stabilization (ReadyForNewScale, ScaleUpStabilized, ScaleDownStabilized). */
  readonly ableToScale: ConditionProposal;
  /** ScalingLimited (DesiredWithinRange, TooManyReplicas, TooFewReplicas, ScaleUpLimit, ScaleDownLimit). */
  readonly scalingLimited: ConditionProposal;
}

interface Recommendation {
  replicas: number;
  at: number;
}

interface ScaleEvent {
  change: number;
  at: number;
  outdated: boolean;
}

/** Without a behavior, a scale-up is at most to max(2 × current, 4) (scaleUpLimitFactor, scaleUpLimitMinimum). */
function scaleUpLimit(current: number): number {
  return Math.max(2 * current, 4);
}

/**
 * One HPA's memory between syncs: its recent recommendations and, with a behavior, its recent
 * scale events. The controller keeps one per HPA and forgets it when the HPA goes.
 */
export class ScaleHistory {
  private readonly recommendations: Recommendation[] = [];
  private readonly scaleUps: ScaleEvent[] = [];
  private readonly scaleDowns: ScaleEvent[] = [];

  /** recordInitialRecommendation: the first sync remembers the current size as a recommendation. */
  recordInitial(current: number, now: number): void {
    if (!this.recommendations.length) this.recommendations.push({ replicas: current, at: now });
  }

  /** normalizeDesiredReplicas (no behavior): the highest recommendation of the downscale window, then min, max and the scale-up limit. */
  normalize(current: number, desired: number, min: number, max: number, downscaleWindowMs: number, now: number): Normalized {
    let stabilized = desired;
    let oldIndex = -1;
    const cutoff = now - downscaleWindowMs;
    this.recommendations.forEach((rec, i) => {
      if (rec.at < cutoff) oldIndex = i;
      else if (rec.replicas > stabilized) stabilized = rec.replicas;
    });
    this.remember(oldIndex, desired, now);
    const ableToScale: ConditionProposal =
      stabilized !== desired
        ? { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
        : { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
    const limit = scaleUpLimit(current);
    let maximum: number;
    let limiting: [string, string];
    if (max > limit) {
      maximum = limit;
      limiting = ['ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'];
    } else {
      maximum = max;
      limiting = ['TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    }
    let replicas = stabilized;
    let reason = 'DesiredWithinRange';
    let message = 'the desired count is within the acceptable range';
    if (stabilized < min) {
      replicas = min;
      [reason, message] = ['TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
    } else if (stabilized > maximum) {
      replicas = maximum;
      [reason, message] = limiting;
    }
    return { replicas, ableToScale, scalingLimited: { status: replicas === stabilized ? 'False' : 'True', reason, message } };
  }

  /** normalizeDesiredReplicasWithBehaviors: each direction's stabilization window, then its policies, then min and max. */
  normalizeWithBehavior(behavior: Behavior, current: number, desired: number, min: number, max: number, downscaleWindowMs: number, now: number): Normalized {
    const up = behavior.scaleUp ?? {};
    const down = behavior.scaleDown ?? {};
    const upWindow = up.stabilizationWindowSeconds ?? 0;
    const downWindow = down.stabilizationWindowSeconds ?? Math.trunc(downscaleWindowMs / 1000);
    const scalingUp = desired >= current;
    const windowSeconds = scalingUp ? upWindow : downWindow;
    const better = scalingUp ? Math.min : Math.max;
    const obsoleteCutoff = now - Math.max(upWindow, downWindow) * 1000;
    const cutoff = now - windowSeconds * 1000;
    let stabilized = desired;
    let oldIndex = -1;
    this.recommendations.forEach((rec, i) => {
      if (rec.at > cutoff) stabilized = better(rec.replicas, stabilized);
      if (rec.at < obsoleteCutoff) oldIndex = i;
    });
    this.remember(oldIndex, desired, now);
    const ableToScale: ConditionProposal =
      stabilized === desired
        ? { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }
        : scalingUp
          ? { status: 'True', reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
          : { status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
    let replicas = stabilized;
    let reason = 'DesiredWithinRange';
    let message = 'the desired count is within the acceptable range';
    if (stabilized > current) {
      const limit = Math.max(current, scaleUpLimitWithRules(current, this.scaleUps, up, now));
      const [maximum, why, text] = max > limit ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate'] : [max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (stabilized > maximum) [replicas, reason, message] = [maximum, why, text];
    } else if (stabilized < current) {
      const limit = Math.min(current, scaleDownLimitWithRules(current, this.scaleDowns, down, now));
      const [minimum, why, text] = min < limit ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate'] : [min, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (stabilized < minimum) [replicas, reason, message] = [minimum, why, text];
    }
    return { replicas, ableToScale, scalingLimited: { status: replicas === stabilized ? 'False' : 'True', reason, message } };
  }

  /** storeScaleEvent: with a behavior, a rescale is remembered for its direction's policy periods. */
  recordScale(behavior: Behavior | undefined, previous: number, next: number, now: number): void {
    if (!behavior) return;
    const up = next > previous;
    const events = up ? this.scaleUps : this.scaleDowns;
    const longest = Math.max(0, ...((up ? behavior.scaleUp : behavior.scaleDown)?.policies ?? []).map((p) => p.periodSeconds));
    for (const e of events) if (e.at < now - longest * 1000) e.outdated = true;
    const event = { change: Math.abs(next - previous), at: now, outdated: false };
    const reuse = events.map((e) => e.outdated).lastIndexOf(true);
    if (reuse >= 0) events[reuse] = event;
    else events.push(event);
  }

  private remember(oldIndex: number, replicas: number, now: number): void {
    if (oldIndex >= 0) this.recommendations[oldIndex] = { replicas, at: now };
    else this.recommendations.push({ replicas, at: now });
  }
}

function changeInPeriod(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.filter((e) => e.at > cutoff).reduce((sum, e) => sum + e.change, 0);
}

function scaleUpLimitWithRules(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // For scaling up, the Min policy is the smallest proposal, Max (the default) the largest.
  const [pick, start] = rules.selectPolicy === 'Min' ? [Math.min, INT32_MAX] : [Math.max, INT32_MIN];
  let result = start;
  for (const policy of rules.policies ?? []) {
    const from = current - changeInPeriod(policy.periodSeconds, events, now);
    result = pick(result, policy.type === 'Pods' ? from + policy.value : Math.ceil(from * (1 + policy.value / 100)));
  }
  return result;
}

function scaleDownLimitWithRules(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // For scaling down, the Min policy removes the fewest pods: the largest proposal.
  const [pick, start] = rules.selectPolicy === 'Min' ? [Math.max, INT32_MIN] : [Math.min, INT32_MAX];
  let result = start;
  for (const policy of rules.policies ?? []) {
    const from = current + changeInPeriod(policy.periodSeconds, events, now);
    result = pick(result, policy.type === 'Pods' ? from - policy.value : Math.trunc(from * (1 - policy.value / 100)));
  }
  return result;
}

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
