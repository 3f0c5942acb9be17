import { closest } from './did-you-mean.js';

/**
 * Plug-ins (faults, probes, check functions) are looked up by the name they have in YAML,
 * so a later feature only adds a file and registers it.
 */
export class Registry<T extends { readonly kind: string }> {
  private readonly items = new Map<string, T>();

  constructor(readonly noun: string) {}

  register(item: T): void {
    if (this.items.has(item.kind)) throw new Error(`${this.noun} "${item.kind}" is registered twice`);
    this.items.set(item.kind, item);
  }

  /** Replaces or adds; for plug-in modules loaded with `--plugin` that override a built-in. */
  upsert(item: T): void {
    this.items.set(item.kind, item);
  }

  get(kind: string): T | undefined {
    return this.items.get(kind);
  }

  has(kind: string): boolean {
    return this.items.has(kind);
  }

  kinds(): string[] {
    return [...this.items.keys()].sort();
  }

  all(): T[] {
    return this.kinds().map((k) => this.items.get(k)!);
  }

  /** `unknown fault "nodeDrian"; did you mean "nodeDrain"?` */
  unknownMessage(kind: string): string {
    const guess = closest(kind, this.kinds());
    const known = this.kinds().join(', ');
    return guess ? `unknown ${this.noun} "${kind}"; did you mean "${guess}"?` : `unknown ${this.noun} "${kind}"; known: ${known}`;
  }
}
