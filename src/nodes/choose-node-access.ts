import type { KubeConfig } from '@kubernetes/client-node';
import type { Permission } from '../cluster/rbac.js';
import type { ClusterRef } from '../journal/events.js';
import { KindNodeAccess } from './kind-node-access.js';
import type { NodeAccess } from './node-access.js';
import { PodNodeAccess, podNodeAccessPermissions } from './pod-node-access.js';
import { SIM_NODE_ACCESS_PERMISSIONS, SimNodeAccess } from './sim-node-access.js';

export const NODE_ACCESS_CHOICES = ['auto', 'kind', 'pod', 'sim', 'none'] as const;
export type NodeAccessChoice = (typeof NODE_ACCESS_CHOICES)[number];

export interface ChooseNodeAccessOptions {
  /** `auto`: kind for a `kind-<name>` context, sim for the embedded cluster, else none. @default auto */
  readonly choice?: NodeAccessChoice;
  /** Image of the pod provider's helper pods. */
  readonly podImage?: string;
  /** Namespace of the pod provider's helper pods. @default default */
  readonly podNamespace?: string;
}

/** The context `gameday sim serve` writes: the embedded cluster served for other processes. */
const SIM_CONTEXT = 'gameday-sim';

/**
 * Which provider reaches the nodes of a cluster. The pod provider runs privileged pods on real
 * nodes, so it is never chosen on its own: it takes `--node-access pod`.
 */
export function chooseNodeAccess(ref: ClusterRef, kubeConfig: KubeConfig, options: ChooseNodeAccessOptions = {}): NodeAccess | undefined {
  const choice = options.choice ?? 'auto';
  const kindCluster = ref.context?.startsWith('kind-') ? ref.context.slice('kind-'.length) : undefined;
  switch (choice) {
    case 'none':
      return undefined;
    case 'sim':
      return new SimNodeAccess(kubeConfig);
    case 'pod':
      return new PodNodeAccess(kubeConfig, { image: options.podImage, namespace: options.podNamespace });
    case 'kind':
      return new KindNodeAccess({ clusterName: kindCluster ?? ref.name, kubeConfig });
    case 'auto':
      if (ref.kind === 'embedded' || ref.context === SIM_CONTEXT) return new SimNodeAccess(kubeConfig);
      if (kindCluster) return new KindNodeAccess({ clusterName: kindCluster, kubeConfig });
      return undefined;
  }
}

/**
 * What node-level faults need through the API besides their own calls, by provider: kind runs
 * `docker exec` and netns runs commands on this machine, so only pod and sim use the API.
 */
export function nodeAccessPermissions(provider: Exclude<NodeAccessChoice, 'auto'> | 'netns', options: { readonly podNamespace?: string } = {}): readonly Permission[] {
  switch (provider) {
    case 'pod':
      return podNodeAccessPermissions(options.podNamespace);
    case 'sim':
      return SIM_NODE_ACCESS_PERMISSIONS;
    default:
      return [];
  }
}
