import { z } from 'zod';
import { unlessMissing } from '../../spec/value-schemas.js';

const NAME = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const NAMESPACED = new RegExp(`^${NAME}/${NAME}$`);
const WORKLOAD_KINDS = ['deployment', 'statefulset', 'daemonset', 'replicaset'] as const;
const WORKLOAD = new RegExp(`^(${WORKLOAD_KINDS.join('|')})/${NAME}/${NAME}$`);

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef extends NamespacedName {
  readonly kind: WorkloadKind;
  /** Its API group and resource, as RBAC names them: `apps`, `statefulsets`. */
  readonly group: 'apps';
  readonly resource: string;
  /** The collection's API path, like `/apis/apps/v1/namespaces/shop/statefulsets`. */
  readonly collectionPath: string;
  /** As written: `statefulset/shop/db`. */
  readonly text: string;
}

/*
 * The schemas keep the text as written: the plan hands implicit probes (`pdb(shop/web) holds`)
 * their target unparsed, exactly like the check's argument, so probes parse it themselves.
 */

/** `namespace/name`, the way checks name a budget, a Service or a Lease. */
export const namespacedNameSchema = z
  .string({ error: unlessMissing(() => 'write the object as namespace/name, like shop/web') })
  .regex(NAMESPACED, { error: (iss) => `"${String(iss.input)}" is not namespace/name; write it like shop/web` });

/** `kind/namespace/name` of a workload, like `statefulset/shop/db`. */
export const workloadRefSchema = z
  .string({ error: unlessMissing(() => `write the workload as kind/namespace/name (kind: ${WORKLOAD_KINDS.join(', ')}), like statefulset/shop/db`) })
  .regex(WORKLOAD, { error: (iss) => `"${String(iss.input)}" is not kind/namespace/name with kind one of ${WORKLOAD_KINDS.join(', ')}; write it like statefulset/shop/db` });

export function parseNamespacedName(text: string): NamespacedName {
  if (!NAMESPACED.test(text)) throw new Error(`"${text}" is not namespace/name; write it like shop/web`);
  const [namespace, name] = text.split('/') as [string, string];
  return { namespace, name };
}

export function parseWorkloadRef(text: string): WorkloadRef {
  if (!WORKLOAD.test(text)) throw new Error(`"${text}" is not kind/namespace/name with kind one of ${WORKLOAD_KINDS.join(', ')}; write it like statefulset/shop/db`);
  const [kind, namespace, name] = text.split('/') as [WorkloadKind, string, string];
  return { kind, namespace, name, text, group: 'apps', resource: `${kind}s`, collectionPath: `/apis/apps/v1/namespaces/${namespace}/${kind}s` };
}

/** The API path of a namespace's pods, which the watch-based probes list and watch. */
export function podsPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/pods`;
}
