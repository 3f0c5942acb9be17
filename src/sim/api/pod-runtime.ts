import type { StoredObject } from '../store.js';

/** The streams of one exec, and its cancellation (the client went away). */
export interface ExecStreams {
  readonly tty: boolean;
  readonly stdout: (data: Buffer) => void;
  readonly stderr: (data: Buffer) => void;
  /** The client's stdin as it arrives; absent when the exec has no stdin. */
  readonly stdin?: ByteSource;
  readonly signal: AbortSignal;
}

/** Input that arrives in chunks. */
export interface ByteSource {
  /** The next chunk, or undefined once the input has ended. */
  read(): Promise<Buffer | undefined>;
}

/** A container ready to run an exec'd command. */
export interface ExecTarget {
  run(command: readonly string[], streams: ExecStreams): Promise<ExecResult>;
}

export type ExecResult =
  | { readonly kind: 'exited'; readonly code: number }
  /** The runtime could not start the command (no such executable). */
  | { readonly kind: 'start-failed'; readonly message: string };

export interface LogEntry {
  readonly time: Date;
  readonly text: string;
}

/** A container's log as the kubelet serves it: what is there now, and what comes next. */
export interface LogSource {
  readonly lines: readonly LogEntry[];
  /** New lines until the container stops (then undefined); returns the unsubscribe. */
  follow(onLine: (line: LogEntry | undefined) => void): () => void;
}

/**
 * The kubelet's side of pods/exec, pods/attach and pods/log, which the API server reaches through the pod's
 * node. Both throw an ApiError when the container cannot serve the request (not running, no
 * previous instance, kubelet unreachable), with the message the real kubelet gives, before any
 * stream is opened.
 */
export interface PodRuntime {
  exec(pod: StoredObject, container: string): ExecTarget;
  /**
   * The container's first process, to attach to: its output from now on, and its stdin when the
   * container keeps one open (`stdin: true`). The command it is run with is ignored.
   */
  attach(pod: StoredObject, container: string): ExecTarget;
  logs(pod: StoredObject, container: string, previous: boolean): LogSource;
}
