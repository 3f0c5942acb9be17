import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { FaultSpec } from '../spec/model.js';

/**
 * Why the cluster's node access cannot do this fault, or undefined. Only the pod provider has
 * such limits: it reaches a node through a helper pod on it, over the API server and that node's
 * kubelet. So it cannot stop the node (its pod would die with it, and nothing could start it
 * again), and it cannot cut the node off from a control-plane node (the API server reaches the
 * kubelet from there: exec into the helper pod would be cut too, and the partition could be
 * neither verified nor lifted, leaving the node cut off for good). Refusing in the plan means
 * `gameday plan` says so, and a run stops before anything is applied.
 */
export function nodeAccessRefusal(fault: FaultSpec, provider: string | undefined, snapshot: ClusterSnapshot): string | undefined {
  if (provider !== 'pod') return undefined;
  const fix = 'run it where nodes are reached without the API server: a kind cluster (its kind-<name> context) or the embedded cluster';
  if (fault.kind === 'nodeStop') {
    return `${fault.name}: the pod node access cannot stop nodes (its helper pod would stop with the node, and nothing could start it again); ${fix}`;
  }
  const partition = fault.kind === 'networkPartition' ? (fault.params as { readonly nodes?: unknown; readonly from?: string }) : undefined;
  if (partition?.nodes === undefined) return undefined;
  const from = partition.from ?? 'rest-of-cluster';
  const controlPlane = snapshot.nodes.filter((n) => n.controlPlane).map((n) => n.name);
  if (from === 'other-nodes' || controlPlane.length === 0) return undefined;
  return (
    `${fault.name}: the pod node access cannot cut nodes off from the control plane (from: ${from} includes ${controlPlane.join(', ')}): ` +
    `it reaches a node through the API server, so the partition would cut gameday off too, and could not be verified or lifted; use from: other-nodes, or ${fix}`
  );
}
