import { ApiException } from '@kubernetes/client-node';

/** The fields of a metav1.Status error answer that gameday reads. */
export interface ApiStatus {
  readonly reason?: string;
  readonly message?: string;
  readonly details?: { readonly causes?: readonly { readonly reason?: string; readonly message?: string }[] };
}

/** The Status an API error carries: client-node hands it over parsed, or as the response text. */
export function apiStatusOf(err: ApiException<unknown>): ApiStatus {
  const body = err.body;
  if (body && typeof body === 'object') return body as ApiStatus;
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as ApiStatus;
    } catch {
      return { message: body };
    }
  }
  return {};
}

function answered(err: unknown, code: number): err is ApiException<unknown> {
  return err instanceof ApiException && err.code === code;
}

/** 404: the object (or its namespace) does not exist. */
export function isNotFound(err: unknown): boolean {
  return answered(err, 404);
}

/*
 * Kubernetes answers both a lost write race and a taken name with 409; the Status reason tells
 * them apart, and a 409 that gives no reason counts as either.
 */

/** 409 Conflict: the object changed since it was read (a resourceVersion precondition failed). */
export function isConflict(err: unknown): boolean {
  return answered(err, 409) && apiStatusOf(err).reason !== 'AlreadyExists';
}

/** 409 AlreadyExists: a create found the name taken. */
export function isAlreadyExists(err: unknown): boolean {
  return answered(err, 409) && apiStatusOf(err).reason !== 'Conflict';
}

/** 422 Invalid: the request was refused as written; a failed JSON-patch `test` is answered so too. */
export function isInvalid(err: unknown): boolean {
  return answered(err, 422);
}

/** 429: not now. From the Eviction API, a PodDisruptionBudget refusing the disruption for the moment. */
export function isTooManyRequests(err: unknown): boolean {
  return answered(err, 429);
}
