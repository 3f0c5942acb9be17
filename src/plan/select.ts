import { selectorMatches } from '../cluster/label-selector.js';
import type { ClusterSnapshot, NodeInfo, PodInfo } from '../cluster/snapshot.js';
import { PlanError } from '../core/errors.js';
import { Percent } from '../core/quantity.js';
import type { SeededRandom } from '../core/rng.js';

/**
 * How every fault chooses its targets, so that `nodes: { labels: … }` and `count: 30%` mean the
 * same thing in each fault kind and the same seed picks the same targets (docs/architecture.md, principle 6).
 * Candidates come back sorted by name: the API server's list order must not change the choice.
 */
export interface NodeSelector {
  readonly names?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface SelectNodesOptions {
  /** Control-plane nodes are never chosen unless a fault asks for them. @default true */
  readonly excludeControlPlane?: boolean;
}

export interface PodSelector {
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly names?: readonly string[];
}

export interface SelectPodsOptions {
  /** Pods that are not Running (Pending, Succeeded…) are left out unless asked for. @default false */
  readonly includeNotRunning?: boolean;
}

/** The nodes a selector matches; throws PlanError when none does, listing what the cluster has. */
export function selectNodes(snapshot: ClusterSnapshot, selector: NodeSelector, options: SelectNodesOptions = {}): NodeInfo[] {
  const excludeControlPlane = options.excludeControlPlane ?? true;
  const matching = snapshot.nodes.filter((n) => matchesNames(n.name, selector.names) && matchesLabels(n.labels, selector.labels));
  const eligible = byName(matching.filter((n) => !(excludeControlPlane && n.controlPlane)));
  if (eligible.length > 0) return eligible;
  if (matching.length > 0) {
    const names = matching.map((n) => n.name).join(', ');
    throw new PlanError(`only control-plane nodes match ${describeSelector(selector)} (${names}), and faults leave the control plane alone`);
  }
  const known = byName(snapshot.nodes.slice()).map((n) => describeNode(n, selector)).join(', ') || 'none';
  throw new PlanError(`no node matches ${describeSelector(selector)}; the cluster has: ${known}`);
}

/** The pods a selector matches; throws PlanError when none does, listing the namespace's pods. */
export function selectPods(snapshot: ClusterSnapshot, selector: PodSelector, options: SelectPodsOptions = {}): PodInfo[] {
  const inNamespace = snapshot.pods.filter((p) => p.namespace === selector.namespace);
  const matching = inNamespace.filter((p) => matchesNames(p.name, selector.names) && matchesLabels(p.labels, selector.labels));
  const eligible = byName(matching.filter((p) => options.includeNotRunning || p.phase === 'Running'));
  if (eligible.length > 0) return eligible;
  const what = `no ${options.includeNotRunning ? '' : 'running '}pod in namespace ${selector.namespace} matches ${describeSelector(selector)}`;
  if (inNamespace.length === 0) throw new PlanError(`${what}; the namespace has no pods`);
  const known = byName(inNamespace.slice()).map((p) => `${p.name} (${p.phase}${relevantLabels(p.labels, selector)})`).join(', ');
  throw new PlanError(`${what}; its pods: ${known}`);
}

/**
 * `count` of `items`, chosen with the seeded generator. A percentage rounds up, so `10%` of three
 * pods is one pod rather than none: a fault that selects something always acts on something.
 */
export function chooseCount<T>(rng: SeededRandom, items: readonly T[], count: number | Percent): T[] {
  if (count instanceof Percent) {
    const n = items.length === 0 || count.value === 0 ? 0 : Math.max(1, Math.ceil(items.length * count.fraction));
    return rng.pick(items, n);
  }
  if (!Number.isInteger(count) || count < 0) throw new PlanError(`count must be a whole number of targets, not ${count}`);
  if (count > items.length) {
    throw new PlanError(`count ${count} is more than the ${items.length} target${items.length === 1 ? '' : 's'} that match`);
  }
  return rng.pick(items, count);
}

function matchesNames(name: string, names: readonly string[] | undefined): boolean {
  return names === undefined || names.includes(name);
}

/** An experiment's `labels:` is a matchLabels: every one must be there, and none given matches all. */
function matchesLabels(labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>> | undefined): boolean {
  return selectorMatches({ matchLabels: { ...wanted } }, labels);
}

function byName<T extends { readonly name: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function describeSelector(selector: NodeSelector): string {
  const parts: string[] = [];
  if (selector.names) parts.push(`names ${selector.names.join(', ')}`);
  if (selector.labels && Object.keys(selector.labels).length > 0) parts.push(`labels ${formatLabels(selector.labels)}`);
  return parts.length > 0 ? parts.join(' and ') : 'the selector';
}

function describeNode(node: NodeInfo, selector: NodeSelector): string {
  const notes = `${node.controlPlane ? 'control plane' : ''}${relevantLabels(node.labels, selector)}`.replace(/^, /, '');
  return notes ? `${node.name} (${notes})` : node.name;
}

/** Only the labels the selector asks about: real nodes carry dozens that would bury the answer. */
function relevantLabels(labels: Readonly<Record<string, string>>, selector: NodeSelector): string {
  const keys = Object.keys(selector.labels ?? {});
  const shown = keys.filter((k) => k in labels).map((k) => `${k}=${labels[k]}`);
  return shown.length > 0 ? `, ${shown.join(', ')}` : '';
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ')}}`;
}
