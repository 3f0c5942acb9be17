import { linesOf, type CommandContext, type CommandIo } from './shell-commands.js';

type Value = string | number;

type Expr =
  | { readonly kind: 'literal'; readonly value: Value }
  | { readonly kind: 'regex'; readonly re: RegExp }
  | { readonly kind: 'field'; readonly index: Expr }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'unary'; readonly op: string; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: string; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'assign'; readonly op: string; readonly target: Expr; readonly value: Expr }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[] };

type Stmt =
  | { readonly kind: 'print'; readonly args: readonly Expr[] }
  | { readonly kind: 'printf'; readonly args: readonly Expr[] }
  | { readonly kind: 'next' }
  | { readonly kind: 'exit'; readonly code?: Expr }
  | { readonly kind: 'if'; readonly condition: Expr; readonly then: readonly Stmt[]; readonly otherwise: readonly Stmt[] }
  | { readonly kind: 'expr'; readonly expr: Expr };

interface Rule {
  readonly pattern: 'BEGIN' | 'END' | Expr | undefined;
  readonly action: readonly Stmt[] | undefined;
}

class AwkSyntaxError extends Error {}

type Tok = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 're'; v: string } | { t: 'name'; v: string } | { t: 'op'; v: string } | { t: 'nl' };

const OPS = ['&&', '||', '==', '!=', '<=', '>=', '!~', '+=', '-=', '*=', '/=', '++', '--', '{', '}', '(', ')', ';', ',', '$', '!', '~', '<', '>', '+', '-', '*', '/', '%', '=', '?', ':'];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  const operandEnds = (): boolean => {
    const last = out[out.length - 1];
    return !!last && (last.t === 'num' || last.t === 'str' || last.t === 'name' || (last.t === 'op' && (last.v === ')' || last.v === '++' || last.v === '--')));
  };
  for (let i = 0; i < src.length;) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || (c === '\\' && src[i + 1] === '\n')) {
      i += c === '\\' ? 2 : 1;
    } else if (c === '\n') {
      out.push({ t: 'nl' });
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '"') {
      let s = '';
      for (i++; i < src.length && src[i] !== '"'; i++) {
        if (src[i] === '\\') {
          const e = src[++i]!;
          s += ({ n: '\n', t: '\t', '"': '"', '\\': '\\', '/': '/' } as Record<string, string>)[e] ?? `\\${e}`;
        } else s += src[i];
      }
      out.push({ t: 'str', v: s });
      i++;
    } else if (c === '/' && !operandEnds()) {
      let s = '';
      for (i++; i < src.length && src[i] !== '/'; i++) s += src[i] === '\\' && src[i + 1] === '/' ? src[++i] : src[i];
      out.push({ t: 're', v: s });
      i++;
    } else if (/[0-9.]/.test(c) && /^\.?\d/.test(src.slice(i, i + 2))) {
      const m = /^\d*\.?\d+(?:[eE][-+]?\d+)?|^\d+\.?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'name', v: m[0] });
      i += m[0].length;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new AwkSyntaxError(`unexpected character '${c}'`);
      out.push({ t: 'op', v: op });
      i += op.length;
    }
  }
  return out;
}

