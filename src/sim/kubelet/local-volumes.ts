import type { NodeFilesystem } from './node-filesystem.js';
import { Volume } from './volume.js';

/** The node's disk as containers see it in df; kind nodes show their overlay's backing device. */
export const NODE_DEVICE = '/dev/vda1';

/**
 * Directories on a node's own disk that outlive pods: where local and hostPath persistent volumes
 * (kind's local-path provisioner's `/var/local-path-provisioner/pvc-…`) keep their data. Bytes
 * written there count against the node's filesystem like any other. A directory goes when its
 * volume is deleted, or with the node.
 */
export class LocalVolumes {
  private readonly directories = new Map<string, Volume>();

  constructor(
    private readonly node: NodeFilesystem,
    private readonly memoryBytes: number,
  ) {}

  /** The directory at `path`, made on first use (hostPath type DirectoryOrCreate). */
  directory(path: string): Volume {
    let v = this.directories.get(path);
    if (!v) {
      v = new Volume({ id: `local${path}`, device: NODE_DEVICE, node: this.node, medium: 'disk', memoryBytes: this.memoryBytes });
      this.directories.set(path, v);
    }
    return v;
  }

  /** Deletes the directory and everything in it; false when there was none. */
  remove(path: string): boolean {
    const v = this.directories.get(path);
    if (!v) return false;
    v.dispose();
    this.directories.delete(path);
    return true;
  }

  /** The node's disk is gone: every directory with it. */
  removeAll(): void {
    for (const path of [...this.directories.keys()]) this.remove(path);
  }
}
