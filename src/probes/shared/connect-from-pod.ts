import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { execInPod } from '../../nodes/pod-exec.js';

/** One source pod's answer for one destination. */
export interface PathAnswer {
  readonly from: string;
  readonly reachable: boolean;
  /** Why the connection failed, as nc said it; or why it could not be tried. */
  readonly said?: string;
}

/**
 * Whether `pod` connects to host:port, tried from inside it as a person with a shell there would
 * (`nc -z` through pods/exec), so NetworkPolicy and the CNI decide; undefined when nc could not be
 * run there at all.
 */
export async function tryPath(kubeConfig: KubeConfig, pod: V1Pod, host: string, port: number, waitS: number): Promise<PathAnswer | undefined> {
  const from = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
  try {
    const r = await execInPod(kubeConfig, { namespace: pod.metadata!.namespace!, pod: pod.metadata!.name!, argv: ['nc', '-z', '-v', '-w', String(waitS), host, String(port)], timeoutMs: (waitS + 10) * 1000 });
    const said = r.stderr.trim().split('\n').at(-1);
    return r.exitCode === 0 ? { from, reachable: true } : { from, reachable: false, ...(said ? { said } : {}) };
  } catch {
    return undefined;
  }
}
