/**
 * The Kubernetes release the embedded cluster is: kind v0.30's node image for 1.34. Its
 * kube-system images, `/version`, its kubelets and their probes all say so, and its API (OpenAPI,
 * fields, messages) is what the differential tests compare with kube-apiserver 1.34.
 */
export const KUBERNETES_VERSION = 'v1.34.0';

/** `34` of v1.34.0. */
export const KUBERNETES_MINOR = KUBERNETES_VERSION.split('.')[1]!;
