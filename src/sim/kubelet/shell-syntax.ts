/** How `${name<op>word}` treats its parameter. */
export type ParamOp = '-' | ':-' | '=' | ':=' | '+' | ':+' | '?' | ':?' | '#' | '##' | '%' | '%%' | 'length';

/** One piece of a shell word. `quoted` parts are neither field-split nor globbed. */
export type WordPart =
  | { readonly kind: 'text'; readonly text: string; readonly quoted: boolean }
  | { readonly kind: 'param'; readonly name: string; readonly op?: ParamOp; readonly arg?: Word; readonly quoted: boolean }
  | { readonly kind: 'command'; readonly list: List; readonly quoted: boolean }
  | { readonly kind: 'arith'; readonly expr: Word; readonly quoted: boolean };

export type Word = readonly WordPart[];

export type RedirectOp = '>' | '>>' | '<' | '>&' | '<&' | '&>' | '<<';

export interface Redirect {
  readonly fd: number;
  readonly op: RedirectOp;
  /** The file, the descriptor, or for `<<` the here-document's text. */
  readonly target: Word;
}

export interface Assignment {
  readonly name: string;
  readonly value: Word;
}

export type Command =
  | { readonly kind: 'simple'; readonly assignments: readonly Assignment[]; readonly words: readonly Word[]; readonly redirects: readonly Redirect[] }
  | { readonly kind: 'group'; readonly body: List; readonly subshell: boolean; readonly redirects: readonly Redirect[] }
  | { readonly kind: 'if'; readonly branches: readonly { readonly condition: List; readonly body: List }[]; readonly otherwise?: List; readonly redirects: readonly Redirect[] }
  | { readonly kind: 'loop'; readonly until: boolean; readonly condition: List; readonly body: List; readonly redirects: readonly Redirect[] }
  | { readonly kind: 'for'; readonly name: string; readonly items?: readonly Word[]; readonly body: List; readonly redirects: readonly Redirect[] }
  | { readonly kind: 'case'; readonly subject: Word; readonly arms: readonly { readonly patterns: readonly Word[]; readonly body: List }[]; readonly redirects: readonly Redirect[] }
  | { readonly kind: 'function'; readonly name: string; readonly body: Command };

/** Commands joined by `|`; `!` inverts the status. */
export interface Pipeline {
  readonly negated: boolean;
  readonly commands: readonly Command[];
}

/** Pipelines joined by `&&` and `||`, evaluated left to right. */
export interface AndOr {
  readonly pipelines: readonly Pipeline[];
  readonly operators: readonly ('&&' | '||')[];
}

export type List = readonly AndOr[];

export class ShellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellSyntaxError';
  }
}

type Op = ';' | '\n' | '&&' | '||' | '|' | '&' | '(' | ')' | ';;';

type Token =
  | { readonly kind: 'word'; readonly word: Word; readonly raw: string }
  | { readonly kind: 'op'; readonly op: Op }
  | { kind: 'redirect'; readonly fd: number; readonly op: RedirectOp; heredoc?: Word };

interface PendingHeredoc {
  readonly token: Extract<Token, { kind: 'redirect' }>;
  readonly delimiter: string;
  readonly stripTabs: boolean;
  readonly literal: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '$', '!', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
const WORD_END = new Set([' ', '\t', '\n', ';', '&', '|', '(', ')', '<', '>']);

/** The end (exclusive) of a construct opened just before `from`, skipping quotes and nested openings. */
function matching(s: string, from: number, open: string, close: string): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') i++;
    else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) break;
      i = end;
    } else if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === open) depth++;
    else if (c === close && --depth === 0) return i;
  }
  throw new ShellSyntaxError(`syntax error: missing '${close}'`);
}

/**
 * Turns script text into words and operators. Expansions (`$x`, `${x:-y}`, `$(…)`, backquotes,
 * `$((…))`) are parsed here, so quoting decides once what is split and globbed.
 */
