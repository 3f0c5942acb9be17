import { objectKey, type Informer, type Informers } from '../informer.js';
import { PROVISIONED_BY_ANNOTATION, volumeNode, volumePath } from '../persistent-volume.js';
import { LOCAL_PATH_PROVISIONER } from '../storage-class.js';
import { byNode, INDEX } from '../standard-indexes.js';
import { Kubelet, type KubeletDeps, type NodeRegistration } from './kubelet.js';

/**
 * Every node's kubelet, fed by one pod subscription. Changes are delivered off the store's
 * notification path and as the pod's latest state, as a kubelet's watch would see them.
 */
export class KubeletFleet {
  private readonly kubelets = new Map<string, Kubelet>();
  private readonly pending = new Map<string, { node: string; uid: string; key: string }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly off: () => void;
  private readonly offVolumes: () => void;
  private readonly pods: Informer;

  constructor(private readonly deps: KubeletDeps, informers: Informers) {
    const pods = (this.pods = informers.for('pods').addIndex(INDEX.node, byNode));
    this.off = pods.onChange((_type, pod, old) => {
      for (const p of [old, pod]) {
        const node = (p?.spec as { nodeName?: string } | undefined)?.nodeName;
        if (node && p) this.pending.set(p.metadata.uid, { node, uid: p.metadata.uid, key: objectKey(p) });
      }
      this.timer ??= setTimeout(() => this.drain(), this.deps.timings.kubeletSyncMs);
    });
    // The local-path provisioner deletes a volume's directory on its node (a helper pod's `rm -rf`) when it deletes the volume.
    this.offVolumes = informers.for('persistentvolumes').onChange((type, pv) => {
      if (type !== 'DELETED' || pv.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER) return;
      const node = volumeNode(pv);
      const path = volumePath(pv);
      if (node && path) this.kubelets.get(node)?.localVolumes.remove(path);
    });
  }

  add(registration: NodeRegistration): Kubelet {
    const k = new Kubelet(this.deps, registration, () => this.pods.byIndex(INDEX.node, registration.name));
    this.kubelets.set(registration.name, k);
    return k;
  }

  get(node: string): Kubelet | undefined {
    return this.kubelets.get(node);
  }

  all(): IterableIterator<Kubelet> {
    return this.kubelets.values();
  }

  private drain(): void {
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    const pods = this.pods;
    for (const { node, uid, key } of batch) {
      const kubelet = this.kubelets.get(node);
      if (!kubelet) continue;
      const latest = pods.getByKey(key);
      const pod = latest?.metadata.uid === uid && (latest.spec as { nodeName?: string }).nodeName === node ? latest : undefined;
      if (pod) kubelet.onPod(pod);
      else kubelet.podGone(uid);
    }
  }

  stop(): void {
    this.off();
    this.offVolumes();
    if (this.timer) clearTimeout(this.timer);
    this.pending.clear();
    for (const k of this.kubelets.values()) k.shutdown();
  }
}
