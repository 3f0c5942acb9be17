import type { LooseJson } from './loose-json.js';
import type { ObjectStore, StoredObject } from '../store.js';
import { ApiError } from './api-error.js';
import type { ResourceType } from './resources.js';

/**
 * PriorityClasses as the Priority admission plugin uses them: a new pod's `priorityClassName`
 * (or the cluster's global default class) resolves to `spec.priority` and `preemptionPolicy`;
 * an unknown class is refused. The two system classes exist from the start, as on every cluster.
 */
type Json = LooseJson;

const STORE_KEY = 'priorityclasses.scheduling.k8s.io';
/** The highest value a class that is not a system class may have. */
const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;

export const SYSTEM_PRIORITY_CLASSES = [
  { name: 'system-node-critical', value: 2_000_001_000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2_000_000_000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
].map(({ name, value, description }) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, description, globalDefault: false, preemptionPolicy: 'PreemptLowerPriority' }));

export function admitPriorityClass(r: ResourceType, pc: Json): void {
  pc.preemptionPolicy ??= 'PreemptLowerPriority';
  const causes: { field: string; message: string; reason: string }[] = [];
  const name = String(pc.metadata?.name ?? '');
  const system = SYSTEM_PRIORITY_CLASSES.find((c) => c.metadata.name === name);
  if (typeof pc.value !== 'number') causes.push({ field: 'value', message: 'Required value', reason: 'FieldValueRequired' });
  else if (system ? pc.value !== system.value : pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    causes.push({ field: 'value', message: `Invalid value: ${pc.value}: maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`, reason: 'FieldValueInvalid' });
  }
  if (!system && name.startsWith('system-')) causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": priority class names with 'system-' prefix are reserved`, reason: 'FieldValueInvalid' });
  if (causes.length) throw ApiError.invalid(r, name, causes);
}

export function admitPodPriority(store: ObjectStore, r: ResourceType, pod: Json): void {
  const spec = pod.spec as Json;
  let pc: Json | undefined;
  if (spec.priorityClassName) {
    pc = store.get(STORE_KEY, undefined, String(spec.priorityClassName)) as Json | undefined;
    if (!pc) throw ApiError.forbidden(r, String(pod.metadata.name), `no PriorityClass with name ${String(spec.priorityClassName)} was found`);
  } else {
    pc = (store.list(STORE_KEY) as Json[]).filter((c) => c.globalDefault).sort((a, b) => a.value - b.value)[0];
    if (pc) spec.priorityClassName = pc.metadata.name;
  }
  const priority = pc ? (pc.value as number) : 0;
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
    throw ApiError.forbidden(r, String(pod.metadata.name), `the integer value of priority (${String(spec.priority)}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`);
  }
  spec.priority = priority;
  spec.preemptionPolicy ??= pc?.preemptionPolicy ?? 'PreemptLowerPriority';
}

/** Writes the system classes a fresh cluster has. */
export function ensureSystemPriorityClasses(store: ObjectStore): void {
  for (const pc of SYSTEM_PRIORITY_CLASSES) if (!store.get(STORE_KEY, undefined, pc.metadata.name)) store.create(STORE_KEY, structuredClone(pc) as unknown as StoredObject);
}
