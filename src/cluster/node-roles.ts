/**
 * How a node says it runs the control plane: kubeadm's current role label, and the one clusters
 * older than Kubernetes 1.24 still carry. Plans never pick such a node unless asked by name.
 */
export const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'] as const;

export function hasControlPlaneLabel(labels: Readonly<Record<string, string>> | undefined): boolean {
  return CONTROL_PLANE_LABELS.some((l) => l in (labels ?? {}));
}
