import { ApiException, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { apiStatusOf } from './api-errors.js';
import type { Permission } from './rbac.js';
import { objectPlace } from './workloads.js';

/** What the API server said to a dry-run create. */
export type DryRunAnswer =
  | { readonly admitted: true; /** `Pod restricted/compliant`. */ readonly object: string }
  | {
      readonly admitted: false;
      readonly object: string;
      /** 400, 403 or 422: the server judged the object and refused it. */
      readonly code: number;
      readonly reason?: string;
      /** The server's own words: `pods "privileged" is forbidden: violates PodSecurity "restricted:latest": …`. */
      readonly message: string;
    };

/**
 * The server could not judge the object: its namespace is missing, an object of that name exists
 * already, or gameday may not create such objects at all. None of these says anything about
 * admission, so none may pass a `denies()` check.
 */
export class DryRunUnanswered extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'DryRunUnanswered';
  }
}

/**
 * Refusals that judge nothing about the object: the authorizer refused gameday itself
 * (`User "…" cannot create resource "pods"…`), or the namespace is too new to have its default
 * service account (upstream's ServiceAccount admission: `error looking up service account …`).
 */
const NOT_A_JUDGEMENT = /cannot create resource|error looking up service account/;

/**
 * Asks the API server to create `object` with `?dryRun=All`: every admission step runs (Pod
 * Security, quota, webhooks, validation) and nothing is stored, on any cluster. A 400, 403 or 422
 * is a refusal and keeps the server's message; any other error is thrown (a DryRunUnanswered when
 * the server answered, so the caller can say why).
 */
export async function dryRunCreate(kubeConfig: KubeConfig, object: KubernetesObject): Promise<DryRunAnswer> {
  const client = KubernetesObjectApi.makeApiClient(kubeConfig);
  const shown = describeObject(object);
  try {
    await client.create(structuredClone(object), undefined, 'All');
    return { admitted: true, object: shown };
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const status = apiStatusOf(err);
    const message = status.message ?? `HTTP ${err.code}`;
    if ((err.code === 400 || err.code === 403 || err.code === 422) && !NOT_A_JUDGEMENT.test(message)) {
      return { admitted: false, object: shown, code: err.code, ...(status.reason ? { reason: status.reason } : {}), message };
    }
    throw new DryRunUnanswered(message, err.code);
  }
}

/** `Pod restricted/compliant`, or `Namespace audit` for an object without a namespace. */
export function describeObject(o: KubernetesObject): string {
  const name = o.metadata?.name ?? `${o.metadata?.generateName ?? ''}*`;
  return `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${name}`;
}

/** A dry-run create needs the create permission, as a real create would. */
export function dryRunCreatePermission(why: string, object: KubernetesObject): Permission {
  return { why, verbs: ['create'], ...objectPlace(object) };
}
