/**
 * What `blastRadius(shop/frontend).<field>` counts, seen from one running pod labelled
 * app=frontend in shop: its network position (connections tried from inside it) and its service
 * account (SubjectAccessReviews; no secret is ever read).
 */
export const BLAST_RADIUS_FIELDS = {
  services: 'Services (in any namespace) that the pod can open a TCP connection to, on any of their ports; the API server and cluster DNS, which every pod must reach, are left out',
  namespaces: 'namespaces holding a Service the pod can connect to (its own too, when it reaches a Service there)',
  secrets: 'namespaces in which its service account may read Secrets (get, list or watch)',
  createPods: 'namespaces in which its service account may create pods',
  exec: 'namespaces in which its service account may exec into pods (create pods/exec)',
} as const;

export type BlastRadiusField = keyof typeof BLAST_RADIUS_FIELDS;

/** The counts of one observation, in a sample's `detail.fields`. */
export type BlastRadiusCounts = Readonly<Record<BlastRadiusField, number>>;

/** What the account is asked about in each namespace: the attacker's next steps. */
export type BlastRadiusAction = 'readSecrets' | 'createPods' | 'exec';

/** One map of the compromised-pod drill, as a blastRadius sample's `detail` carries it. */
export interface BlastRadiusMap {
  /** `shop/frontend-7d9f-x2x`: the pod gameday stood in for. */
  readonly pod: string;
  /** `shop/frontend`. */
  readonly serviceAccount: string;
  readonly fields: BlastRadiusCounts;
  /** Every Service port a connection from inside the pod reached: `{ service: 'payments/api', path: 'payments/api:80' }`. */
  readonly reached: readonly { readonly service: string; readonly path: string }[];
  /**
   * Per namespace, what the account may do there, with the verb that allows it, and every API
   * verb it is allowed there as the authorizer lists it (`get,list pods`), system discovery aside.
   */
  readonly access: readonly { readonly namespace: string; readonly allowed: Partial<Record<BlastRadiusAction, string>>; readonly rules?: readonly string[] }[];
  readonly message: string;
}