/** The awk people put in one-liners: patterns, print/printf, fields, NR/NF, comparisons, regexes, a few functions. */
function parse(src: string): Rule[] {
  const toks = lex(src);
  let at = 0;
  const peek = (): Tok | undefined => toks[at];
  const isOp = (v: string, t = peek()): boolean => t?.t === 'op' && t.v === v;
  const expectOp = (v: string): void => {
    if (!isOp(v)) throw new AwkSyntaxError(`expected '${v}'`);
    at++;
  };
  const skipNewlines = (): void => {
    while (peek()?.t === 'nl' || isOp(';')) at++;
  };
  const primary = (): Expr => {
    const t = toks[at++];
    if (!t) throw new AwkSyntaxError('unexpected end of program');
    if (t.t === 'num') return { kind: 'literal', value: t.v };
    if (t.t === 'str') return { kind: 'literal', value: t.v };
    if (t.t === 're') return { kind: 'regex', re: new RegExp(t.v) };
    if (t.t === 'name') {
      if (isOp('(') && ['length', 'substr', 'tolower', 'toupper', 'index', 'int'].includes(t.v)) {
        at++;
        const args: Expr[] = [];
        while (!isOp(')')) {
          args.push(ternary());
          if (isOp(',')) at++;
        }
        at++;
        return { kind: 'call', name: t.v, args };
      }
      if (t.v === 'length') return { kind: 'call', name: 'length', args: [] };
      return { kind: 'var', name: t.v };
    }
    if (t.t === 'op' && t.v === '$') return { kind: 'field', index: primary() };
    if (t.t === 'op' && t.v === '(') {
      const e = ternary();
      expectOp(')');
      return e;
    }
    if (t.t === 'op' && (t.v === '!' || t.v === '-' || t.v === '+')) return { kind: 'unary', op: t.v, operand: primary() };
    throw new AwkSyntaxError('syntax error');
  };
  const postfix = (): Expr => {
    const e = primary();
    if (isOp('++') || isOp('--')) {
      const op = (toks[at++] as { v: string }).v;
      return { kind: 'assign', op: op === '++' ? '+=' : '-=', target: e, value: { kind: 'literal', value: 1 } };
    }
    return e;
  };
  const level = (next: () => Expr, ops: string[]) => (): Expr => {
    let left = next();
    for (let t = peek(); t?.t === 'op' && ops.includes(t.v); t = peek()) {
      at++;
      left = { kind: 'binary', op: t.v, left, right: next() };
    }
    return left;
  };
  const mul = level(postfix, ['*', '/', '%']);
  const add = level(mul, ['+', '-']);
  const startsOperand = (t: Tok | undefined): boolean => !!t && (t.t === 'num' || t.t === 'str' || t.t === 'name' || (t.t === 'op' && (t.v === '$' || t.v === '(' || t.v === '!')));
  const concat = (): Expr => {
    let left = add();
    while (startsOperand(peek()) && !(peek()?.t === 'name' && ['in'].includes((peek() as { v: string }).v))) left = { kind: 'binary', op: ' ', left, right: add() };
    return left;
  };
  const compare = level(concat, ['<', '<=', '>', '>=', '==', '!=']);
  const match = level(compare, ['~', '!~']);
  const and = level(match, ['&&']);
  const or = level(and, ['||']);
  function ternary(): Expr {
    const e = or();
    if (!isOp('?')) return e;
    at++;
    const yes = ternary();
    expectOp(':');
    const no = ternary();
    return { kind: 'call', name: '?:', args: [e, yes, no] };
  }
  const expression = (): Expr => {
    const e = ternary();
    const t = peek();
    if (t?.t === 'op' && ['=', '+=', '-=', '*=', '/='].includes(t.v)) {
      at++;
      return { kind: 'assign', op: t.v, target: e, value: expression() };
    }
    return e;
  };
  const exprList = (): Expr[] => {
    const list: Expr[] = [];
    while (peek() && peek()!.t !== 'nl' && !isOp(';') && !isOp('}')) {
      list.push(expression());
      if (isOp(',')) at++;
    }
    return list;
  };
  const block = (): Stmt[] => {
    expectOp('{');
    const stmts: Stmt[] = [];
    for (skipNewlines(); !isOp('}'); skipNewlines()) stmts.push(statement());
    at++;
    return stmts;
  };
  function statement(): Stmt {
    const t = peek();
    if (t?.t === 'name' && (t.v === 'print' || t.v === 'printf')) {
      at++;
      return { kind: t.v, args: exprList() };
    }
    if (t?.t === 'name' && t.v === 'next') {
      at++;
      return { kind: 'next' };
    }
    if (t?.t === 'name' && t.v === 'exit') {
      at++;
      const [code] = exprList();
      return code ? { kind: 'exit', code } : { kind: 'exit' };
    }
    if (t?.t === 'name' && t.v === 'if') {
      at++;
      expectOp('(');
      const condition = expression();
      expectOp(')');
      skipNewlines();
      const then = isOp('{') ? block() : [statement()];
      let save = at;
      skipNewlines();
      let otherwise: Stmt[] = [];
      if (peek()?.t === 'name' && (peek() as { v: string }).v === 'else') {
        at++;
        skipNewlines();
        otherwise = isOp('{') ? block() : [statement()];
        save = at;
      }
      at = save;
      return { kind: 'if', condition, then, otherwise };
    }
    if (isOp('{')) return { kind: 'if', condition: { kind: 'literal', value: 1 }, then: block(), otherwise: [] };
    return { kind: 'expr', expr: expression() };
  }
  const rules: Rule[] = [];
  for (skipNewlines(); at < toks.length; skipNewlines()) {
    const t = peek()!;
    let pattern: Rule['pattern'];
    if (t.t === 'name' && (t.v === 'BEGIN' || t.v === 'END')) {
      at++;
      pattern = t.v;
    } else if (!isOp('{')) pattern = expression();
    rules.push({ pattern, action: isOp('{') ? block() : undefined });
  }
  return rules;
}

