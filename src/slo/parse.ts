import { Duration } from '../core/duration.js';
import type { CheckExpr, Comparator, Threshold } from './ast.js';

/** A check that does not follow the grammar; `offset` is the 0-based index in the text where it went wrong. */
export class CheckSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'CheckSyntaxError';
  }
}

const COMPARATORS: readonly Comparator[] = ['>=', '<=', '==', '!=', '>', '<'];
const FUNCTION_NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
/** An argument ends before an arrow: `shop/frontend->payments/db:5432` is two. */
const ARGUMENT = /(?:[^(),\s-]|-(?!>))+/y;
const WORD = /[A-Za-z_]+/y;
/** `secrets` in `blastRadius(shop/frontend).secrets`. */
const FIELD_NAME = /[A-Za-z][A-Za-z0-9]*/y;
/** `1m30s` is one duration token, so the parts are matched together. */
const DURATION = /(?:\d+(?:\.\d+)?(?:ms|s|m|h))+(?![A-Za-z0-9%/])/y;
const PERCENT = /(\d+(?:\.\d+)?)\s*%/y;
const RATE = /(\d+(?:\.\d+)?)\s*\/\s*(s|m)\b/y;
const BOOLEAN = /(true|false)(?![A-Za-z0-9])/y;
const BARE_NUMBER = /(\d+(?:\.\d+)?)(?![A-Za-z0-9%/.])/y;

/**
 * Parses one check of the language shared by steady state, SLOs and abort conditions:
 * `fn(arg) (cmp threshold | holds) [over duration]`, e.g. `availability(web) >= 99.5% over 30s`, where
 * a percentile may read a series function instead of the probe's latencies: `p99(lag(orders)) < 2s`.
 * Thresholds come back normalized (percent → ratio, durations → ms, `n/m` → per second).
 * Whether `fn` exists and takes that kind of threshold is src/slo/functions.ts's business.
 */
export function parseCheck(text: string): CheckExpr {
  return new CheckParser(text).parse();
}

class CheckParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): CheckExpr {
    this.skipSpace();
    if (this.atEnd()) this.fail('a check is empty; write it like "availability(web) >= 99%" or "pdb(shop/web) holds"');
    const fn = this.match(FUNCTION_NAME);
    if (fn === undefined) this.fail(`expected a check function name like availability or p99, found ${this.found()}`);
    this.skipSpace();
    if (!this.eat('(')) this.fail(`expected "(" after ${fn}, found ${this.found()}; write it like ${fn}(web)`);
    this.skipSpace();
    const series = this.seriesCall();
    let arg: string;
    if (series) {
      const opened = `${fn}(${series}(`;
      const single = this.match(ARGUMENT);
      if (single === undefined) this.fail(`expected a probe name or a target inside ${opened} ), found ${this.found()}`);
      arg = single;
      this.skipSpace();
      if (!this.eat(')')) this.fail(`expected ")" after ${opened}${arg}, found ${this.found()}`);
      this.skipSpace();
      if (!this.eat(')')) this.fail(`expected ")" after ${opened}${arg}), found ${this.found()}`);
    } else {
      arg = this.parseArguments(fn);
    }
    this.skipSpace();
    let field: string | undefined;
    if (!series && this.eat('.')) {
      this.skipSpace();
      field = this.match(FIELD_NAME);
      if (field === undefined) this.fail(`expected a field name after ${fn}(${arg}). like secrets, found ${this.found()}`);
      this.skipSpace();
    }
    const call = series ? `${fn}(${series}(${arg}))` : `${fn}(${arg})${field !== undefined ? `.${field}` : ''}`;

