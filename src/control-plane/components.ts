/**
 * The upstream control plane gameday runs as child processes for its `real` backend, and the
 * Kubernetes version it builds. The version is pinned so that a cached build, the Go module in
 * control-plane/ and the differential tests all speak about the same Kubernetes.
 */
export const CONTROL_PLANE_VERSION = 'v1.34.4';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];

/** A set of binaries, each an absolute path, and where they were found. */
export interface ControlPlaneBinaries {
  readonly source: string;
  readonly paths: Readonly<Record<Component, string>>;
}