const numeric = (v: Value): boolean => typeof v === 'number' || /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v);
const num = (v: Value): number => (typeof v === 'number' ? v : parseFloat(v) || 0);
const str = (v: Value): string => (typeof v === 'string' ? v : Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));
const truthy = (v: Value): boolean => (typeof v === 'number' ? v !== 0 : v !== '');

class Next {}
class Exit {
  constructor(readonly code: number) {}
}

export async function awk(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const vars = new Map<string, Value>([['FS', ' '], ['OFS', ' '], ['ORS', '\n'], ['NR', 0], ['NF', 0]]);
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-F') vars.set('FS', args[++i] ?? ' ');
    else if (a.startsWith('-F')) vars.set('FS', a.slice(2));
    else if (a === '-v') {
      const [k, ...v] = (args[++i] ?? '').split('=');
      vars.set(k!, v.join('='));
    } else break;
  }
  const source = args[i];
  if (source === undefined) {
    io.err('usage: awk [-F fs][-v var=value][prog | -f progfile][file ...]\n');
    return 2;
  }
  let rules: Rule[];
  try {
    rules = parse(source);
  } catch (err) {
    if (!(err instanceof AwkSyntaxError)) throw err;
    io.err(`awk: cmd. line:1: ${err.message}\n`);
    return 2;
  }
  let fields: string[] = [''];
  const split = (line: string): void => {
    const fs = str(vars.get('FS')!);
    const parts = fs === ' ' ? line.trim().split(/[ \t\n]+/).filter(Boolean) : line.split(fs.length === 1 ? fs : new RegExp(fs));
    fields = [line, ...parts];
    vars.set('NF', parts.length);
  };
  const evaluate = (e: Expr): Value => {
    switch (e.kind) {
      case 'literal': return e.value;
      case 'regex': return e.re.test(fields[0]!) ? 1 : 0;
      case 'field': return fields[num(evaluate(e.index))] ?? '';
      case 'var': return vars.get(e.name) ?? '';
      case 'unary': {
        const v = evaluate(e.operand);
        return e.op === '!' ? (truthy(v) ? 0 : 1) : e.op === '-' ? -num(v) : num(v);
      }
      case 'assign': {
        const current = evaluate(e.target);
        const v = evaluate(e.value);
        const next = e.op === '=' ? v : e.op === '+=' ? num(current) + num(v) : e.op === '-=' ? num(current) - num(v) : e.op === '*=' ? num(current) * num(v) : num(current) / num(v);
        if (e.target.kind === 'var') vars.set(e.target.name, next);
        else if (e.target.kind === 'field') {
          fields[num(evaluate(e.target.index))] = str(next);
          fields[0] = fields.slice(1).join(str(vars.get('OFS')!));
        }
        return next;
      }
      case 'call': {
        const a = e.args;
        switch (e.name) {
          case '?:': return truthy(evaluate(a[0]!)) ? evaluate(a[1]!) : evaluate(a[2]!);
          case 'length': return str(a[0] ? evaluate(a[0]) : fields[0]!).length;
          case 'substr': {
            const s = str(evaluate(a[0]!));
            const start = Math.max(1, Math.round(num(evaluate(a[1]!))));
            return a[2] ? s.substr(start - 1, Math.round(num(evaluate(a[2])))) : s.slice(start - 1);
          }
          case 'index': return str(evaluate(a[0]!)).indexOf(str(evaluate(a[1]!))) + 1;
          case 'tolower': return str(evaluate(a[0]!)).toLowerCase();
          case 'toupper': return str(evaluate(a[0]!)).toUpperCase();
          default: return Math.trunc(num(evaluate(a[0]!)));
        }
      }
      case 'binary': {
        if (e.op === '&&') return truthy(evaluate(e.left)) && truthy(evaluate(e.right)) ? 1 : 0;
        if (e.op === '||') return truthy(evaluate(e.left)) || truthy(evaluate(e.right)) ? 1 : 0;
        if (e.op === '~' || e.op === '!~') {
          const re = e.right.kind === 'regex' ? e.right.re : new RegExp(str(evaluate(e.right)));
          return re.test(str(evaluate(e.left))) === (e.op === '~') ? 1 : 0;
        }
        const l = evaluate(e.left);
        const r = evaluate(e.right);
        switch (e.op) {
          case ' ': return str(l) + str(r);
          case '+': return num(l) + num(r);
          case '-': return num(l) - num(r);
          case '*': return num(l) * num(r);
          case '/': return num(l) / num(r);
          case '%': return num(l) % num(r);
        }
        const c = numeric(l) && numeric(r) ? num(l) - num(r) : str(l) < str(r) ? -1 : str(l) > str(r) ? 1 : 0;
        return (e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : e.op === '>=' ? c >= 0 : e.op === '==' ? c === 0 : c !== 0) ? 1 : 0;
      }
    }
  };
  const run = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      switch (s.kind) {
        case 'print':
          io.out(`${(s.args.length ? s.args.map((a) => str(evaluate(a))) : [fields[0]!]).join(str(vars.get('OFS')!))}${str(vars.get('ORS')!)}`);
          break;
        case 'printf': {
          const [format, ...rest] = s.args.map((a) => str(evaluate(a)));
          let k = 0;
          io.out((format ?? '').replace(/%(-?\d*)(?:\.(\d+))?([sdifgx%])/g, (_m, w: string, p: string | undefined, c: string) => {
            if (c === '%') return '%';
            const v = rest[k++] ?? '';
            const text = c === 's' ? v : c === 'd' || c === 'i' ? String(Math.trunc(num(v))) : c === 'x' ? Math.trunc(num(v)).toString(16) : num(v).toFixed(Number(p ?? 6));
            const width = Number(w || 0);
            return width < 0 ? text.padEnd(-width) : text.padStart(width);
          }).replace(/\\n/g, '\n'));
          break;
        }
        case 'next': throw new Next();
        case 'exit': throw new Exit(s.code ? num(evaluate(s.code)) : 0);
        case 'if':
          run(truthy(evaluate(s.condition)) ? s.then : s.otherwise);
          break;
        default:
          evaluate(s.expr);
      }
    }
  };
  const fire = (phase: 'BEGIN' | 'END' | undefined): void => {
    for (const r of rules) {
      if (phase ? r.pattern !== phase : r.pattern === 'BEGIN' || r.pattern === 'END') continue;
      if (!phase && r.pattern && !truthy(evaluate(r.pattern as Expr))) continue;
      if (r.action) run(r.action);
      else io.out(`${fields[0]}${str(vars.get('ORS')!)}`);
    }
  };
  try {
    fire('BEGIN');
    if (rules.some((r) => r.pattern !== 'BEGIN')) {
      const lines = await linesOf(args.slice(i + 1), io, ctx, 'awk');
      if (!lines) return 2;
      for (const line of lines) {
        vars.set('NR', num(vars.get('NR')!) + 1);
        split(line);
        try {
          fire(undefined);
        } catch (err) {
          if (!(err instanceof Next)) throw err;
        }
      }
    }
    fire('END');
    return 0;
  } catch (err) {
    if (err instanceof Exit) return err.code;
    throw err;
  }
}
