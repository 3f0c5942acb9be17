/**
 * The upstream control plane gameday runs as child processes for its `real` backend, and the
 * Kubernetes version it builds. The version is pinned so that a cached build, the Go module in
 * control-plane/ and the differential tests all speak about the same Kubernetes.
 */
export const CONTROL_PLANE_VERSION = 'v1.34.4';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type Component = (typeof COMPONENTS)[number];

/** etcd's own tools, for the etcd snapshot drill: etcdctl (snapshot save) and etcdutl (snapshot restore). */
export const ETCD_TOOLS = ['etcdctl', 'etcdutl'] as const;

/** A set of binaries, each an absolute path, and where they were found. */
export interface ControlPlaneBinaries {
  readonly source: string;
  readonly paths: Readonly<Record<Component, string>>;
}

/** etcd's own tools (build.ts builds them, locate.ts finds them). */
export interface EtcdTools {
  readonly etcdctl: string;
  readonly etcdutl: string;
}
