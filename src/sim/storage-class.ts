import type { ObjectStore, StoredObject } from './store.js';

/** What a kind cluster's `standard` StorageClass provisions with. */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

export interface StorageClassFields {
  provisioner?: string;
  reclaimPolicy?: 'Delete' | 'Retain';
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  parameters?: Record<string, string>;
}

/** storageutil.IsDefaultAnnotation: either the GA or the beta annotation set to "true". */
export function isDefaultStorageClass(sc: { metadata?: { annotations?: Record<string, string> } }): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/**
 * The class the DefaultStorageClass admission plugin gives a claim without one: of several
 * defaults, the newest (then the first by name), as the plugin has chosen since Kubernetes 1.26.
 */
export function defaultStorageClass(store: ObjectStore): StoredObject | undefined {
  const defaults = store.list('storageclasses.storage.k8s.io').filter(isDefaultStorageClass);
  defaults.sort((a, b) => b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
  return defaults[0];
}

/** kind's `standard` class: the local-path provisioner, binding delayed until a pod is scheduled. */
export function createStandardStorageClass(store: ObjectStore): void {
  if (store.get('storageclasses.storage.k8s.io', undefined, 'standard')) return;
  store.create('storageclasses.storage.k8s.io', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', uid: '', resourceVersion: '', creationTimestamp: '', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  } as StoredObject);
}
