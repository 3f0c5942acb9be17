/**
 * Amounts written the way Kubernetes and experiments write them.
 * `Quantity` is a byte count (`512Mi`, `2G`, `1048576`); `Percent` is a share (`95%`).
 */
const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL: Readonly<Record<string, number>> = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

export class Quantity {
  private constructor(readonly bytes: number, private readonly text: string) {}

  static tryParse(text: string | number): Quantity | undefined {
    if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? new Quantity(Math.round(text), String(text)) : undefined;
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(text.trim());
    if (!m) return undefined;
    const scale = m[2] ? (BINARY[m[2]] ?? DECIMAL[m[2]]!) : 1;
    return new Quantity(Math.round(Number(m[1]) * scale), text.trim());
  }

  static parse(text: string | number): Quantity {
    const q = Quantity.tryParse(text);
    if (!q) throw new RangeError(`"${text}" is not a size; write it like 512Mi, 2Gi or 1000000`);
    return q;
  }

  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

export class Percent {
  private constructor(readonly value: number) {}

  /** `value` is in percent: `Percent.of(95)` is 95 %. */
  static of(value: number): Percent {
    if (!Number.isFinite(value) || value < 0 || value > 100) throw new RangeError(`${value}% is not between 0% and 100%`);
    return new Percent(value);
  }

  static tryParse(text: string): Percent | undefined {
    const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(text.trim());
    if (!m) return undefined;
    const v = Number(m[1]);
    return v <= 100 ? new Percent(v) : undefined;
  }

  static parse(text: string): Percent {
    const p = Percent.tryParse(text);
    if (!p) throw new RangeError(`"${text}" is not a percentage; write it like 95%`);
    return p;
  }

  get fraction(): number {
    return this.value / 100;
  }
  toString(): string {
    return `${this.value}%`;
  }
  toJSON(): string {
    return this.toString();
  }
}
