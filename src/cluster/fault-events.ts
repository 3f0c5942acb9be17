import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CoreV1Api, type KubeConfig, type V1ObjectReference } from '@kubernetes/client-node';
import { isNotFound } from './api-errors.js';
import type { Permission } from './rbac.js';

/** The reasons of the Events that show a game day to people watching the cluster (`kubectl get events`). */
export const FAULT_EVENT_REASONS = { injected: 'GamedayFaultInjected', reverted: 'GamedayFaultReverted' } as const;

/** An object a fault acts on, as an Event names it. */
export interface FaultEventTarget {
  readonly kind: 'Node' | 'Pod';
  readonly name: string;
  /** Pods only. */
  readonly namespace?: string;
}

/** A fault over many pods writes this many Events a step, not one for each pod. */
export const MAX_FAULT_EVENT_TARGETS = 10;

/**
 * The objects the Events of a fault go on: its nodes when it acts on nodes (a drain touches
 * their pods too, but the node is what was drained), else its pods (`namespace/name`).
 */
export function faultEventTargets(touches: { readonly nodes: readonly string[]; readonly pods: readonly string[] }): FaultEventTarget[] {
  const targets: FaultEventTarget[] =
    touches.nodes.length > 0
      ? touches.nodes.map((name) => ({ kind: 'Node', name }))
      : touches.pods.map((ref) => {
          const slash = ref.indexOf('/');
          return { kind: 'Pod', namespace: ref.slice(0, slash), name: ref.slice(slash + 1) };
        });
  return targets.slice(0, MAX_FAULT_EVENT_TARGETS);
}

/** Where Events about a fault on nodes (no namespace of their own) are written, as the kubelet writes its own. */
const NODE_EVENT_NAMESPACE = 'default';

/** What recordFaultEvent needs for a fault on nodes, or on pods of `podNamespace`. */
export function faultEventPermissions(podNamespace?: string): Permission[] {
  const namespace = podNamespace ?? NODE_EVENT_NAMESPACE;
  return [
    { why: 'fault Events: record each inject and revert as an Event on its target', verbs: ['create'], resource: 'events', namespace },
    ...(podNamespace !== undefined ? [{ why: 'fault Events: read the target pod\'s uid, so kubectl describe shows the Event', verbs: ['get' as const], resource: 'pods', namespace }] : []),
  ];
}

/**
 * Writes one Normal Event on `target`, as client-go's recorder would, so that `kubectl describe`
 * of the node or pod shows it: kubectl finds an object's Events by its uid, which for a node is
 * its name (the kubelet's convention), and for a pod is read here (an Event on a pod already gone names none).
 */
export async function recordFaultEvent(kubeConfig: KubeConfig, target: FaultEventTarget, reason: string, message: string): Promise<void> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const uid = target.kind === 'Node' ? target.name : await podUid(api, target.namespace!, target.name);
  const involvedObject: V1ObjectReference = {
    apiVersion: 'v1',
    kind: target.kind,
    name: target.name,
    ...(target.namespace ? { namespace: target.namespace } : {}),
    ...(uid ? { uid } : {}),
  };
  // Events about a cluster-scoped object (a node) live in `default`, as the kubelet's do.
  await recordEvent(kubeConfig, target.namespace ?? NODE_EVENT_NAMESPACE, involvedObject, { type: 'Normal', reason, message });
}

/** Writes one Event about `involvedObject` in `namespace`, from component `gameday`, as client-go's recorder would. */
export async function recordEvent(
  kubeConfig: KubeConfig,
  namespace: string,
  involvedObject: V1ObjectReference,
  event: { readonly type: 'Normal' | 'Warning'; readonly reason: string; readonly message: string },
): Promise<void> {
  const now = new Date();
  const host = hostname();
  await kubeConfig.makeApiClient(CoreV1Api).createNamespacedEvent({
    namespace,
    body: {
      metadata: { name: `${involvedObject.name}.${randomBytes(8).toString('hex')}` },
      involvedObject,
      ...event,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: 'gameday', host },
      reportingComponent: 'gameday',
      reportingInstance: host,
    },
  });
}

async function podUid(api: CoreV1Api, namespace: string, name: string): Promise<string | undefined> {
  try {
    return (await api.readNamespacedPod({ namespace, name })).metadata?.uid;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
