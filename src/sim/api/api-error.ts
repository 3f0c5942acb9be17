import type { ResourceType } from './resources.js';

export interface StatusCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly StatusCause[];
  readonly retryAfterSeconds?: number;
}

/** A `meta/v1 Status` as the real API server writes it, field order included. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export function statusObject(code: number, fields: { status?: 'Success' | 'Failure'; message?: string; reason?: string; details?: StatusDetails }): Status {
  // Built in the real server's field order, so responses compare byte for byte.
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: fields.status ?? 'Failure',
    ...(fields.message !== undefined ? { message: fields.message } : {}),
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
    ...(fields.details !== undefined ? { details: fields.details } : {}),
    code,
  };
}

function resourceDetails(r: ResourceType, name: string): StatusDetails {
  return r.group ? { name, group: r.group, kind: r.plural } : { name, kind: r.plural };
}

/** An API failure carrying the exact Status body and HTTP code the real server would answer with. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Status {
    const fields: Parameters<typeof statusObject>[1] = { message: this.message };
    if (this.reason !== undefined) fields.reason = this.reason;
    if (this.details !== undefined) fields.details = this.details;
    return statusObject(this.code, fields);
  }

  static notFound(r: ResourceType, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${r.storeKey} "${name}" not found`, resourceDetails(r, name));
  }

  static alreadyExists(r: ResourceType, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${r.storeKey} "${name}" already exists`, resourceDetails(r, name));
  }

  static conflict(r: ResourceType, name: string, why: string): ApiError {
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.storeKey} "${name}": ${why}`, resourceDetails(r, name));
  }

  /** An admission plugin's refusal: `pods "web" is forbidden: exceeded quota: …`. */
  static forbidden(r: ResourceType, name: string, why: string): ApiError {
    return new ApiError(403, 'Forbidden', `${r.storeKey} "${name}" is forbidden: ${why}`, resourceDetails(r, name));
  }

  static invalid(r: ResourceType, name: string, causes: { field: string; message: string; reason?: string }[]): ApiError {
    const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
    // A GroupKind as Go prints it: `CronJob.batch`, `Pod`.
    const message = `${r.group ? `${r.kind}.${r.group}` : r.kind} "${name}" is invalid: ${causes.length > 1 ? `[${summary}]` : summary}`;
    const details: StatusDetails = {
      name,
      ...(r.group ? { group: r.group } : {}),
      kind: r.kind,
      causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })),
    };
    return new ApiError(422, 'Invalid', message, details);
  }

  static badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  }

  static methodNotAllowed(): ApiError {
    return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  }

  static pathNotFound(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }

  static unsupportedPatchType(): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
    );
  }

  static expired(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  }
}

/** The Status for anything thrown while serving: an ApiError as it is, anything else a 500 InternalError. */
export function statusOfError(err: unknown): Status {
  if (err instanceof ApiError) return err.toStatus();
  return new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`, {}).toStatus();
}
