import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { DeleteParams } from '../spec/step-schema.js';

/** The object a delete step names, with the calls that delete and read it. */
export interface DeletableObject {
  /** `Deployment shop/web`, `Namespace shop`. */
  readonly what: string;
  del(): Promise<unknown>;
  /** Rejects with the API's 404 once the object is gone. */
  read(): Promise<unknown>;
}

export function deletableObject(kc: KubeConfig, p: DeleteParams): DeletableObject {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const ref = { name: p.name, namespace: p.namespace ?? '' };
  const calls: Record<DeleteParams['kind'], { del: () => Promise<unknown>; read: () => Promise<unknown> }> = {
    Pod: { del: () => core.deleteNamespacedPod(ref), read: () => core.readNamespacedPod(ref) },
    PersistentVolumeClaim: { del: () => core.deleteNamespacedPersistentVolumeClaim(ref), read: () => core.readNamespacedPersistentVolumeClaim(ref) },
    Service: { del: () => core.deleteNamespacedService(ref), read: () => core.readNamespacedService(ref) },
    ConfigMap: { del: () => core.deleteNamespacedConfigMap(ref), read: () => core.readNamespacedConfigMap(ref) },
    Secret: { del: () => core.deleteNamespacedSecret(ref), read: () => core.readNamespacedSecret(ref) },
    Deployment: { del: () => apps.deleteNamespacedDeployment(ref), read: () => apps.readNamespacedDeployment(ref) },
    StatefulSet: { del: () => apps.deleteNamespacedStatefulSet(ref), read: () => apps.readNamespacedStatefulSet(ref) },
    Namespace: { del: () => core.deleteNamespace({ name: p.name }), read: () => core.readNamespace({ name: p.name }) },
  };
  return { what: `${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`, ...calls[p.kind] };
}
