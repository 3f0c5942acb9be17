import type { IndexFunction } from './informer.js';

/** The secondary indexes controllers share; names are stable so informers dedupe them. */
export const INDEX = {
  node: 'spec.nodeName',
  controller: 'controller-uid',
  namespace: 'namespace',
  label: 'namespaced-label',
  claim: 'persistent-volume-claim',
} as const;

export const byNode: IndexFunction = (o) => {
  const n = (o.spec as { nodeName?: string } | undefined)?.nodeName;
  return n ? [n] : [];
};

export const byControllerUid: IndexFunction = (o) => {
  const ref = o.metadata.ownerReferences?.find((r) => r.controller);
  return ref ? [ref.uid] : [];
};

export const byNamespace: IndexFunction = (o) => (o.metadata.namespace ? [o.metadata.namespace] : []);

/** `ns/key=value` for each label, so a selector's first requirement narrows the candidates. */
export const byNamespacedLabel: IndexFunction = (o) => {
  const labels = o.metadata.labels;
  if (!labels) return [];
  const ns = o.metadata.namespace ?? '';
  return Object.entries(labels).map(([k, v]) => `${ns}/${k}=${v}`);
};

/** `ns/claim` for each PersistentVolumeClaim a pod's volumes use. */
export const byClaim: IndexFunction = (o) => {
  const volumes = (o.spec as { volumes?: { persistentVolumeClaim?: { claimName?: string } }[] } | undefined)?.volumes ?? [];
  return volumes.flatMap((v) => (v.persistentVolumeClaim?.claimName ? [`${o.metadata.namespace ?? ''}/${v.persistentVolumeClaim.claimName}`] : []));
};
