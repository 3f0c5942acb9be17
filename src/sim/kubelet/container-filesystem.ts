import { posix } from 'node:path';
import { FsError } from './filesystem-error.js';
import type { FsNode, Volume, VolumeUsage } from './volume.js';

export interface Mount {
  /** Absolute path in the container. */
  readonly path: string;
  readonly volume: Volume;
  /** The volume's directory mounted there (a volumeMount's subPath), '/' for the whole volume. */
  readonly base: string;
  readonly readOnly: boolean;
}

export interface MountUsage extends VolumeUsage {
  readonly device: string;
  readonly mountedOn: string;
}

/** Reading a file without text content yields zeros, capped so `cat` of a filler file stays small. */
const MAX_SYNTHETIC_READ = 1024 * 1024;

/**
 * What one container sees: its root (the writable layer) with the pod's volumes mounted over it.
 * Every path is resolved to the volume holding it through the longest matching mount point.
 */
export class ContainerFilesystem {
  private readonly table: Mount[];

  constructor(root: Volume, mounts: readonly Mount[]) {
    for (const m of mounts) if (!root.get(m.path)) root.seed(m.path, { kind: 'dir', modified: new Date() });
    this.table = [{ path: '/', volume: root, base: '/', readOnly: false }, ...mounts].sort((a, b) => b.path.length - a.path.length);
  }

  /** Mounts in the order df lists them: root first. */
  mounts(): Mount[] {
    return [...this.table].reverse();
  }

  /** Canonical absolute path of `path` seen from `cwd`. */
  static absolute(cwd: string, path: string): string {
    const p = posix.normalize(posix.isAbsolute(path) ? path : posix.join(cwd, path));
    return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  }

  private locate(path: string): { mount: Mount; inner: string } {
    const mount = this.table.find((m) => m.path === '/' || path === m.path || path.startsWith(`${m.path}/`))!;
    const rest = mount.path === '/' ? path : path.slice(mount.path.length) || '/';
    const inner = mount.base === '/' ? rest : rest === '/' ? mount.base : `${mount.base}${rest}`;
    return { mount, inner };
  }

  private writableAt(path: string): { volume: Volume; inner: string } {
    const { mount, inner } = this.locate(path);
    if (mount.readOnly) throw new FsError('EROFS');
    return { volume: mount.volume, inner };
  }

  stat(path: string): FsNode | undefined {
    const { mount, inner } = this.locate(path);
    return mount.volume.get(inner);
  }

  list(dir: string): string[] {
    const n = this.stat(dir);
    if (!n) throw new FsError('ENOENT');
    if (n.kind !== 'dir') throw new FsError('ENOTDIR');
    const { mount, inner } = this.locate(dir);
    return mount.volume.children(inner);
  }

  mkdir(path: string, parents: boolean): void {
    if (!parents) {
      const { volume, inner } = this.writableAt(path);
      return volume.mkdir(inner);
    }
    let p = '';
    for (const part of path.split('/').filter(Boolean)) {
      p = `${p}/${part}`;
      const n = this.stat(p);
      if (n?.kind === 'dir') continue;
      if (n) throw new FsError('ENOTDIR');
      const { volume, inner } = this.writableAt(p);
      volume.mkdir(inner);
    }
  }

  writeFile(path: string, size: number, content?: Buffer): void {
    const { volume, inner } = this.writableAt(path);
    volume.writeFile(inner, size, content);
  }

  /** Bytes that can still be written at `path`. */
  room(path: string): number {
    return this.locate(path).mount.volume.room();
  }

  readFile(path: string): Buffer {
    const n = this.stat(path);
    if (!n) throw new FsError('ENOENT');
    if (n.kind === 'dir') throw new FsError('EISDIR');
    if (n.kind === 'device') return Buffer.alloc(0);
    return n.content ?? Buffer.alloc(Math.min(n.size, MAX_SYNTHETIC_READ));
  }

  remove(path: string, recursive: boolean): void {
    if (this.table.some((m) => m.path === path)) throw new FsError('EBUSY');
    const { volume, inner } = this.writableAt(path);
    if (recursive && volume.get(inner)?.kind === 'dir') {
      for (const child of volume.descendants(inner)) volume.remove(child);
    }
    volume.remove(inner);
  }

  /** Total bytes of the files under `path` (du). */
  diskUsage(path: string): number {
    const n = this.stat(path);
    if (!n) throw new FsError('ENOENT');
    if (n.kind === 'file') return n.size;
    if (n.kind === 'device') return 0;
    let total = 0;
    for (const name of this.list(path)) total += this.diskUsage(path === '/' ? `/${name}` : `${path}/${name}`);
    return total;
  }

  usage(path: string): MountUsage {
    if (!this.stat(path)) throw new FsError('ENOENT');
    const { mount } = this.locate(path);
    return { device: mount.volume.device, mountedOn: mount.path, ...mount.volume.usage() };
  }
}
