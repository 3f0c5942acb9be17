import type { ClusterSnapshot, PodInfo } from '../cluster/snapshot.js';
import { formatIssue, PlanError } from '../core/errors.js';
import type { ExperimentSpec } from '../spec/model.js';
import type { DeleteParams } from '../spec/step-schema.js';
import type { BlastRadiusUse, OwnerShare, PlannedFault, ZoneUse } from './model.js';

/** The defaults src/spec applies when the file sets no limit (spec/model.ts `BlastRadius`). */
const DEFAULT_MAX_NODES = 1;
const DEFAULT_MAX_POD_PERCENT = 50;

export interface BlastRadiusCheck {
  readonly use: BlastRadiusUse;
  readonly warnings: readonly string[];
}

/**
 * Enforces `spec.blastRadius` on everything the faults touch together (docs/architecture.md, principle 7):
 * distinct nodes, and per workload the share of its pods. Every limit broken is reported at once,
 * each naming the fault that went over, the limit's place in the file and how to raise it.
 */
export function checkBlastRadius(spec: ExperimentSpec, snapshot: ClusterSnapshot, faults: readonly PlannedFault[]): BlastRadiusCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  const zones = checkZones(spec, faults, problems);
  const nodeProblem = checkNodes(spec, faults);
  if (nodeProblem) problems.push(nodeProblem);
  const owners = shareByOwner(snapshot, faults, spec.blastRadius.maxPodPercent, warnings);
  for (const share of owners) {
    if (share.percent > spec.blastRadius.maxPodPercent) problems.push(podProblem(spec, share));
  }
  if (problems.length > 0) throw new PlanError(problems.join('\n'));
  const use = {
    maxNodes: spec.blastRadius.maxNodes,
    maxPodPercent: spec.blastRadius.maxPodPercent,
    ...(spec.blastRadius.allowZoneOutage ? { allowZoneOutage: true } : {}),
    ...(zones.length > 0 ? { zones } : {}),
    owners: owners.map(({ namespace, owner, touched, total, percent }) => ({ namespace, owner, touched, total, percent })),
  };
  return { use, warnings };
}

/**
 * A fault that takes a whole zone out is never allowed by a node count alone: it needs
 * `allowZoneOutage`, said in the file. Once allowed, its nodes are the zone's and maxNodes
 * limits the other faults only.
 */
function checkZones(spec: ExperimentSpec, faults: readonly PlannedFault[], problems: string[]): ZoneUse[] {
  const zones: ZoneUse[] = [];
  for (const fault of faults) {
    for (const zone of fault.touches.zones ?? []) {
      zones.push({ zone, fault: fault.name, nodes: fault.touches.nodes });
      if (spec.blastRadius.allowZoneOutage) continue;
      const message =
        `${fault.name} takes zone ${zone} out whole (${plural(fault.touches.nodes.length, 'node')}: ${fault.touches.nodes.join(', ')}), ` +
        'and a zone outage needs an explicit allowance. To allow it, set spec.blastRadius.allowZoneOutage: true';
      problems.push(formatIssue({ file: spec.file, ...spec.locate(fault.spec.path), path: fault.spec.path, message }));
    }
  }
  return zones;
}

/**
 * A delete step removes data for good (a claim, a namespace), so it is allowed only inside the
 * namespaces the file lists in `spec.blastRadius.allowDeleteIn`; a Namespace step deletes the
 * namespace it names.
 */
export function checkDeleteSteps(spec: ExperimentSpec): string[] {
  const allowed = spec.blastRadius.allowDeleteIn;
  return spec.steps.flatMap((step) => {
    if (step.kind !== 'delete') return [];
    const p = step.params as DeleteParams;
    const namespace = p.kind === 'Namespace' ? p.name : p.namespace!;
    if (allowed.includes(namespace)) return [];
    const fix = allowed.length > 0 ? `add ${namespace} to spec.blastRadius.allowDeleteIn (now ${allowed.join(', ')})` : `set spec.blastRadius.allowDeleteIn: [${namespace}]`;
    const message = `step ${step.name} deletes ${p.kind} ${p.kind === 'Namespace' ? p.name : `${namespace}/${p.name}`}, in namespace ${namespace}, which the blast radius does not allow deletes in. To allow it, ${fix}`;
    return [formatIssue({ file: spec.file, ...spec.locate(step.path), path: step.path, message })];
  });
}

function checkNodes(spec: ExperimentSpec, faults: readonly PlannedFault[]): string | undefined {
  const limit = spec.blastRadius.maxNodes;
  const nodes = new Set<string>();
  let culprit: PlannedFault | undefined;
  for (const fault of faults) {
    if ((fault.touches.zones ?? []).length > 0) continue;
    for (const node of fault.touches.nodes) nodes.add(node);
    if (nodes.size > limit && culprit === undefined) culprit = fault;
  }
  if (culprit === undefined) return undefined;
  const names = [...nodes].sort();
  const what = `the faults together touch ${plural(names.length, 'node')} (${names.join(', ')})`;
  return limitProblem(spec, {
    limitPath: 'spec.blastRadius.maxNodes',
    isDefault: limit === DEFAULT_MAX_NODES,
    culprit,
    overLimit: `${what}, more than the ${limit === DEFAULT_MAX_NODES ? 'default ' : ''}blast-radius limit of ${plural(limit, 'node')}`,
    raiseTo: String(names.length),
  });
}

