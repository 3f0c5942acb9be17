import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import type { Permission } from '../cluster/rbac.js';
import type { ExecResult } from './node-access.js';

/**
 * What execInPod needs in `namespace`. client-node's exec opens a WebSocket with a GET, which
 * Kubernetes up to 1.34 authorizes as get on pods/exec; from 1.35 it also asks for create
 * (as for SPDY's POST), so both are granted.
 */
export function podExecPermissions(why: string, namespace: string): Permission[] {
  return [{ why, verbs: ['get', 'create'], resource: 'pods/exec', namespace }];
}

export interface PodExecOptions {
  readonly namespace: string;
  readonly pod: string;
  /** @default the pod's only container (the API server picks it) */
  readonly container?: string;
  readonly argv: readonly string[];
  /** @default 60000 */
  readonly timeoutMs?: number;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The exit code in an exec's closing Status: `Success`, or `NonZeroExitCode` with the code as a cause. */
function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
  return code !== undefined && /^\d+$/.test(code) ? Number(code) : 1;
}

/**
 * Runs a command in a pod through the API server's exec subresource (client-node's Exec over a
 * WebSocket), as `kubectl exec` does. Never throws for a non-zero exit; throws when the exec
 * itself cannot be made (no such pod, exec not allowed, the connection broke).
 */
export async function execInPod(kubeConfig: KubeConfig, options: PodExecOptions): Promise<ExecResult> {
  const stdout = collector();
  const stderr = collector();
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<ExecResult>((resolve, reject) => {
    let status: V1Status | undefined;
    const timer = setTimeout(() => {
      reject(new Error(`exec in pod ${options.namespace}/${options.pod} did not finish within ${timeoutMs}ms: ${options.argv.join(' ')}`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      if (!status) reject(new Error(`exec in pod ${options.namespace}/${options.pod} ended without a status: ${stderr.text().trim() || 'the connection closed'}`));
      else resolve({ exitCode: exitCodeOf(status), stdout: stdout.text(), stderr: stderr.text() || (status.status === 'Success' ? '' : (status.message ?? '')) });
    };
    new Exec(kubeConfig)
      .exec(options.namespace, options.pod, options.container ?? '', [...options.argv], stdout.stream, stderr.stream, null, false, (s) => {
        status = s;
      })
      .then((ws) => {
        ws.on('close', done);
        ws.on('error', (err: Error) => {
          clearTimeout(timer);
          reject(err);
        });
      }, (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(`exec in pod ${options.namespace}/${options.pod} could not start: ${handshakeError(err)}`));
      });
  });
}

/**
 * client-node rejects a failed exec handshake with the WebSocket's ErrorEvent, not an Error: its
 * message (`Unexpected server response: 404`) is what says why; String() of it says `[object Object]`.
 */
function handshakeError(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : String(err);
}