class Lexer {
  private i = 0;
  private readonly tokens: Token[] = [];
  private pending: PendingHeredoc[] = [];

  constructor(private readonly s: string) {}

  run(): Token[] {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i]!;
      if (c === ' ' || c === '\t') this.i++;
      else if (c === '\\' && s[this.i + 1] === '\n') this.i += 2;
      else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (c === '\n') {
        this.i++;
        this.tokens.push({ kind: 'op', op: '\n' });
        this.readHeredocs();
      } else if (c === ';') {
        const double = s[this.i + 1] === ';';
        this.i += double ? 2 : 1;
        this.tokens.push({ kind: 'op', op: double ? ';;' : ';' });
      } else if (c === '&' || c === '|') {
        if (s[this.i + 1] === c) {
          this.i += 2;
          this.tokens.push({ kind: 'op', op: c === '&' ? '&&' : '||' });
        } else if (c === '&' && s[this.i + 1] === '>') {
          this.i += 2;
          this.tokens.push({ kind: 'redirect', fd: 1, op: '&>' });
        } else {
          this.i++;
          this.tokens.push({ kind: 'op', op: c });
        }
      } else if (c === '(' || c === ')') {
        this.i++;
        this.tokens.push({ kind: 'op', op: c });
      } else if (c === '<' || c === '>') {
        this.redirect(c === '<' ? 0 : 1);
      } else {
        const start = this.i;
        const word = this.word();
        const raw = s.slice(start, this.i);
        if (/^\d+$/.test(raw) && (s[this.i] === '<' || s[this.i] === '>')) this.redirect(Number(raw));
        else this.tokens.push({ kind: 'word', word, raw });
      }
    }
    if (this.pending.length) this.readHeredocs();
    return this.tokens;
  }

  private redirect(fd: number): void {
    const s = this.s;
    const two = s.slice(this.i, this.i + 2);
    let op: RedirectOp;
    if (two === '>>') op = '>>';
    else if (two === '>&') op = '>&';
    else if (two === '<&') op = '<&';
    else if (two === '<<') op = '<<';
    else op = s[this.i] === '<' ? '<' : '>';
    this.i += op.length;
    // `>|` and `<>` open the file as `>` and `<` do here.
    if ((op === '>' && s[this.i] === '|') || (op === '<' && s[this.i] === '>')) this.i++;
    const token: Extract<Token, { kind: 'redirect' }> = { kind: 'redirect', fd, op };
    this.tokens.push(token);
    if (op !== '<<') return;
    const stripTabs = s[this.i] === '-';
    if (stripTabs) this.i++;
    while (s[this.i] === ' ' || s[this.i] === '\t') this.i++;
    const start = this.i;
    this.word();
    const raw = s.slice(start, this.i);
    if (!raw) throw new ShellSyntaxError('syntax error: unexpected newline');
    this.pending.push({ token, delimiter: raw.replace(/["'\\]/g, ''), stripTabs, literal: /["'\\]/.test(raw) });
  }

  private readHeredocs(): void {
    for (const h of this.pending) {
      const lines: string[] = [];
      for (;;) {
        if (this.i >= this.s.length) break;
        let end = this.s.indexOf('\n', this.i);
        if (end < 0) end = this.s.length;
        let line = this.s.slice(this.i, end);
        this.i = end + 1;
        if (h.stripTabs) line = line.replace(/^\t+/, '');
        if (line === h.delimiter) break;
        lines.push(`${line}\n`);
      }
      const body = lines.join('');
      h.token.heredoc = h.literal ? [{ kind: 'text', text: body, quoted: true }] : parseDoubleQuoted(body, true);
    }
    this.pending = [];
  }

  /** A bare word from the current position, up to an unquoted blank or operator (or to the end of the text, for the word of `${x:-word}`). */
  word(toEnd = false): WordPart[] {
    const s = this.s;
    const parts: WordPart[] = [];
    let bare = '';
    const flush = (): void => {
      if (bare) parts.push({ kind: 'text', text: bare, quoted: false });
      bare = '';
    };
    while (this.i < s.length && (toEnd || !WORD_END.has(s[this.i]!))) {
      const c = s[this.i]!;
      if (c === '\\') {
        if (s[this.i + 1] !== '\n') {
          flush();
          parts.push({ kind: 'text', text: s[this.i + 1] ?? '', quoted: true });
        }
        this.i += 2;
      } else if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        if (end < 0) throw new ShellSyntaxError('syntax error: unterminated quoted string');
        flush();
        parts.push({ kind: 'text', text: s.slice(this.i + 1, end), quoted: true });
        this.i = end + 1;
      } else if (c === '"') {
        let end = this.i + 1;
        for (; end < s.length && s[end] !== '"'; end++) {
          if (s[end] === '\\') end++;
          else if (s[end] === '$' && s[end + 1] === '(') end = matching(s, end + 2, '(', ')');
          else if (s[end] === '$' && s[end + 1] === '{') end = matching(s, end + 2, '{', '}');
          else if (s[end] === '`') end = closingBackquote(s, end + 1);
        }
        if (end >= s.length) throw new ShellSyntaxError('syntax error: unterminated quoted string');
        flush();
        const inner = parseDoubleQuoted(s.slice(this.i + 1, end), false);
        parts.push(...(inner.length ? inner : [{ kind: 'text' as const, text: '', quoted: true }]));
        this.i = end + 1;
      } else if (c === '$' || c === '`') {
        const expansion = readExpansion(s, this.i, false);
        if (expansion) {
          flush();
          parts.push(expansion.part);
          this.i = expansion.end;
        } else {
          bare += c;
          this.i++;
        }
      } else {
        bare += c;
        this.i++;
      }
    }
    flush();
    return parts;
  }
}

function closingBackquote(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '`') return i;
  }
  throw new ShellSyntaxError('syntax error: unterminated quoted string');
}

