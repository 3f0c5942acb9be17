import { FsError } from './filesystem-error.js';
import type { NodeFilesystem } from './node-filesystem.js';

export type FsNode =
  | { readonly kind: 'dir'; modified: Date }
  | { readonly kind: 'file'; size: number; content?: Buffer; modified: Date }
  | { readonly kind: 'device'; readonly device: 'null' | 'zero' | 'random'; modified: Date };

export interface VolumeOptions {
  /** Unique on the node: names this volume's allocations in the node filesystem. */
  readonly id: string;
  /** What df prints in its Filesystem column (`overlay`, `/dev/vda1`, `tmpfs`). */
  readonly device: string;
  readonly node: NodeFilesystem;
  /** `memory` is a tmpfs: its files use RAM, not the node's disk. */
  readonly medium: 'disk' | 'memory';
  /** An emptyDir's sizeLimit, which is what df reports as its size. */
  readonly sizeLimitBytes?: number;
  /** A tmpfs without sizeLimit is sized by the node's memory. */
  readonly memoryBytes: number;
  readonly readOnly?: boolean;
}

export interface VolumeUsage {
  readonly sizeBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
}

const ROOT = '/';

function parentOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? ROOT : path.slice(0, at);
}

/**
 * One filesystem a container sees: the writable layer of its root, or a pod volume. Paths are
 * absolute within the volume. Bytes written to a disk-backed volume are allocated in the node's
 * filesystem, so they count towards the kubelet's DiskPressure threshold, and are given back
 * when a file is removed or the volume is disposed of with its pod.
 */
export class Volume {
  private readonly entries = new Map<string, FsNode>([[ROOT, { kind: 'dir', modified: new Date() }]]);
  private pendingImage: (() => void) | undefined;
  private used = 0;

  constructor(readonly options: VolumeOptions) {}

  get device(): string {
    return this.options.device;
  }

  get usedBytes(): number {
    return this.used;
  }

  get readOnly(): boolean {
    return this.options.readOnly ?? false;
  }

  /**
   * The image's files, seeded on first use: most containers never have their filesystem looked
   * at, and thousands of pods would otherwise each hold a copy (and a service account token).
   */
  seedLater(image: () => void): void {
    this.pendingImage = image;
  }

  private get nodes(): Map<string, FsNode> {
    const image = this.pendingImage;
    if (image) {
      this.pendingImage = undefined;
      image();
    }
    return this.entries;
  }

  get(path: string): FsNode | undefined {
    return this.nodes.get(path);
  }

  /** Names directly inside `dir`, sorted. */
  children(dir: string): string[] {
    const prefix = dir === ROOT ? ROOT : `${dir}/`;
    const out: string[] = [];
    for (const p of this.nodes.keys()) {
      if (p !== ROOT && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) out.push(p.slice(prefix.length));
    }
    return out.sort();
  }

  /** Paths of everything under `dir` (not `dir` itself), deepest first. */
  descendants(dir: string): string[] {
    const prefix = dir === ROOT ? ROOT : `${dir}/`;
    return [...this.nodes.keys()].filter((p) => p !== ROOT && p.startsWith(prefix)).sort((a, b) => b.length - a.length);
  }

  usage(): VolumeUsage {
    const node = this.options.node;
    if (this.options.medium === 'memory') {
      const size = this.options.sizeLimitBytes ?? this.options.memoryBytes;
      return { sizeBytes: size, usedBytes: this.used, availableBytes: Math.max(0, size - this.used) };
    }
    if (this.options.sizeLimitBytes === undefined) return { sizeBytes: node.capacityBytes, usedBytes: node.usedBytes, availableBytes: node.availableBytes };
    const size = this.options.sizeLimitBytes;
    return { sizeBytes: size, usedBytes: this.used, availableBytes: Math.max(0, Math.min(size - this.used, node.availableBytes)) };
  }

  /** Part of the image: present from the start, costs nothing. */
  seed(path: string, node: FsNode): void {
    for (let p = parentOf(path); p !== ROOT && !this.nodes.has(p); p = parentOf(p)) this.nodes.set(p, { kind: 'dir', modified: new Date() });
    this.nodes.set(path, node);
  }

  mkdir(path: string): void {
    this.writable();
    if (this.nodes.has(path)) throw new FsError('EEXIST');
    this.parentDir(path);
    this.nodes.set(path, { kind: 'dir', modified: new Date() });
  }

  /** Creates or replaces a file of `size` bytes (`content` when it was written as text). */
  writeFile(path: string, size: number, content?: Buffer): void {
    this.writable();
    const existing = this.nodes.get(path);
    if (existing?.kind === 'dir') throw new FsError('EISDIR');
    if (existing?.kind === 'device') return;
    this.parentDir(path);
    const old = existing?.kind === 'file' ? existing.size : 0;
    if (size - old > this.room()) throw new FsError('ENOSPC');
    if (this.options.medium === 'disk') {
      this.options.node.release(this.fillId(path));
      if (size > 0) this.options.node.fill(this.fillId(path), size);
    }
    this.used += size - old;
    this.nodes.set(path, { kind: 'file', size, ...(content ? { content } : {}), modified: new Date() });
  }

  /** Bytes that can still be written: the node's free space for disk, the tmpfs size for memory. */
  room(): number {
    if (this.options.medium === 'memory') return this.usage().availableBytes;
    return this.options.node.availableBytes;
  }

  remove(path: string): void {
    this.writable();
    const n = this.nodes.get(path);
    if (!n || path === ROOT) throw new FsError(n ? 'EISDIR' : 'ENOENT');
    if (n.kind === 'dir' && this.children(path).length) throw new FsError('ENOTEMPTY');
    if (n.kind === 'file') {
      this.used -= n.size;
      if (this.options.medium === 'disk') this.options.node.release(this.fillId(path));
    }
    this.nodes.delete(path);
  }

  /** The pod is gone: every byte goes back to the node. */
  dispose(): void {
    this.pendingImage = undefined;
    if (this.options.medium === 'disk') for (const [p, n] of this.nodes) if (n.kind === 'file') this.options.node.release(this.fillId(p));
    this.nodes.clear();
    this.used = 0;
  }

  private fillId(path: string): string {
    return `${this.options.id}:${path}`;
  }

  private writable(): void {
    if (this.readOnly) throw new FsError('EROFS');
  }

  private parentDir(path: string): void {
    const parent = this.nodes.get(parentOf(path));
    if (!parent) throw new FsError('ENOENT');
    if (parent.kind !== 'dir') throw new FsError('ENOTDIR');
  }
}
