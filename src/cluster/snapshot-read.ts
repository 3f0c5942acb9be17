import { CoreV1Api, type KubeConfig, type V1Node, type V1ObjectMeta, type V1Pod } from '@kubernetes/client-node';
import { scopedPermissions, type NamespaceScope } from './namespace-scope.js';
import { hasControlPlaneLabel } from './node-roles.js';
import type { Permission } from './rbac.js';
import type { ClusterSnapshot, NodeInfo, PodInfo } from './snapshot.js';

/** Large clusters answer a full pod list slowly and in one huge body; pages keep both bounded. */
const PAGE_SIZE = 500;

/**
 * What readSnapshot reads: every node, since a selector may name any; and the pods in the
 * experiment's namespaces, or in every namespace when a fault acts on nodes (see NamespaceScope).
 */
export function snapshotPermissions(scope: NamespaceScope): Permission[] {
  return [
    { why: 'plan: list the nodes to choose targets from', verbs: ['list'], resource: 'nodes' },
    ...scopedPermissions(scope, "plan: list the pods to choose targets from and to count each workload's share", ['list'], 'pods'),
  ];
}

/**
 * Reads the nodes, and the pods within `scope` (without one, in every namespace), that the plan
 * chooses from. The one clock reading of planning is here.
 */
export async function readSnapshot(kubeConfig: KubeConfig, scope?: NamespaceScope): Promise<ClusterSnapshot> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const takenAt = Date.now();
  const podLists = scope?.every !== false
    ? [listAll((_continue) => api.listPodForAllNamespaces({ limit: PAGE_SIZE, _continue }))]
    : scope.namespaces.map((namespace) => listAll((_continue) => api.listNamespacedPod({ namespace, limit: PAGE_SIZE, _continue })));
  const [nodes, pods] = await Promise.all([listAll((_continue) => api.listNode({ limit: PAGE_SIZE, _continue })), Promise.all(podLists).then((lists) => lists.flat())]);
  return { takenAt, nodes: nodes.map(toNodeInfo), pods: pods.map(toPodInfo) };
}

async function listAll<T>(page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const list = await page(cont);
    items.push(...list.items);
    cont = list.metadata?._continue || undefined;
  } while (cont);
  return items;
}

function toNodeInfo(node: V1Node): NodeInfo {
  const labels = node.metadata?.labels ?? {};
  return {
    name: node.metadata?.name ?? '',
    labels,
    unschedulable: node.spec?.unschedulable ?? false,
    ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    controlPlane: hasControlPlaneLabel(labels),
  };
}

function toPodInfo(pod: V1Pod): PodInfo {
  const owner = controller(pod.metadata);
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    labels: pod.metadata?.labels ?? {},
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    phase: pod.status?.phase ?? 'Unknown',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    ...(owner ? { owner } : {}),
  };
}

function controller(meta: V1ObjectMeta | undefined): { kind: string; name: string } | undefined {
  const ref = meta?.ownerReferences?.find((r) => r.controller === true);
  return ref ? { kind: ref.kind, name: ref.name } : undefined;
}
