/** A value and the leader's log position that wrote it. */
export interface KvEntry {
  readonly value: string;
  readonly version: number;
}

/** What the store needs of the container's filesystem (a ContainerFilesystem has it). */
export interface KvFilesystem {
  stat(path: string): { readonly kind: string } | undefined;
  list(dir: string): string[];
  mkdir(path: string, parents: boolean): void;
  writeFile(path: string, size: number, content?: Buffer): void;
  readFile(path: string): Buffer;
  remove(path: string, recursive: boolean): void;
}

/** What a member keeps besides its records: how far its log got, and whether a snapshot was restored into it. */
export interface KvMeta {
  readonly applied: number;
  readonly restored: boolean;
}

/** What a member found on its volume when it started. */
export interface KvStoredState extends KvMeta {
  readonly data: Map<string, KvEntry>;
}

/**
 * gameday/kv's data directory on the member's volume: one file per record under `records/`
 * (the key percent-encoded, `{"value","version"}` inside) and `meta.json` with the log position.
 * Every apply is written before it counts, so what a member acknowledged is on its volume: it
 * outlives the container and the pod with the claim, and goes with the claim or the node.
 */
export class KvDisk {
  private readonly records: string;
  private readonly meta: string;

  constructor(
    private readonly fs: KvFilesystem,
    readonly dir: string,
  ) {
    this.records = `${dir === '/' ? '' : dir}/records`;
    this.meta = `${dir === '/' ? '' : dir}/meta.json`;
  }

  /** The records and log position the volume holds; empty for a new volume. */
  load(): KvStoredState {
    const data = new Map<string, KvEntry>();
    if (this.fs.stat(this.records)?.kind === 'dir') {
      for (const name of this.fs.list(this.records)) {
        const entry = parseEntry(this.fs.readFile(`${this.records}/${name}`).toString('utf8'));
        // A file someone wrote there by hand is not a record of the store's.
        if (entry) data.set(decodeURIComponent(name), entry);
      }
    }
    const meta = this.fs.stat(this.meta)?.kind === 'file' ? parseMeta(this.fs.readFile(this.meta).toString('utf8')) : {};
    const newest = Math.max(0, ...[...data.values()].map((e) => e.version));
    return { data, applied: Math.max(meta.applied ?? 0, newest), restored: meta.restored ?? false };
  }

  /** Writes one record (undefined deletes it) and the log position. */
  put(key: string, entry: KvEntry | undefined, meta: KvMeta): void {
    const file = `${this.records}/${encodeURIComponent(key)}`;
    if (entry) {
      if (this.fs.stat(this.records)?.kind !== 'dir') this.fs.mkdir(this.records, true);
      writeText(this.fs, file, JSON.stringify(entry));
    } else if (this.fs.stat(file)) {
      this.fs.remove(file, false);
    }
    this.writeMeta(meta);
  }

  writeMeta(meta: KvMeta): void {
    if (this.fs.stat(this.dir)?.kind !== 'dir') this.fs.mkdir(this.dir, true);
    writeText(this.fs, this.meta, JSON.stringify(meta));
  }
}

function parseMeta(text: string): Partial<KvMeta> {
  try {
    return JSON.parse(text) as Partial<KvMeta>;
  } catch {
    return {};
  }
}

function parseEntry(text: string): KvEntry | undefined {
  try {
    const e = JSON.parse(text) as Partial<KvEntry>;
    return typeof e.value === 'string' && typeof e.version === 'number' ? { value: e.value, version: e.version } : undefined;
  } catch {
    return undefined;
  }
}

function writeText(fs: KvFilesystem, path: string, text: string): void {
  const content = Buffer.from(text);
  fs.writeFile(path, content.length, content);
}