/** `$…` or a backquote at `at`: the expansion and where it ends, or undefined for a lone `$`. */
function readExpansion(s: string, at: number, quoted: boolean): { part: WordPart; end: number } | undefined {
  if (s[at] === '`') {
    const end = closingBackquote(s, at + 1);
    const inner = s.slice(at + 1, end).replace(/\\([`$\\])/g, '$1');
    return { part: { kind: 'command', list: parseScript(inner), quoted }, end: end + 1 };
  }
  const next = s[at + 1];
  if (next === '(' && s[at + 2] === '(') {
    const end = matching(s, at + 3, '(', ')');
    if (s[end + 1] === ')') return { part: { kind: 'arith', expr: parseDoubleQuoted(s.slice(at + 3, end), true), quoted }, end: end + 2 };
  }
  if (next === '(') {
    const end = matching(s, at + 2, '(', ')');
    return { part: { kind: 'command', list: parseScript(s.slice(at + 2, end)), quoted }, end: end + 1 };
  }
  if (next === '{') {
    const end = matching(s, at + 2, '{', '}');
    return { part: braceParameter(s.slice(at + 2, end), quoted), end: end + 1 };
  }
  const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(at + 1))?.[0];
  if (name) return { part: { kind: 'param', name, quoted }, end: at + 1 + name.length };
  if (next !== undefined && SPECIAL_PARAMS.has(next)) return { part: { kind: 'param', name: next, quoted }, end: at + 2 };
  return undefined;
}

/** The inside of `${…}`. */
function braceParameter(body: string, quoted: boolean): WordPart {
  if (body.length > 1 && body.startsWith('#')) {
    const name = body.slice(1);
    if (NAME.test(name) || SPECIAL_PARAMS.has(name)) return { kind: 'param', name, op: 'length', quoted };
  }
  const m = /^([A-Za-z_][A-Za-z0-9_]*|[@*#?$!\-0-9])(:?[-=+?]|##?|%%?)?/.exec(body);
  if (!m) throw new ShellSyntaxError(`\${${body}}: bad substitution`);
  const [whole, name, op] = m as unknown as [string, string, ParamOp | undefined];
  if (!op) {
    if (whole.length !== body.length) throw new ShellSyntaxError(`\${${body}}: bad substitution`);
    return { kind: 'param', name, quoted };
  }
  const argText = body.slice(whole.length);
  return { kind: 'param', name, op, arg: quoted ? parseDoubleQuoted(argText, false, true) : new Lexer(argText).word(true), quoted };
}

/**
 * The inside of double quotes (or an unquoted here-document): `$` and backquote expansions, and
 * backslash escaping only `$`, backquote, `"`, `\` and newline (not `"` in a here-document).
 * In the word of a quoted `"${x:-word}"`, inner double quotes are removed (`dropQuotes`).
 */
function parseDoubleQuoted(s: string, heredoc: boolean, dropQuotes = false): WordPart[] {
  const parts: WordPart[] = [];
  let text = '';
  const flush = (): void => {
    if (text) parts.push({ kind: 'text', text, quoted: true });
    text = '';
  };
  const escapable = heredoc ? ['$', '`', '\\', '\n'] : ['$', '`', '"', '\\', '\n'];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && escapable.includes(s[i + 1] ?? '')) {
      if (s[i + 1] !== '\n') text += s[i + 1];
      i++;
    } else if (c === '"' && dropQuotes) {
      continue;
    } else if (c === '$' || c === '`') {
      const expansion = readExpansion(s, i, true);
      if (!expansion) {
        text += c;
        continue;
      }
      flush();
      parts.push(expansion.part);
      i = expansion.end - 1;
    } else {
      text += c;
    }
  }
  flush();
  return parts;
}

const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', '{', '}', '!']);

/** Builds the syntax tree from the tokens, POSIX grammar for the constructs scripts in manifests use. */
class Parser {
  private at = 0;

  constructor(private readonly tokens: Token[]) {}

  script(): List {
    const list = this.list(() => false);
    const t = this.peek();
    if (t) throw this.unexpected(t);
    return list;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.at + offset];
  }

  private reserved(t: Token | undefined): string | undefined {
    if (t?.kind !== 'word' || t.word.length !== 1) return undefined;
    const p = t.word[0]!;
    return p.kind === 'text' && !p.quoted && RESERVED.has(p.text) ? p.text : undefined;
  }

  private isOp(t: Token | undefined, ...ops: Op[]): boolean {
    return t?.kind === 'op' && ops.includes(t.op);
  }

  private unexpected(t: Token | undefined, expecting?: string): ShellSyntaxError {
    if (!t) return new ShellSyntaxError(`syntax error: unexpected end of file${expecting ? ` (expecting "${expecting}")` : ''}`);
    const text = t.kind === 'word' ? t.raw : t.kind === 'op' ? (t.op === '\n' ? 'newline' : t.op) : t.op;
    return new ShellSyntaxError(`syntax error: unexpected "${text}"${expecting ? ` (expecting "${expecting}")` : ''}`);
  }

  private skipNewlines(): void {
    while (this.isOp(this.peek(), '\n')) this.at++;
  }

  private expectWord(word: string): void {
    this.skipNewlines();
    if (this.reserved(this.peek()) !== word) throw this.unexpected(this.peek(), word);
    this.at++;
  }

  /** And-or lists separated by `;` or newlines, until a token `stop` recognises (not consumed). */
  private list(stop: (t: Token) => boolean): List {
    const items: AndOr[] = [];
    for (;;) {
      this.skipNewlines();
      const t = this.peek();
      if (!t || stop(t) || this.isOp(t, ')', ';;')) return items;
      const r = this.reserved(t);
      if (r && ['then', 'else', 'elif', 'fi', 'do', 'done', 'esac', '}', 'in'].includes(r)) return items;
      items.push(this.andOr());
      const sep = this.peek();
      if (this.isOp(sep, ';', '\n')) this.at++;
      else if (this.isOp(sep, '&')) throw new ShellSyntaxError('background jobs (&) are not supported');
      else if (sep && !this.isOp(sep, ')', ';;') && !stop(sep) && !this.reserved(sep)) throw this.unexpected(sep);
    }
  }

  private compoundList(closer: string): List {
    const list = this.list((t) => this.reserved(t) === closer);
    if (!list.length) throw this.unexpected(this.peek(), closer);
    return list;
  }

  private andOr(): AndOr {
    const pipelines = [this.pipeline()];
    const operators: ('&&' | '||')[] = [];
    for (;;) {
      const t = this.peek();
      if (!this.isOp(t, '&&', '||')) break;
      this.at++;
      operators.push((t as { op: '&&' | '||' }).op);
      this.skipNewlines();
      pipelines.push(this.pipeline());
    }
    return { pipelines, operators };
  }

  private pipeline(): Pipeline {
    let negated = false;
    if (this.reserved(this.peek()) === '!') {
      negated = true;
      this.at++;
    }
    const commands = [this.command()];
    while (this.isOp(this.peek(), '|')) {
      this.at++;
      this.skipNewlines();
      commands.push(this.command());
    }
    return { negated, commands };
  }

  private command(): Command {
    const t = this.peek();
    if (!t) throw this.unexpected(t);
    if (this.isOp(t, '(')) {
      this.at++;
      const body = this.list(() => false);
      if (!this.isOp(this.peek(), ')')) throw this.unexpected(this.peek(), ')');
      if (!body.length) throw this.unexpected(this.peek());
      this.at++;
      return { kind: 'group', body, subshell: true, redirects: this.redirects() };
    }
    switch (this.reserved(t)) {
      case '{': {
        this.at++;
        const body = this.compoundList('}');
        this.expectWord('}');
        return { kind: 'group', body, subshell: false, redirects: this.redirects() };
      }
      case 'if':
        return this.ifClause();
      case 'while':
      case 'until': {
        this.at++;
        const condition = this.compoundList('do');
        this.expectWord('do');
        const body = this.compoundList('done');
        this.expectWord('done');
        return { kind: 'loop', until: this.reserved(t) === 'until', condition, body, redirects: this.redirects() };
      }
      case 'for':
        return this.forClause();
      case 'case':
        return this.caseClause();
      case undefined:
        break;
      default:
        throw this.unexpected(t);
    }
    if (t.kind === 'word' && t.word.length === 1 && t.word[0]!.kind === 'text' && !t.word[0]!.quoted && NAME.test(t.raw) && this.isOp(this.peek(1), '(') && this.isOp(this.peek(2), ')')) {
      this.at += 3;
      this.skipNewlines();
      return { kind: 'function', name: t.raw, body: this.command() };
    }
    return this.simple();
  }

  private ifClause(): Command {
    this.at++;
    const branches: { condition: List; body: List }[] = [];
    let otherwise: List | undefined;
    for (;;) {
      const condition = this.compoundList('then');
      this.expectWord('then');
      const body = this.list(() => false);
      if (!body.length) throw this.unexpected(this.peek());
      branches.push({ condition, body });
      const next = this.reserved(this.peek());
      this.at++;
      if (next === 'elif') continue;
      if (next === 'else') {
        otherwise = this.compoundList('fi');
        this.expectWord('fi');
      } else if (next !== 'fi') {
        this.at--;
        throw this.unexpected(this.peek(), 'fi');
      }
      break;
    }
    return { kind: 'if', branches, ...(otherwise ? { otherwise } : {}), redirects: this.redirects() };
  }

  private forClause(): Command {
    this.at++;
    const name = this.peek();
    if (name?.kind !== 'word' || !NAME.test(name.raw)) throw new ShellSyntaxError(`syntax error: bad for loop variable`);
    this.at++;
    let items: Word[] | undefined;
    this.skipNewlines();
    if (this.reserved(this.peek()) === 'in') {
      this.at++;
      items = [];
      for (let t = this.peek(); t?.kind === 'word'; t = this.peek()) {
        items.push(t.word);
        this.at++;
      }
      if (!this.isOp(this.peek(), ';', '\n')) throw this.unexpected(this.peek(), 'do');
      this.at++;
    } else if (this.isOp(this.peek(), ';')) {
      this.at++;
    }
    this.expectWord('do');
    const body = this.compoundList('done');
    this.expectWord('done');
    return { kind: 'for', name: name.raw, ...(items ? { items } : {}), body, redirects: this.redirects() };
  }

  private caseClause(): Command {
    this.at++;
    const subject = this.peek();
    if (subject?.kind !== 'word') throw this.unexpected(subject);
    this.at++;
    this.expectWord('in');
    const arms: { patterns: Word[]; body: List }[] = [];
    for (;;) {
      this.skipNewlines();
      if (this.reserved(this.peek()) === 'esac') {
        this.at++;
        break;
      }
      if (this.isOp(this.peek(), '(')) this.at++;
      const patterns: Word[] = [];
      for (;;) {
        const p = this.peek();
        if (p?.kind !== 'word') throw this.unexpected(p, ')');
        patterns.push(p.word);
        this.at++;
        if (this.isOp(this.peek(), '|')) this.at++;
        else break;
      }
      if (!this.isOp(this.peek(), ')')) throw this.unexpected(this.peek(), ')');
      this.at++;
      const body = this.list((t) => this.reserved(t) === 'esac');
      arms.push({ patterns, body });
      this.skipNewlines();
      if (this.isOp(this.peek(), ';;')) this.at++;
      else if (this.reserved(this.peek()) !== 'esac') throw this.unexpected(this.peek(), ';;');
    }
    return { kind: 'case', subject: subject.word, arms, redirects: this.redirects() };
  }

  private redirects(): Redirect[] {
    const out: Redirect[] = [];
    for (let r = this.redirect(); r; r = this.redirect()) out.push(r);
    return out;
  }

  private redirect(): Redirect | undefined {
    const t = this.peek();
    if (t?.kind !== 'redirect') return undefined;
    this.at++;
    if (t.op === '<<') return { fd: t.fd, op: '<<', target: t.heredoc ?? [] };
    const target = this.peek();
    if (target?.kind !== 'word') throw this.unexpected(target);
    this.at++;
    return { fd: t.fd, op: t.op, target: target.word };
  }

  private simple(): Command {
    const assignments: Assignment[] = [];
    const words: Word[] = [];
    const redirects: Redirect[] = [];
    for (;;) {
      const r = this.redirect();
      if (r) {
        redirects.push(r);
        continue;
      }
      const t = this.peek();
      if (t?.kind !== 'word') break;
      const first = t.word[0];
      const eq = first?.kind === 'text' && !first.quoted ? first.text.indexOf('=') : -1;
      if (!words.length && eq > 0 && NAME.test(first!.kind === 'text' ? first!.text.slice(0, eq) : '')) {
        const text = (first as { text: string }).text;
        const rest = text.slice(eq + 1);
        assignments.push({ name: text.slice(0, eq), value: [...(rest ? [{ kind: 'text' as const, text: rest, quoted: false }] : []), ...t.word.slice(1)] });
      } else {
        words.push(t.word);
      }
      this.at++;
    }
    if (!words.length && !assignments.length && !redirects.length) throw this.unexpected(this.peek());
    return { kind: 'simple', assignments, words, redirects };
  }
}

/**
 * Parses the `sh -c` language the embedded containers understand: simple commands with
 * assignments and redirections (here-documents too), pipelines, `&&`/`||`, `!`, `{ }`, `( )`,
 * `if`, `while`, `until`, `for`, `case`, functions, quoting, parameter expansion with its
 * `${x:-y}` forms, command substitution and arithmetic. Background jobs are refused.
 */
export function parseScript(script: string): List {
  return new Parser(new Lexer(script).run()).script();
}
