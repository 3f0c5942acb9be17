import { accessSync, constants, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { RetryingKubeConfig } from './retrying-http.js';

/** The context name of the pod's own service account, to allow like any other: `--allow-context in-cluster`. */
export const IN_CLUSTER_CONTEXT = 'in-cluster';

/** Where Kubernetes mounts a pod's service-account token, CA and namespace. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * `$GAMEDAY_IN_CLUSTER_ROOT` stands in for `/` when the service-account files are read: tests
 * use it, and so can a pod that mounts its token elsewhere.
 */
function rootPrefix(): string {
  return process.env.GAMEDAY_IN_CLUSTER_ROOT ?? '';
}

function serviceAccountFile(name: 'token' | 'ca.crt' | 'namespace'): string {
  return `${rootPrefix()}${SERVICE_ACCOUNT_DIR}/${name}`;
}

/** Whether gameday runs in a pod with a service account: `KUBERNETES_SERVICE_HOST` is set and the token is readable. */
export function inClusterAvailable(): boolean {
  if (!process.env.KUBERNETES_SERVICE_HOST) return false;
  try {
    accessSync(serviceAccountFile('token'), constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why the in-cluster config cannot be used, or undefined when it can. */
export function inClusterUnavailableReason(): string | undefined {
  if (!process.env.KUBERNETES_SERVICE_HOST) return 'KUBERNETES_SERVICE_HOST is not set (gameday is not running in a pod)';
  if (!inClusterAvailable()) return `the service-account token ${serviceAccountFile('token')} cannot be read`;
  return undefined;
}

/** The pod's service account as a kubeconfig (client-node's loadFromCluster), its context named `in-cluster`. */
export function loadInClusterConfig(): KubeConfig {
  const loaded = new KubeConfig();
  loaded.loadFromCluster(rootPrefix());
  const kubeConfig = new RetryingKubeConfig();
  kubeConfig.loadFromOptions({
    // loadFromCluster speaks plain HTTP to ports 80, 8080 and 8001 (a `kubectl proxy` beside
    // gameday in the pod), where there is no TLS to verify; client-node refuses HTTP unless told so.
    clusters: loaded.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c)),
    users: loaded.users,
    contexts: loaded.contexts.map((c) => ({ ...c, name: IN_CLUSTER_CONTEXT })),
    currentContext: IN_CLUSTER_CONTEXT,
  });
  return kubeConfig;
}

/** The pod's namespace, from its service-account mount; undefined outside a pod. */
export function inClusterNamespace(): string | undefined {
  try {
    return readFileSync(serviceAccountFile('namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
