import type { StoredObject } from '../store.js';
import { quantityBytes } from '../resource-quantity.js';
import { ContainerFilesystem, type Mount } from './container-filesystem.js';
import { NODE_DEVICE } from './local-volumes.js';
import type { NodeFilesystem } from './node-filesystem.js';
import { Volume } from './volume.js';

interface VolumeSpec {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string | number };
  configMap?: { name?: string; items?: { key: string; path: string }[] };
  persistentVolumeClaim?: { claimName?: string; readOnly?: boolean };
}

export interface VolumeMountSpec {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}

export interface PodStorageOptions {
  readonly pod: StoredObject;
  readonly node: NodeFilesystem;
  /** What a tmpfs without sizeLimit may grow to. */
  readonly memoryBytes: number;
  /** The ConfigMap a configMap volume projects, read when the pod starts. */
  readonly configMap: (name: string) => StoredObject | undefined;
  /**
   * The node directory of the volume a claim is bound to, or undefined when this node cannot
   * resolve it (no such claim or volume here): the claim's volume is then a directory of the pod's.
   * @default every claim's volume is a directory of the pod's
   */
  readonly claimVolume?: (claimName: string) => Volume | undefined;
  /** The service account token to mount, asked for when a container starts; undefined mounts none. */
  readonly serviceAccountToken?: () => string | undefined;
}

export interface EmptyDirOverLimit {
  readonly volume: string;
  readonly limit: string;
}

/**
 * A pod's storage on its node: the volumes it declares (emptyDir on disk or in memory, configMap
 * projections, any other type as a node directory) and each container's writable root layer.
 * Everything is given back to the node's filesystem when the pod goes, as the kubelet's volume
 * manager and the container runtime do.
 */
export class PodStorage {
  private readonly volumes = new Map<string, { volume: Volume; limitText?: string }>();
  /** persistentVolumeClaim volumes: resolved at each container start, since their data lives on the node, not in the pod. */
  private readonly claims = new Map<string, { claimName: string; readOnly: boolean }>();
  private readonly roots = new Map<string, Volume>();
  private rootGeneration = 0;

  constructor(private readonly options: PodStorageOptions) {
    const { pod, node } = options;
    for (const v of ((pod.spec as { volumes?: VolumeSpec[] }).volumes ?? [])) {
      const claimName = v.persistentVolumeClaim?.claimName;
      if (claimName && options.claimVolume) this.claims.set(v.name, { claimName, readOnly: v.persistentVolumeClaim?.readOnly ?? false });
      const id = `pod/${pod.metadata.uid}/volume/${v.name}`;
      const memory = v.emptyDir?.medium === 'Memory';
      const limit = v.emptyDir?.sizeLimit;
      const limitBytes = limit !== undefined ? quantityBytes(limit) : undefined;
      const volume = new Volume({
        id, node, memoryBytes: options.memoryBytes,
        device: memory ? 'tmpfs' : NODE_DEVICE,
        medium: memory ? 'memory' : 'disk',
        ...(limitBytes ? { sizeLimitBytes: limitBytes } : {}),
        readOnly: v.configMap !== undefined,
      });
      if (v.configMap) this.project(volume, v.configMap);
      this.volumes.set(v.name, { volume, ...(limitBytes ? { limitText: String(limit) } : {}) });
    }
  }