interface OwnerTally extends OwnerShare {
  readonly pods: readonly string[];
  /** The first fault (file order) after which this owner's share is over the limit. */
  readonly culprit?: PlannedFault;
}

function shareByOwner(snapshot: ClusterSnapshot, faults: readonly PlannedFault[], maxPodPercent: number, warnings: string[]): OwnerTally[] {
  const podsByKey = new Map(snapshot.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const tallies = new Map<string, { namespace: string; owner: string; total: number; pods: Set<string>; culprit?: PlannedFault }>();
  const warned = new Set<string>();
  for (const fault of faults) {
    for (const key of fault.touches.pods) {
      const pod = podsByKey.get(key);
      if (pod?.owner === undefined) {
        if (!warned.has(key)) warnings.push(unlimitedPodWarning(fault, key, pod));
        warned.add(key);
        continue;
      }
      const ownerKey = `${pod.namespace}/${pod.owner.kind}/${pod.owner.name}`;
      let tally = tallies.get(ownerKey);
      if (!tally) {
        tally = { namespace: pod.namespace, owner: `${pod.owner.kind}/${pod.owner.name}`, total: countOwned(snapshot, pod), pods: new Set() };
        tallies.set(ownerKey, tally);
      }
      tally.pods.add(pod.name);
    }
    // Checked per fault so an error can name the fault that pushed a workload over its limit.
    for (const tally of tallies.values()) {
      if (tally.culprit === undefined && percentOf(tally.pods.size, tally.total) > maxPodPercent) tally.culprit = fault;
    }
  }
  return [...tallies.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, t]) => ({ namespace: t.namespace, owner: t.owner, touched: t.pods.size, total: t.total, percent: percentOf(t.pods.size, t.total), pods: [...t.pods].sort(), culprit: t.culprit }));
}

function countOwned(snapshot: ClusterSnapshot, pod: PodInfo): number {
  return snapshot.pods.filter((p) => p.namespace === pod.namespace && p.owner?.kind === pod.owner?.kind && p.owner?.name === pod.owner?.name).length;
}

function percentOf(part: number, whole: number): number {
  return whole === 0 ? 0 : (part / whole) * 100;
}

function podProblem(spec: ExperimentSpec, share: OwnerTally): string {
  const limit = spec.blastRadius.maxPodPercent;
  const what = `the faults together touch ${share.touched} of the ${plural(share.total, 'pod')} of ${share.owner} in namespace ${share.namespace} (${formatPercent(share.percent)}: ${share.pods.join(', ')})`;
  return limitProblem(spec, {
    limitPath: 'spec.blastRadius.maxPodPercent',
    isDefault: limit === DEFAULT_MAX_POD_PERCENT,
    culprit: share.culprit!,
    overLimit: `${what}, more than the ${limit === DEFAULT_MAX_POD_PERCENT ? 'default ' : ''}blast-radius limit of ${limit}% of a workload's pods`,
    raiseTo: String(Math.ceil(share.percent)),
  });
}

interface LimitProblem {
  readonly limitPath: string;
  readonly isDefault: boolean;
  readonly culprit: PlannedFault;
  readonly overLimit: string;
  readonly raiseTo: string;
}

/**
 * A limit written in the file is reported where it is written; a default one has no place in the
 * file, so the report points at the fault that went over it instead.
 */
function limitProblem(spec: ExperimentSpec, p: LimitProblem): string {
  const fault = p.culprit.spec;
  const faultWhere = spec.locate(fault.path);
  const raise = `${p.isDefault ? 'set' : 'raise'} ${p.limitPath} to ${p.raiseTo} if that is what you mean`;
  if (p.isDefault) {
    const message = `${p.overLimit}; ${fault.name} is the fault that goes over it. To allow it, ${raise}`;
    return formatIssue({ file: spec.file, ...faultWhere, path: fault.path, message });
  }
  const message = `${p.overLimit}; ${fault.name} (${spec.file}:${faultWhere.line}:${faultWhere.column} ${fault.path}) is the fault that goes over it. To allow it, ${raise}`;
  return formatIssue({ file: spec.file, ...spec.locate(p.limitPath), path: p.limitPath, message });
}

function unlimitedPodWarning(fault: PlannedFault, key: string, pod: PodInfo | undefined): string {
  if (pod === undefined) return `${fault.name} touches pod ${key}, which the cluster snapshot does not have, so no pod limit counts it`;
  return `${fault.name} touches pod ${key}, which no workload controls, so spec.blastRadius.maxPodPercent does not limit it`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function formatPercent(percent: number): string {
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)}%`;
}
