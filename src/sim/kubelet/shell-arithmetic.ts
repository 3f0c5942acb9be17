/** A failed expansion: the shell prints it and the script stops, as a non-interactive POSIX shell does. */
export class ExpansionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpansionError';
  }
}

/** Where arithmetic reads and assigns its variables. */
export interface ArithmeticScope {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

type Tok = { kind: 'num'; value: bigint } | { kind: 'name'; name: string } | { kind: 'op'; op: string };

const OPERATORS = ['<<=', '>>=', '&&', '||', '==', '!=', '<=', '>=', '<<', '>>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '++', '--', '+', '-', '*', '/', '%', '<', '>', '=', '!', '~', '&', '|', '^', '?', ':', '(', ')'];

function tokens(expr: string): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < expr.length;) {
    const rest = expr.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|\d+)/.exec(rest);
    if (num) {
      const text = num[0];
      const value = /^0\d/.test(text) ? BigInt(`0o${text.slice(1)}`) : BigInt(text);
      out.push({ kind: 'num', value });
      i += text.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (name) {
      out.push({ kind: 'name', name: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (!op) throw new ExpansionError(`arithmetic syntax error`);
    out.push({ kind: 'op', op });
    i += op.length;
  }
  return out;
}

const BINARY: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

/** `$((…))` over 64-bit integers, with C's operators, assignments and the ternary. */
export function evaluateArithmetic(expr: string, scope: ArithmeticScope): bigint {
  const toks = tokens(expr);
  let at = 0;
  const peekOp = (): string | undefined => {
    const t = toks[at];
    return t?.kind === 'op' ? t.op : undefined;
  };
  const valueOf = (name: string): bigint => {
    const text = (scope.get(name) ?? '').trim();
    if (!text) return 0n;
    if (/^-?\d+$/.test(text)) return BigInt(text);
    return evaluateArithmetic(text, scope);
  };
  const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);
  const apply = (op: string, a: bigint, b: bigint): bigint => {
    switch (op) {
      case '+': return wrap(a + b);
      case '-': return wrap(a - b);
      case '*': return wrap(a * b);
      case '/':
      case '%':
        if (b === 0n) throw new ExpansionError('divide by zero');
        return op === '/' ? a / b : a % b;
      case '<<': return wrap(a << b);
      case '>>': return a >> b;
      case '<': return a < b ? 1n : 0n;
      case '>': return a > b ? 1n : 0n;
      case '<=': return a <= b ? 1n : 0n;
      case '>=': return a >= b ? 1n : 0n;
      case '==': return a === b ? 1n : 0n;
      case '!=': return a !== b ? 1n : 0n;
      case '&': return a & b;
      case '|': return a | b;
      case '^': return a ^ b;
      case '&&': return a && b ? 1n : 0n;
      case '||': return a || b ? 1n : 0n;
    }
    throw new ExpansionError('arithmetic syntax error');
  };
  const unary = (): bigint => {
    const t = toks[at];
    if (!t) throw new ExpansionError('arithmetic syntax error');
    if (t.kind === 'num') {
      at++;
      return t.value;
    }
    if (t.kind === 'name') {
      at++;
      const op = peekOp();
      if (op === '++' || op === '--') {
        at++;
        const old = valueOf(t.name);
        scope.set(t.name, String(wrap(old + (op === '++' ? 1n : -1n))));
        return old;
      }
      return valueOf(t.name);
    }
    at++;
    switch (t.op) {
      case '(': {
        const v = assignment();
        if (peekOp() !== ')') throw new ExpansionError('arithmetic syntax error');
        at++;
        return v;
      }
      case '-': return wrap(-unary());
      case '+': return unary();
      case '!': return unary() ? 0n : 1n;
      case '~': return ~unary();
      case '++':
      case '--': {
        const n = toks[at];
        if (n?.kind !== 'name') throw new ExpansionError('arithmetic syntax error');
        at++;
        const v = wrap(valueOf(n.name) + (t.op === '++' ? 1n : -1n));
        scope.set(n.name, String(v));
        return v;
      }
    }
    throw new ExpansionError('arithmetic syntax error');
  };
  const binary = (minPrecedence: number): bigint => {
    let left = unary();
    for (;;) {
      const op = peekOp();
      const p = op === undefined ? undefined : BINARY[op];
      if (p === undefined || p < minPrecedence) return left;
      at++;
      const right = binary(p + 1);
      left = apply(op!, left, right);
    }
  };
  const ternary = (): bigint => {
    const condition = binary(1);
    if (peekOp() !== '?') return condition;
    at++;
    const yes = assignment();
    if (peekOp() !== ':') throw new ExpansionError('arithmetic syntax error');
    at++;
    const no = assignment();
    return condition ? yes : no;
  };
  const assignment = (): bigint => {
    const t = toks[at];
    const op = toks[at + 1]?.kind === 'op' ? (toks[at + 1] as { op: string }).op : undefined;
    if (t?.kind === 'name' && op && /^([-+*/%&|^]|<<|>>)?=$/.test(op) && op !== '==') {
      at += 2;
      const right = assignment();
      const v = op === '=' ? right : apply(op.slice(0, -1), valueOf(t.name), right);
      scope.set(t.name, String(v));
      return v;
    }
    return ternary();
  };
  if (!toks.length) return 0n;
  const result = assignment();
  if (at !== toks.length) throw new ExpansionError('arithmetic syntax error');
  return result;
}
