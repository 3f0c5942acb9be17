import type { DataPlane } from '../dataplane/data-plane.js';
import { KUBERNETES_MINOR } from '../kubernetes-version.js';

export interface ProbeSpec {
  httpGet?: { path?: string; port: number | string; scheme?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number | string };
  exec?: { command?: string[] };
  grpc?: { port: number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** The kubelet's wording of a failure, as it appears in Unhealthy events. */
  readonly output: string;
}

/** Runs an exec probe's command in the container, within the probe's timeout. */
export type ProbeExec = (command: readonly string[], timeoutMs: number) => Promise<ProbeResult>;

/**
 * One probe attempt, made for real against the pod's virtual server from its own node (so
 * NetworkPolicy does not apply, as with real kubelets), or in the container for an exec probe.
 * grpc probes succeed.
 */
export async function probeOnce(dataPlane: DataPlane, node: string, ip: string, probe: ProbeSpec, resolvePort: (p: number | string) => number | undefined, exec?: ProbeExec): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port);
    const path = probe.httpGet.path ?? '/';
    const url = `http://${ip}:${port ?? probe.httpGet.port}${path}`;
    if (port === undefined) return { ok: false, output: `Get "${url}": invalid port` };
    const headers: Record<string, string> = { 'user-agent': `kube-probe/1.${KUBERNETES_MINOR}`, accept: '*/*' };
    for (const h of probe.httpGet.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
    const aborter = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<ProbeResult>((resolve) => {
      timer = setTimeout(() => {
        aborter.abort();
        resolve({ ok: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
      }, timeoutMs);
      timer.unref();
    });
    const attempt = dataPlane
      .send({ kind: 'host', node }, ip, port, { method: 'GET', path, headers, body: Buffer.alloc(0) }, aborter.signal)
      .then(
        (r): ProbeResult => (r.status >= 200 && r.status < 400 ? { ok: true, output: '' } : { ok: false, output: `HTTP probe failed with statuscode: ${r.status}` }),
        (err: Error): ProbeResult => ({ ok: false, output: `Get "${url}": ${err.message}` }),
      );
    try {
      return await Promise.race([attempt, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  if (probe.exec && exec) return exec(probe.exec.command ?? [], timeoutMs);
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port);
    if (port !== undefined && dataPlane.listening(ip, port)) return { ok: true, output: '' };
    return { ok: false, output: `dial tcp ${ip}:${port ?? probe.tcpSocket.port}: connect: connection refused` };
  }
  return { ok: true, output: '' };
}
