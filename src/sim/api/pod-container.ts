import type { StoredObject } from '../store.js';
import { ApiError } from './api-error.js';
import { findResource } from './resources.js';

const PODS = findResource('', 'v1', 'pods')!;

/** The pod named on a pods/exec or pods/log URL, or the real server's 404. */
export function podOrNotFound(lookup: (namespace: string, name: string) => StoredObject | undefined, namespace: string, name: string): StoredObject {
  const pod = lookup(namespace, name);
  if (!pod) throw ApiError.notFound(PODS, name);
  return pod;
}

/**
 * The container a pods/exec or pods/log request means: the one named, or the pod's only
 * container; otherwise the API server's 400, word for word, so kubectl's hints still apply.
 */
export function resolveContainer(pod: StoredObject, requested: string | null): string {
  const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[]; ephemeralContainers?: { name: string }[] };
  const containers = (spec.containers ?? []).map((c) => c.name);
  const init = (spec.initContainers ?? []).map((c) => c.name);
  const ephemeral = (spec.ephemeralContainers ?? []).map((c) => c.name);
  const podName = pod.metadata.name;
  if (!requested) {
    if (containers.length === 1) return containers[0]!;
    let message = `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`;
    if (init.length) message += ` or one of the init containers: [${init.join(' ')}]`;
    throw ApiError.badRequest(message);
  }
  if (![...containers, ...init, ...ephemeral].includes(requested)) throw ApiError.badRequest(`container ${requested} is not valid for pod ${podName}`);
  return requested;
}
