import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterRef } from '../journal/events.js';
import { KindNodeAccess } from './kind-node-access.js';
import type { NodeAccess } from './node-access.js';
import { PodNodeAccess } from './pod-node-access.js';
import { SimNodeAccess } from './sim-node-access.js';

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
      return new KindNodeAccess({ clusterName: kindCluster ?? ref.name });
    case 'auto':
      if (ref.kind === 'embedded' || ref.context === SIM_CONTEXT) return new SimNodeAccess(kubeConfig);
      if (kindCluster) return new KindNodeAccess({ clusterName: kindCluster });
      return undefined;
  }
}
