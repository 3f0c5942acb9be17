import type { StoredObject } from '../store.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath?: string } };
}

/**
 * `$(NAME)` references as the kubelet expands them in env values, command and args: a defined
 * variable is substituted, `$$` is a literal `$`, anything else stays as written.
 */
export function expandReferences(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => (name === undefined ? '$' : (env.get(name) ?? m)));
}

/**
 * A container process's environment: the defaults every container gets, then its env in order
 * (values with `$(NAME)` references, and the common field references). The pod IP is taken from
 * `podIP` when given, since the kubelet knows it before the status says it.
 */
export function containerEnvironment(pod: StoredObject, vars: readonly EnvVar[] | undefined, podIP?: string): Map<string, string> {
  const spec = pod.spec as { hostname?: string; nodeName?: string; serviceAccountName?: string };
  const status = (pod.status ?? {}) as { podIP?: string; hostIP?: string };
  const fields: Record<string, string | undefined> = {
    'metadata.name': pod.metadata.name,
    'metadata.namespace': pod.metadata.namespace,
    'metadata.uid': pod.metadata.uid,
    'spec.nodeName': spec.nodeName,
    'spec.serviceAccountName': spec.serviceAccountName ?? 'default',
    'status.podIP': podIP ?? status.podIP,
    'status.hostIP': status.hostIP,
  };
  const env = new Map<string, string>([
    ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    ['HOSTNAME', spec.hostname ?? pod.metadata.name],
    ['HOME', '/root'],
    ['KUBERNETES_SERVICE_HOST', '10.96.0.1'],
    ['KUBERNETES_SERVICE_PORT', '443'],
    ['KUBERNETES_PORT', 'tcp://10.96.0.1:443'],
  ]);
  for (const e of vars ?? []) {
    const value = e.value !== undefined ? expandReferences(e.value, env) : e.valueFrom?.fieldRef?.fieldPath ? fields[e.valueFrom.fieldRef.fieldPath] : undefined;
    if (value !== undefined) env.set(e.name, value);
  }
  return env;
}
