import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ObjectStore, StoredObject } from '../../store.js';
import { ADMIN_USER, serviceAccountGroups, serviceAccountUsername, type UserInfo } from './user-info.js';

/** The issuer and default audience of service account tokens, as kubeadm sets `--service-account-issuer`. */
export const TOKEN_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface IssuedToken {
  readonly token: string;
  readonly expirationTimestamp: string;
}

export interface TokenOptions {
  readonly audiences?: readonly string[];
  readonly expirationSeconds: number;
  /** The pod the token is bound to: the token dies with it. */
  readonly pod?: StoredObject;
}

interface Claims {
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  iss: string;
  jti: string;
  sub: string;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string }; pod?: { name: string; uid: string } };
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * The embedded cluster's credentials: one static admin token (the kubeconfig's), and service
 * account tokens shaped as the real TokenRequest API issues them (a JWT with the `kubernetes.io`
 * claims), signed with a key that lives and dies with the cluster. A token stops working when its
 * service account (or bound pod) is deleted, as bound tokens do upstream.
 */
export class TokenAuthority {
  readonly adminToken = randomBytes(24).toString('hex');
  private readonly key = randomBytes(32);

  constructor(private readonly store: ObjectStore) {}

  issue(serviceAccount: StoredObject, options: TokenOptions): IssuedToken {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + options.expirationSeconds;
    const { namespace = '', name, uid } = serviceAccount.metadata;
    const claims: Claims = {
      aud: [...(options.audiences?.length ? options.audiences : [TOKEN_ISSUER])],
      exp,
      iat: now,
      iss: TOKEN_ISSUER,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace,
        ...(options.pod ? { pod: { name: options.pod.metadata.name, uid: options.pod.metadata.uid } } : {}),
        serviceaccount: { name, uid },
      },
      nbf: now,
      sub: serviceAccountUsername(namespace, name),
    };
    const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', kid: 'gameday-sim' }))}.${base64url(JSON.stringify(claims))}`;
    return { token: `${unsigned}.${this.sign(unsigned)}`, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d+Z$/, 'Z') };
  }

  /** The user a bearer token names; undefined for a token this cluster did not issue or no longer honours. */
  authenticate(token: string): UserInfo | undefined {
    if (safeEqual(token, this.adminToken)) return ADMIN_USER;
    const claims = this.verify(token);
    if (!claims) return undefined;
    const { namespace, serviceaccount, pod } = claims['kubernetes.io'];
    const account = this.store.get('serviceaccounts', namespace, serviceaccount.name);
    if (!account || account.metadata.uid !== serviceaccount.uid || account.metadata.deletionTimestamp) return undefined;
    const extra: Record<string, string[]> = { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] };
    if (pod) {
      const bound = this.store.get('pods', namespace, pod.name);
      // A terminating pod's token works through its grace period, as upstream's validator allows.
      const deleting = bound?.metadata.deletionTimestamp;
      if (!bound || bound.metadata.uid !== pod.uid || (deleting && Date.parse(deleting) < Date.now())) return undefined;
      extra['authentication.kubernetes.io/pod-name'] = [pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [pod.uid];
    }
    return { username: claims.sub, uid: serviceaccount.uid, groups: serviceAccountGroups(namespace), extra };
  }

  private sign(unsigned: string): string {
    return createHmac('sha256', this.key).update(unsigned).digest('base64url');
  }

  private verify(token: string): Claims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    if (!safeEqual(parts[2]!, this.sign(`${parts[0]}.${parts[1]}`))) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
      const now = Date.now() / 1000;
      // A token made for another audience (a vault, a webhook) is not a credential for the API server.
      if (claims.iss !== TOKEN_ISSUER || !claims.aud?.includes(TOKEN_ISSUER) || !(claims.exp > now) || claims.nbf > now + 60 || !claims['kubernetes.io']?.serviceaccount) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