  private project(volume: Volume, source: NonNullable<VolumeSpec['configMap']>): void {
    const cm = source.name ? this.options.configMap(source.name) : undefined;
    const data = ((cm as { data?: Record<string, string> } | undefined)?.data) ?? {};
    const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      const content = Buffer.from(data[item.key] ?? '');
      volume.seed(`/${item.path}`, { kind: 'file', size: content.length, content, modified: new Date() });
    }
  }

  /** A container's writable layer goes with the run that wrote it: a restart starts from the image again. */
  releaseRoot(container: string): void {
    this.roots.get(container)?.dispose();
    this.roots.delete(container);
  }

  /** A new root layer for a container (re)start, with the pod's volumes mounted over it. */
  containerFilesystem(container: string, mounts: readonly VolumeMountSpec[], hostname: string): ContainerFilesystem {
    this.releaseRoot(container);
    const { pod, node } = this.options;
    const root = new Volume({ id: `pod/${pod.metadata.uid}/root/${container}/${++this.rootGeneration}`, device: 'overlay', node, medium: 'disk', memoryBytes: this.options.memoryBytes });
    const created = new Date();
    root.seedLater(() => seedImage(root, created, hostname, pod.metadata.namespace ?? 'default', this.mountedToken()));
    this.roots.set(container, root);
    const table: Mount[] = [];
    for (const m of mounts) {
      const claim = this.claims.get(m.name);
      const persistent = claim ? this.options.claimVolume?.(claim.claimName) : undefined;
      const volume = persistent ?? this.volumes.get(m.name)?.volume;
      if (!volume) continue;
      const base = m.subPath ? `/${m.subPath.replace(/^\/+|\/+$/g, '')}` : '/';
      if (base !== '/' && !volume.get(base)) volume.seed(base, { kind: 'dir', modified: new Date() });
      table.push({ path: ContainerFilesystem.absolute('/', m.mountPath), volume, base, readOnly: m.readOnly ?? (claim?.readOnly || volume.readOnly) });
    }
    return new ContainerFilesystem(root, table);
  }

  /** The pod's service account token, unless the pod (or its account) opted out of the automount. */
  private mountedToken(): string | undefined {
    if ((this.options.pod.spec as { automountServiceAccountToken?: boolean }).automountServiceAccountToken === false) return undefined;
    return this.options.serviceAccountToken?.();
  }

  /** The first emptyDir holding more than its sizeLimit: the kubelet evicts the pod for it. */
  emptyDirOverLimit(): EmptyDirOverLimit | undefined {
    for (const [name, v] of this.volumes) {
      const limit = v.volume.options.sizeLimitBytes;
      if (limit !== undefined && v.limitText !== undefined && v.volume.usedBytes > limit) return { volume: name, limit: v.limitText };
    }
    return undefined;
  }

  /** Bytes held on the node's disk (memory-backed volumes excluded): the eviction manager ranks pods by it. */
  get diskBytes(): number {
    let total = 0;
    for (const v of this.volumes.values()) if (v.volume.options.medium === 'disk') total += v.volume.usedBytes;
    for (const r of this.roots.values()) total += r.usedBytes;
    return total;
  }

  dispose(): void {
    for (const v of this.volumes.values()) v.volume.dispose();
    for (const r of this.roots.values()) r.dispose();
    this.roots.clear();
  }
}

/**
 * Where a container sees its persistent volumes: the mount paths of its volumeMounts whose volume
 * is a persistentVolumeClaim, in the order declared. An image that keeps state (gameday/kv) writes
 * under the first one through its ContainerFilesystem, so its data outlives the pod with the claim.
 */
export function persistentMountPaths(pod: StoredObject, mounts: readonly VolumeMountSpec[]): string[] {
  const claimed = new Set(((pod.spec as { volumes?: VolumeSpec[] }).volumes ?? []).filter((v) => v.persistentVolumeClaim?.claimName).map((v) => v.name));
  return mounts.filter((m) => claimed.has(m.name)).map((m) => ContainerFilesystem.absolute('/', m.mountPath));
}

function seedImage(root: Volume, now: Date, hostname: string, namespace: string, token: string | undefined): void {
  const dir = { kind: 'dir', modified: now } as const;
  const file = (text: string) => ({ kind: 'file', size: Buffer.byteLength(text), content: Buffer.from(text), modified: now }) as const;
  for (const d of ['/bin', '/etc', '/home', '/proc', '/root', '/run', '/sys', '/tmp', '/usr/bin', '/var/log', '/var/tmp']) root.seed(d, dir);
  root.seed('/dev/null', { kind: 'device', device: 'null', modified: now });
  root.seed('/dev/zero', { kind: 'device', device: 'zero', modified: now });
  root.seed('/dev/urandom', { kind: 'device', device: 'random', modified: now });
  root.seed('/etc/hostname', file(`${hostname}\n`));
  root.seed('/etc/hosts', file(`127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n`));
  root.seed('/etc/resolv.conf', file(`search ${namespace}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`));
  root.seed('/var/run/secrets/kubernetes.io/serviceaccount/namespace', file(namespace));
  if (token !== undefined) root.seed('/var/run/secrets/kubernetes.io/serviceaccount/token', file(token));
}
