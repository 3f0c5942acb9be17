import { posix } from 'node:path';
import { linesOf, options, type Command, type CommandContext, type CommandIo } from './shell-commands.js';

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };

/** Backslash escapes as printf and `echo -e` read them. */
function unescape(text: string): string {
  return text.replace(/\\(0[0-7]{0,3}|[0-7]{1,3}|.)/g, (m, e: string) => (/^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : (ESCAPES[e] ?? m)));
}

function printf(args: readonly string[], io: CommandIo): number {
  const [format, ...rest] = args;
  if (format === undefined) {
    io.err('printf: usage: printf FORMAT [ARGUMENT]...\n');
    return 2;
  }
  let status = 0;
  let i = 0;
  const number = (text: string | undefined): number => {
    if (text === undefined || text === '') return 0;
    const quoted = /^['"](.)/.exec(text);
    if (quoted) return quoted[1]!.charCodeAt(0);
    const n = Number(text);
    if (Number.isNaN(n)) {
      io.err(`printf: invalid number '${text}'\n`);
      status = 1;
      return 0;
    }
    return n;
  };
  let out = '';
  do {
    const before = i;
    out += format.replace(/%([-+ #0]*)(\d+)?(?:\.(\d+))?([sdiuxXocfeEgGb%])|\\(0[0-7]{0,3}|[0-7]{1,3}|.)/g, (m, flags: string, width: string | undefined, precision: string | undefined, conv: string | undefined, esc: string | undefined) => {
      if (esc !== undefined) return unescape(`\\${esc}`);
      if (conv === '%') return '%';
      const arg = rest[i++];
      let text: string;
      switch (conv) {
        case 's': text = precision !== undefined ? (arg ?? '').slice(0, Number(precision)) : (arg ?? ''); break;
        case 'b': text = unescape(arg ?? ''); break;
        case 'c': text = (arg ?? '').slice(0, 1); break;
        case 'd': case 'i': case 'u': text = String(Math.trunc(number(arg))); break;
        case 'x': text = Math.trunc(number(arg)).toString(16); break;
        case 'X': text = Math.trunc(number(arg)).toString(16).toUpperCase(); break;
        case 'o': text = Math.trunc(number(arg)).toString(8); break;
        case 'e': case 'E': text = number(arg).toExponential(Number(precision ?? 6)); break;
        case 'g': case 'G': text = String(Number(number(arg).toPrecision(Number(precision ?? 6)))); break;
        default: text = number(arg).toFixed(Number(precision ?? 6));
      }
      const w = Number(width ?? 0);
      if (text.length >= w) return text;
      if (flags.includes('-')) return text.padEnd(w);
      return flags.includes('0') && /[diuxXofeEgG]/.test(conv!) ? text.padStart(w, '0') : text.padStart(w);
    });
    if (i === before) break;
  } while (i < rest.length);
  io.out(out);
  return status;
}

function seq(args: readonly string[], io: CommandIo): number {
  const { values, flags, operands } = options(args, ['-s']);
  const nums = operands.map(Number);
  const bad = operands.find((o) => Number.isNaN(Number(o)));
  if (bad !== undefined || !operands.length || operands.length > 3) {
    io.err(bad !== undefined ? `seq: invalid floating point argument: '${bad}'\n` : 'seq: missing operand\n');
    return 1;
  }
  const [first, step, last] = nums.length === 1 ? [1, 1, nums[0]!] : nums.length === 2 ? [nums[0]!, 1, nums[1]!] : (nums as [number, number, number]);
  if (step === 0) {
    io.err("seq: invalid Zero increment value: '0'\n");
    return 1;
  }
  const decimals = Math.max(...operands.slice(0, -1).map((o) => (o.split('.')[1] ?? '').length), 0);
  const out: string[] = [];
  for (let k = 0, n = first; step > 0 ? n <= last + 1e-9 : n >= last - 1e-9; n = first + ++k * step) out.push(n.toFixed(decimals));
  const width = Math.max(...out.map((s) => s.length), 0);
  io.out(out.length ? `${out.map((s) => (flags.has('-w') ? s.padStart(width, '0') : s)).join(values.get('-s') ?? '\n')}\n` : '');
  return 0;
}

function basename(args: readonly string[], io: CommandIo): number {
  const [path, suffix] = args;
  if (path === undefined) {
    io.err('basename: missing operand\n');
    return 1;
  }
  const base = posix.basename(path) || (path.startsWith('/') ? '/' : '');
  io.out(`${suffix && base !== suffix && base.endsWith(suffix) ? base.slice(0, -suffix.length) : base}\n`);
  return 0;
}

function dirname(args: readonly string[], io: CommandIo): number {
  if (args[0] === undefined) {
    io.err('dirname: missing operand\n');
    return 1;
  }
  io.out(`${posix.dirname(args[0])}\n`);
  return 0;
}

class ExprError extends Error {}

/** `expr`: integer arithmetic, comparisons, `:` matching, `length`, `&` and `|`. */
function expr(args: readonly string[], io: CommandIo): number {
  let at = 0;
  const integer = (v: string): bigint => {
    if (!/^-?\d+$/.test(v)) throw new ExprError('non-integer argument');
    return BigInt(v);
  };
  const primary = (): string => {
    const t = args[at++];
    if (t === undefined) throw new ExprError('syntax error');
    if (t === '(') {
      const v = or();
      if (args[at++] !== ')') throw new ExprError('syntax error');
      return v;
    }
    if (t === 'length') return String(primary().length);
    return t;
  };
  const match = (): string => {
    let v = primary();
    while (args[at] === ':') {
      at++;
      const re = new RegExp(`^(?:${primary().replace(/\\([(){}|+?])/g, '$1')})`);
      const m = re.exec(v);
      v = m ? (m[1] ?? String(m[0].length)) : re.source.includes('(') ? '' : '0';
    }
    return v;
  };
  const arithmetic = (next: () => string, ops: string[]): string => {
    let v = next();
    while (ops.includes(args[at] ?? '')) {
      const op = args[at++]!;
      const [a, b] = [integer(v), integer(next())];
      if ((op === '/' || op === '%') && b === 0n) throw new ExprError('division by zero');
      v = String(op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b);
    }
    return v;
  };
  const mul = (): string => arithmetic(match, ['*', '/', '%']);
  const add = (): string => arithmetic(mul, ['+', '-']);
  const compare = (): string => {
    let v = add();
    while (['=', '!=', '<', '<=', '>', '>='].includes(args[at] ?? '')) {
      const op = args[at++]!;
      const r = add();
      const numeric = /^-?\d+$/.test(v) && /^-?\d+$/.test(r);
      const c = numeric ? Number(BigInt(v) - BigInt(r)) : v < r ? -1 : v > r ? 1 : 0;
      v = (op === '=' ? c === 0 : op === '!=' ? c !== 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0) ? '1' : '0';
    }
    return v;
  };
  const truthy = (v: string): boolean => v !== '' && v !== '0';
  const and = (): string => {
    let v = compare();
    while (args[at] === '&') {
      at++;
      const r = compare();
      v = truthy(v) && truthy(r) ? v : '0';
    }
    return v;
  };
  function or(): string {
    let v = and();
    while (args[at] === '|') {
      at++;
      const r = and();
      v = truthy(v) ? v : truthy(r) ? r : '0';
    }
    return v;
  }
  try {
    const v = or();
    if (at < args.length) throw new ExprError('syntax error');
    io.out(`${v}\n`);
    return truthy(v) ? 0 : 1;
  } catch (err) {
    if (!(err instanceof ExprError)) throw err;
    io.err(`expr: ${err.message}\n`);
    return 2;
  }
}

function cut(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const { values, operands } = options(args, ['-d', '-f', '-c']);
  return linesOf(operands, io, ctx, 'cut').then((lines) => {
    if (!lines) return 1;
    const list = values.get('-f') ?? values.get('-c');
    if (!list) {
      io.err('cut: you must specify a list of bytes, characters, or fields\n');
      return 1;
    }
    const wanted = (n: number): boolean => list.split(',').some((r) => {
      const [a, b] = r.includes('-') ? r.split('-') : [r, r];
      return n >= (a ? Number(a) : 1) && n <= (b ? Number(b) : Infinity);
    });
    const delimiter = values.get('-d') ?? '\t';
    for (const line of lines) {
      const pieces = values.has('-c') ? [...line] : line.split(delimiter);
      const kept = pieces.filter((_, k) => wanted(k + 1));
      io.out(`${values.has('-c') ? kept.join('') : pieces.length === 1 ? line : kept.join(delimiter)}\n`);
    }
    return 0;
  });
}

function tr(args: readonly string[], io: CommandIo): Promise<number> {
  const { flags, operands } = options(args);
  const expand = (set: string): string[] => {
    const chars = [...unescape(set.replace(/\[:(\w+):\]/g, (m, c: string) => ({ lower: 'a-z', upper: 'A-Z', digit: '0-9', space: ' \\t\\n\\r\\f\\v', alpha: 'a-zA-Z', alnum: 'a-zA-Z0-9' } as Record<string, string>)[c] ?? m))];
    const out: string[] = [];
    for (let k = 0; k < chars.length; k++) {
      if (chars[k + 1] === '-' && chars[k + 2] !== undefined) {
        for (let c = chars[k]!.charCodeAt(0); c <= chars[k + 2]!.charCodeAt(0); c++) out.push(String.fromCharCode(c));
        k += 2;
      } else out.push(chars[k]!);
    }
    return out;
  };
  return io.input().then((data) => {
    const from = expand(operands[0] ?? '');
    const to = expand(operands[1] ?? '');
    let text = data.toString('utf8');
    if (flags.has('-d')) text = [...text].filter((c) => !from.includes(c)).join('');
    else text = [...text].map((c) => (from.includes(c) ? (to[Math.min(from.indexOf(c), to.length - 1)] ?? c) : c)).join('');
    if (flags.has('-s')) text = text.replace(/(.)\1+/gs, (m, c: string) => ((to.length ? to : from).includes(c) ? c : m));
    io.out(text);
    return 0;
  });
}

export const TEXT_COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['printf', printf],
  ['seq', seq],
  ['basename', basename],
  ['dirname', dirname],
  ['expr', expr],
  ['cut', cut],
  ['tr', tr],
]);
