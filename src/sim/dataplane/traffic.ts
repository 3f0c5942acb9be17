/**
 * The in-process data plane's wire format. Pods are not real sockets (the 25,000-pod target is
 * past this machine's file descriptor limit): a request is a value handed to a pod's virtual
 * server, and a failure is a ConnectionError with the errno a real client would see.
 */
export interface VirtualRequest {
  readonly method: string;
  /** Path with query string, starting with `/`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface VirtualResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

export type ConnectionErrorCode = 'ECONNREFUSED' | 'ECONNRESET' | 'ETIMEDOUT' | 'EHOSTUNREACH';

export class ConnectionError extends Error {
  constructor(
    readonly code: ConnectionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** Who opens a connection: a pod (subject to egress policy) or a node's host network namespace. */
export type TrafficSource = { readonly kind: 'pod'; readonly ip: string } | { readonly kind: 'host'; readonly node: string };

export function textResponse(status: number, body: string, headers: Record<string, string> = {}): VirtualResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body };
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): VirtualResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) + '\n' };
}
