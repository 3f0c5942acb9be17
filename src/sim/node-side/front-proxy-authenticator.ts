import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../api/api-error.js';
import { AUTHENTICATED, type UserInfo } from '../api/auth/user-info.js';

/** The headers the API server's aggregator sets on a proxied request (transport.SetAuthProxyHeaders). */
export const REMOTE_USER_HEADER = 'x-remote-user';
export const REMOTE_GROUP_HEADER = 'x-remote-group';
export const REMOTE_EXTRA_PREFIX = 'x-remote-extra-';

/** Whom an aggregated API server believes about the caller: `--requestheader-client-ca-file` and `--requestheader-allowed-names`. */
export interface FrontProxyTrust {
  /** The CA that signs the front proxy's client certificate (PEM). */
  readonly clientCaPem: string;
  /** Common names the client certificate may carry; empty: any certificate the CA signed. */
  readonly allowedNames: readonly string[];
}

/**
 * The caller of a request the API server proxied, as k8s.io/apiserver's request-header
 * authenticator finds it: only a connection whose client certificate the front-proxy CA signed
 * (and whose common name is allowed) may assert a user, in X-Remote-User, its groups, one per
 * X-Remote-Group header, and extra attributes in X-Remote-Extra-<key> (the key lower-cased and
 * unescaped). An authenticated user also gets `system:authenticated`, as the group adder gives it.
 * Anything else is 401: this server takes no other credentials.
 *
 * The server must ask for client certificates (`requestCert`) against `clientCaPem`, and leave
 * the decision to this function (`rejectUnauthorized: false`).
 */
export function frontProxyUser(req: IncomingMessage, trust: FrontProxyTrust): UserInfo {
  const socket = req.socket as TLSSocket;
  const unauthorized = new ApiError(401, 'Unauthorized', 'Unauthorized');
  if (!socket.authorized) throw unauthorized;
  const commonName = socket.getPeerCertificate().subject?.CN;
  if (trust.allowedNames.length && !trust.allowedNames.includes(String(commonName))) throw unauthorized;
  const headers = req.headersDistinct;
  const username = headers[REMOTE_USER_HEADER]?.find((v) => v.length > 0);
  if (!username) throw unauthorized;
  const groups = [...(headers[REMOTE_GROUP_HEADER] ?? [])];
  const extra: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(headers)) {
    if (!name.startsWith(REMOTE_EXTRA_PREFIX) || !values) continue;
    const key = decodeURIComponent(name.slice(REMOTE_EXTRA_PREFIX.length)).toLowerCase();
    (extra[key] ??= []).push(...values);
  }
  if (!groups.includes(AUTHENTICATED)) groups.push(AUTHENTICATED);
  return { username, groups, ...(Object.keys(extra).length ? { extra } : {}) };
}
