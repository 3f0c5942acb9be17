/**
 * A set of field paths, as structured-merge-diff keeps them: a tree whose edges are path elements
 * (`f:name` a field, `k:{"name":"web"}` an item of a keyed list, `v:"x"` an item of a set) and
 * whose nodes may be members themselves. It reads and writes the FieldsV1 form managedFields
 * carry, where `.` marks a member that also has members below it.
 */
export type PathElement = string;
export type Path = readonly PathElement[];

/** The children of every leaf: most nodes are leaves, and a map each would be most of a set's weight. Never written. */
const NO_CHILDREN: ReadonlyMap<PathElement, FieldSet> = new Map();

export class FieldSet {
  private member = false;
  private children = NO_CHILDREN as Map<PathElement, FieldSet>;

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    const read = (node: FieldSet, json: unknown): void => {
      if (!json || typeof json !== 'object') return;
      for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
        if (k === '.') {
          node.member = true;
          continue;
        }
        const child = node.child(k);
        if (!v || typeof v !== 'object' || Object.keys(v).length === 0) child.member = true;
        else read(child, v);
      }
    };
    read(set, fields);
    return set;
  }

  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    if (this.children.size === 0) return out;
    for (const [k, child] of [...this.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // A child is empty when it is no member and nothing below it is: known from its own encoding, without a walk of its own.
      const encoded = child.toFieldsV1();
      if (child.member || Object.keys(encoded).length > 0) out[k] = encoded;
    }
    return out;
  }

  private child(pe: PathElement): FieldSet {
    let c = this.children.get(pe);
    if (!c) this.adopt(pe, (c = new FieldSet()));
    return c;
  }

  private adopt(pe: PathElement, c: FieldSet): void {
    if (this.children === NO_CHILDREN) this.children = new Map();
    this.children.set(pe, c);
  }

  /** The node at `path`, made on the way when `create`. */
  private at(path: Path, create: boolean): FieldSet | undefined {
    let node: FieldSet | undefined = path.length ? (create ? this.child(path[0]!) : this.children.get(path[0]!)) : undefined;
    if (!path.length) return this;
    for (let i = 1; i < path.length && node; i++) node = create ? node.child(path[i]!) : node.children.get(path[i]!);
    return node;
  }

  insert(path: Path): void {
    this.at(path, true)!.member = true;
  }

  has(path: Path): boolean {
    return this.at(path, false)?.member ?? false;
  }

  /** The first elements of the member paths. */
  heads(): PathElement[] {
    return [...this.children].filter(([, c]) => !c.empty()).map(([k]) => k);
  }

  empty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  /** Every member path, depth first in element order. */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = [];
    if (this.member && prefix.length > 0) out.push(prefix);
    for (const [k, c] of [...this.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(...c.paths([...prefix, k]));
    return out;
  }

  // The set operations walk both trees at once: enumerating paths and re-inserting them costs a
  // path copy per member, which made every tracked write of a pod cost a fraction of a millisecond.
  union(other: FieldSet): FieldSet {
    const out = this.copy();
    out.addAll(other);
    return out;
  }

  private addAll(other: FieldSet): void {
    if (other.member) this.member = true;
    for (const [k, c] of other.children) this.child(k).addAll(c);
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !other.member;
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      const d = o ? c.difference(o) : c.copy();
      if (!d.empty()) out.adopt(k, d);
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && other.member;
    for (const [k, c] of this.children) {
      const o = other.children.get(k);
      if (!o) continue;
      const i = c.intersection(o);
      if (!i.empty()) out.adopt(k, i);
    }
    return out;
  }

  copy(): FieldSet {
    const out = new FieldSet();
    out.member = this.member;
    for (const [k, c] of this.children) if (!c.empty()) out.adopt(k, c.copy());
    return out;
  }

  /** Whether a member path starts with `prefix` (or is it). */
  hasPrefix(prefix: Path): boolean {
    const node = this.at(prefix, false);
    return node !== undefined && !node.empty();
  }
}

/** `f:spec` → `.spec`, `k:{"name":"web"}` → `[name="web"]`, `v:"x"` → `[="x"]`: how conflicts name a path. */
export function pathString(path: Path): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k':
          return `[${Object.entries(JSON.parse(body) as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
        case 'v':
          return `[=${body}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}
