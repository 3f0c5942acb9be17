import type { ByteSource, ExecResult, ExecTarget } from './pod-runtime.js';

/** A validated exec or attach: what the client asked for and the container that will run it. */
export interface ExecSession {
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
  readonly target: ExecTarget;
}

/** Where one transport (WebSocket channels, SPDY streams) carries a session's streams. */
export interface SessionStreams {
  readonly stdout: (data: Buffer) => void;
  readonly stderr: (data: Buffer) => void;
  /** The client's stdin; undefined when the session has none. */
  readonly stdin: ByteSource | undefined;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** The kubelet's status for the error channel (v4+), as kubectl and client-node parse it. */
export function execStatus(result: ExecResult, command: readonly string[]): Record<string, unknown> {
  if (result.kind === 'start-failed') {
    const message = `Internal error occurred: error executing command in container: failed to exec in container: OCI runtime exec failed: exec failed: unable to start container process: ${result.message}: unknown`;
    return { metadata: {}, status: 'Failure', message, reason: 'InternalError', details: { causes: [{ message }] }, code: 500 };
  }
  if (result.code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${result.code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(result.code) }] },
  };
}

/** Runs the session's command in its container; a command that could not start is a result, not a throw. */
export async function runSession(session: ExecSession, streams: SessionStreams): Promise<ExecResult> {
  try {
    return await session.target.run(session.command, {
      tty: session.tty,
      stdout: (d) => session.stdout && streams.stdout(d),
      stderr: (d) => session.stderr && streams.stderr(d),
      ...(session.stdin && streams.stdin ? { stdin: streams.stdin } : {}),
      signal: streams.signal,
    });
  } catch (err) {
    return { kind: 'start-failed', message: (err as Error).message };
  }
}

/**
 * What the error channel carries at the end, as the kubelet's writeStatus functions write it:
 * v4 and v5 the Status as JSON, whatever the outcome; older protocols only a failure's message
 * (silence means success). Undefined: nothing to send.
 */
export function errorChannelPayload(result: ExecResult, command: readonly string[], structured: boolean): Buffer | undefined {
  const status = execStatus(result, command);
  if (structured) return Buffer.from(JSON.stringify(status));
  return status.status === 'Success' ? undefined : Buffer.from(String(status.message));
}