    const opStart = this.pos;
    const word = this.match(WORD);
    if (word === 'holds') {
      if (series || field !== undefined) this.fail(`${call} is a number to compare, not a condition that holds; write it like ${call} ${series ? '< 2s' : '== 0'}`, opStart);
      const window = this.parseWindow();
      this.expectEnd();
      return window ? { text: this.text, fn, arg, op: 'holds', window } : { text: this.text, fn, arg, op: 'holds' };
    }
    this.pos = opStart;
    const op = COMPARATORS.find((c) => this.text.startsWith(c, this.pos));
    if (op === undefined) this.fail(`expected a comparison (>=, >, <=, <, ==, !=) or "holds" after ${call}, found ${this.found()}`);
    this.pos += op.length;
    this.skipSpace();
    const threshold = this.parseThreshold(call, op);
    const window = this.parseWindow();
    this.expectEnd();
    return { text: this.text, fn, arg, ...(series ? { series } : {}), ...(field !== undefined ? { field } : {}), op, threshold, ...(window ? { window } : {}) };
  }

  /** `lag(` inside `p99(lag(orders))`: a series function's name, its "(" eaten; else nothing moves. */
  private seriesCall(): string | undefined {
    const start = this.pos;
    const name = this.match(FUNCTION_NAME);
    this.skipSpace();
    if (name !== undefined && this.eat('(')) {
      this.skipSpace();
      return name;
    }
    this.pos = start;
    return undefined;
  }

  private parseThreshold(call: string, op: Comparator): Threshold {
    const start = this.pos;
    const percent = this.exec(PERCENT);
    if (percent) {
      const value = Number(percent[1]);
      if (value > 100) this.fail(`${value}% is more than 100%`, start);
      return { value: value / 100, unit: 'ratio', text: percent[0] };
    }
    const rate = this.exec(RATE);
    if (rate) {
      const perUnit = Number(rate[1]);
      return { value: rate[2] === 'm' ? perUnit / 60 : perUnit, unit: 'per-second', text: rate[0] };
    }
    const duration = this.match(DURATION);
    if (duration !== undefined) return { value: Duration.parse(duration).ms, unit: 'ms', text: duration };
    const bool = this.exec(BOOLEAN);
    if (bool) return { value: bool[1] === 'true' ? 1 : 0, unit: 'boolean', text: bool[0] };
    const bare = this.exec(BARE_NUMBER);
    if (bare) return { value: Number(bare[1]), unit: 'number', text: bare[0] };
    this.fail(`expected a threshold after ${call} ${op}: a number (3), a percentage (99.5%), a duration (300ms, 20s) or a rate (50/s); found ${this.found()}`);
  }

  /**
   * `web`, several arguments `serviceaccount/shop/web, get, secrets` joined by `, `, or a path
   * `shop/frontend -> payments/db:5432` written with ` -> `; consumes the closing parenthesis.
   */
  private parseArguments(fn: string): string {
    const args: string[] = [];
    for (;;) {
      let arg = this.match(ARGUMENT);
      if (arg === undefined) this.fail(`expected a probe name or a target inside ${fn}( ), found ${this.found()}`);
      this.skipSpace();
      if (this.text.startsWith('->', this.pos)) {
        this.pos += 2;
        this.skipSpace();
        const to = this.match(ARGUMENT);
        if (to === undefined) this.fail(`expected a destination after ${arg} ->, found ${this.found()}`);
        arg = `${arg} -> ${to}`;
      }
      args.push(arg);
      this.skipSpace();
      if (this.eat(')')) return args.join(', ');
      if (!this.eat(',')) this.fail(`expected ")" or "," after ${fn}(${args.join(', ')}, found ${this.found()}`);
      this.skipSpace();
    }
  }

  private parseWindow(): Duration | undefined {
    this.skipSpace();
    if (this.atEnd()) return undefined;
    const start = this.pos;
    if (this.match(WORD) !== 'over') {
      this.pos = start;
      return undefined;
    }
    this.skipSpace();
    const windowStart = this.pos;
    const text = this.match(DURATION);
    if (text === undefined) this.fail(`expected a window duration after "over", like 30s or 2m; found ${this.found()}`);
    const window = Duration.parse(text);
    if (window.ms === 0) this.fail('a window of 0 covers no samples; write a duration longer than 0, like 30s', windowStart);
    return window;
  }

  private expectEnd(): void {
    this.skipSpace();
    if (!this.atEnd()) this.fail(`unexpected ${this.found()}; a check ends after its threshold or "holds", optionally followed by "over 30s"`);
  }

  private match(re: RegExp): string | undefined {
    return this.exec(re)?.[0];
  }

  private exec(re: RegExp): RegExpExecArray | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos = re.lastIndex;
    return m;
  }

  private eat(char: string): boolean {
    if (this.text[this.pos] !== char) return false;
    this.pos++;
    return true;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private found(): string {
    if (this.atEnd()) return 'the end of the check';
    return `"${this.text.slice(this.pos).split(/\s/)[0]!.slice(0, 20)}"`;
  }

  private fail(message: string, offset = this.pos): never {
    throw new CheckSyntaxError(message, offset);
  }
}
