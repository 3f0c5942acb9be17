/**
 * The only source of randomness in a plan (docs/architecture.md, principle 6): a seeded generator, so
 * `--seed N` replays the same target choices. mulberry32: small, fast, good enough to pick targets.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** `count` distinct items, chosen uniformly; the input order decides nothing else. */
  pick<T>(items: readonly T[], count: number): T[] {
    const pool = items.slice();
    const out: T[] = [];
    for (let i = 0; i < count && pool.length > 0; i++) {
      const j = Math.floor(this.next() * pool.length);
      out.push(pool.splice(j, 1)[0]!);
    }
    return out;
  }

  static newSeed(): number {
    return Math.floor(Math.random() * 2 ** 31);
  }
}
