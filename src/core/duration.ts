/**
 * A length of time written the way experiments write it: `500ms`, `30s`, `2m`, `1h`, `1m30s`.
 * A value object so that nothing passes bare numbers of unknown unit around.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

export class Duration {
  private constructor(readonly ms: number) {}

  static millis(ms: number): Duration {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a duration cannot be ${ms} ms`);
    return new Duration(ms);
  }
  static seconds(s: number): Duration {
    return Duration.millis(s * 1000);
  }
  static minutes(m: number): Duration {
    return Duration.millis(m * 60_000);
  }

  /** Parses `1m30s`-style text; returns undefined when the text is not a duration. */
  static tryParse(text: string): Duration | undefined {
    const s = text.trim();
    if (s === '' ) return undefined;
    if (s === '0') return new Duration(0);
    let total = 0;
    PART.lastIndex = 0;
    while (PART.lastIndex < s.length) {
      const at = PART.lastIndex;
      const m = PART.exec(s);
      if (!m || m.index !== at) return undefined;
      total += Number(m[1]) * UNIT_MS[m[2]!]!;
    }
    return new Duration(total);
  }

  static parse(text: string): Duration {
    const d = Duration.tryParse(text);
    if (!d) throw new RangeError(`"${text}" is not a duration; write it like 500ms, 30s, 2m or 1m30s`);
    return d;
  }

  get seconds(): number {
    return this.ms / 1000;
  }

  plus(other: Duration): Duration {
    return new Duration(this.ms + other.ms);
  }

  toString(): string {
    let ms = this.ms;
    if (ms === 0) return '0s';
    if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
    let out = '';
    for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
      const n = Math.floor(ms / size);
      if (n > 0) out += `${n}${unit}`;
      ms -= n * size;
    }
    return out;
  }

  toJSON(): string {
    return this.toString();
  }
}
