/**
 * What `blastRadius(shop/frontend).<field>` counts, seen from one running pod labelled
 * app=frontend in shop: its network position (connections tried from inside it) and its service
 * account (SubjectAccessReviews; no secret is ever read).
 */
export const BLAST_RADIUS_FIELDS = {
  services: 'Services (in any namespace) that the pod can open a TCP connection to, on any of their ports; the API server and cluster DNS, which every pod must reach, are left out',
  namespaces: 'namespaces holding a Service the pod can connect to, its own included',
  secrets: 'namespaces in which its service account may read Secrets (get, list or watch)',
  createPods: 'namespaces in which its service account may create pods',
  exec: 'namespaces in which its service account may exec into pods (create pods/exec)',
} as const;

export type BlastRadiusField = keyof typeof BLAST_RADIUS_FIELDS;

/** The counts of one observation, in a sample's `detail.fields`. */
export type BlastRadiusCounts = Readonly<Record<BlastRadiusField, number>>;
