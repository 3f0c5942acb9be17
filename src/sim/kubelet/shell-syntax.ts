/** One piece of a shell word, kept with its quoting so expansion knows what to do with it. */
export interface WordPart {
  readonly text: string;
  /** single: literal; double: variables expand; bare: variables and globs expand. */
  readonly quoting: 'single' | 'double' | 'bare';
}

export type Word = readonly WordPart[];

export interface Redirect {
  readonly fd: number;
  readonly op: '>' | '>>' | '<' | '>&';
  readonly target: Word;
}

export interface SimpleCommand {
  readonly words: readonly Word[];
  readonly redirects: readonly Redirect[];
}

/** Commands joined by `|`. */
export type Pipeline = readonly SimpleCommand[];

export interface ListItem {
  /** How this pipeline depends on the previous one's status. */
  readonly connector: ';' | '&&' | '||';
  readonly pipeline: Pipeline;
}

export class ShellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellSyntaxError';
  }
}

type Token = { kind: 'word'; word: WordPart[] } | { kind: 'op'; op: ';' | '&&' | '||' | '|' } | { kind: 'redirect'; fd: number; op: Redirect['op'] };

/** Compound commands and substitutions are not interpreted; they are refused by name rather than misread. */
const UNSUPPORTED_WORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', '{', '}']);

function tokenize(script: string): Token[] {
  const tokens: Token[] = [];
  let word: WordPart[] | undefined;
  let bare = '';
  const flushBare = (): void => {
    if (bare) (word ??= []).push({ text: bare, quoting: 'bare' });
    bare = '';
  };
  const endWord = (): void => {
    flushBare();
    if (word) tokens.push({ kind: 'word', word });
    word = undefined;
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === '\\') {
      if (script[i + 1] === '\n') {
        i++;
        continue;
      }
      flushBare();
      (word ??= []).push({ text: script[i + 1] ?? '', quoting: 'single' });
      i++;
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end < 0) throw new ShellSyntaxError('unterminated quoted string');
      flushBare();
      (word ??= []).push({ text: script.slice(i + 1, end), quoting: 'single' });
      i = end;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < script.length && script[j] !== '"'; j++) {
        if (script[j] === '\\' && ['"', '\\', '$', '`'].includes(script[j + 1] ?? '')) text += script[++j];
        else text += script[j];
      }
      if (j >= script.length) throw new ShellSyntaxError('unterminated quoted string');
      flushBare();
      (word ??= []).push({ text, quoting: 'double' });
      i = j;
    } else if (c === '#' && !word && !bare) {
      while (i < script.length && script[i] !== '\n') i++;
      i--;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '\n' || c === ';') {
      endWord();
      tokens.push({ kind: 'op', op: ';' });
    } else if (c === '&' || c === '|') {
      endWord();
      if (script[i + 1] === c) {
        tokens.push({ kind: 'op', op: c === '&' ? '&&' : '||' });
        i++;
      } else if (c === '|') {
        tokens.push({ kind: 'op', op: '|' });
      } else if (script[i + 1] === '>') {
        tokens.push({ kind: 'redirect', fd: 1, op: '>' }, { kind: 'redirect', fd: 2, op: '>&' }, { kind: 'word', word: [{ text: '1', quoting: 'bare' }] });
        i++;
      } else {
        throw new ShellSyntaxError('background jobs (&) are not supported');
      }
    } else if (c === '>' || c === '<') {
      const fd = !word && /^\d$/.test(bare) ? Number(bare) : c === '<' ? 0 : 1;
      if (!word && /^\d$/.test(bare)) bare = '';
      endWord();
      if (c === '>' && script[i + 1] === '>') {
        tokens.push({ kind: 'redirect', fd, op: '>>' });
        i++;
      } else if (c === '>' && script[i + 1] === '&') {
        tokens.push({ kind: 'redirect', fd, op: '>&' });
        i++;
      } else {
        tokens.push({ kind: 'redirect', fd, op: c === '<' ? '<' : '>' });
      }
    } else if (c === '`' || (c === '$' && script[i + 1] === '(') || c === '(' || c === ')') {
      throw new ShellSyntaxError(c === '(' || c === ')' ? 'subshells are not supported' : 'command substitution is not supported');
    } else {
      bare += c;
    }
  }
  endWord();
  return tokens;
}

/** Parses the `sh -c` subset the embedded containers understand: simple commands, `;`, `&&`, `||`, `|`, quoting and redirections. */
export function parseScript(script: string): ListItem[] {
  const items: ListItem[] = [];
  let connector: ListItem['connector'] = ';';
  let pipeline: SimpleCommand[] = [];
  let words: Word[] = [];
  let redirects: Redirect[] = [];
  const tokens = tokenize(script);
  const endCommand = (what: string): void => {
    if (!words.length && !redirects.length) throw new ShellSyntaxError(`syntax error: unexpected "${what}"`);
    pipeline.push({ words, redirects });
    words = [];
    redirects = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'word') {
      const literal = t.word.length === 1 && t.word[0]!.quoting === 'bare' ? t.word[0]!.text : undefined;
      if (!words.length && literal !== undefined && UNSUPPORTED_WORDS.has(literal)) throw new ShellSyntaxError(`"${literal}" compound commands are not supported`);
      words.push(t.word);
    } else if (t.kind === 'redirect') {
      const target = tokens[i + 1];
      if (target?.kind !== 'word') throw new ShellSyntaxError('syntax error: redirection without a target');
      redirects.push({ fd: t.fd, op: t.op, target: target.word });
      i++;
    } else if (t.op === '|') {
      endCommand('|');
    } else {
      if (!words.length && !redirects.length && !pipeline.length) {
        if (t.op === ';') continue;
        throw new ShellSyntaxError(`syntax error: unexpected "${t.op}"`);
      }
      endCommand(t.op);
      items.push({ connector, pipeline });
      pipeline = [];
      connector = t.op;
    }
  }
  if (words.length || redirects.length) endCommand('end of file');
  else if (pipeline.length || connector !== ';') throw new ShellSyntaxError('syntax error: unexpected end of file');
  if (pipeline.length) items.push({ connector, pipeline });
  return items;
}
