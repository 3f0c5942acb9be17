import { Composer, Lexer, LineCounter, Parser, isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { Alias, CST, Document, Pair, YAMLMap, Node as YamlNode } from 'yaml';
import type { SourceIssue } from '../core/errors.js';
import { formatPath, parsePath, type PathSegment } from './path.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface LocateOptions {
  /** Point at the key of the last segment instead of its value (unknown keys, duplicate keys). */
  readonly key?: boolean;
  /** A column offset into the value's text, for errors inside a check string. */
  readonly offset?: number;
}

export type SourceRead = { readonly source: YamlSource; readonly issues: readonly SourceIssue[] } | { readonly source?: undefined; readonly issues: readonly SourceIssue[] };

/** Anchors and aliases are resolved, but a document may not expand into more than this many aliases. */
const MAX_ALIAS_COUNT = 100;

/** A file may hold this many aliases: when the yaml package expands them, it looks some up through the whole document. */
export const MAX_ALIASES = 100;

/**
 * Lists and mappings may nest this deep (the shipped experiments nest 7 deep). Deeper text is
 * refused while it is parsed: the yaml package would otherwise spend seconds and gigabytes on a
 * file of `[[[[…`, and every later step walks the value recursively.
 */
export const MAX_NESTING = 64;

/**
 * One experiment file as YAML: its plain value for the schema and, for every dotted path, where it
 * stands in the text (1-based line and column) so every message can name file:line:column.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly text: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly aliasTargets: ReadonlyMap<Alias, YamlNode>,
    readonly value: unknown,
  ) {}

  private readonly pairsByKey = new WeakMap<YAMLMap, Map<string, Pair>>();

  /**
   * Reads YAML text. `source` is absent when the text cannot be an experiment at all (syntax errors,
   * several documents, empty, not a mapping); duplicate keys are reported but still yield a source,
   * so the schema can report the rest of the file's problems too.
   */
  static read(text: string, file: string): SourceRead {
    const lines = new LineCounter();
    const at = (offset: number | undefined): Position => positionOf(lines, offset);
    const issue = (pos: Position, path: string, message: string): SourceIssue => ({ file, line: pos.line, column: pos.column, path, message });

    const tokens = parseTokens(text, lines);
    if (!Array.isArray(tokens)) return { issues: [issue(at(tokens.tooDeepAt), '', TOO_DEEP_MESSAGE)] };
    // Duplicate keys are found by ShapeCheck: the yaml package's own check compares each key with every earlier one.
    const docs = Array.from(new Composer({ uniqueKeys: false, logLevel: 'silent' }).compose(tokens));
    if (docs.length === 0) return { issues: [issue(at(0), '', EMPTY_MESSAGE)] };
    const issues: SourceIssue[] = [];
    const doc = docs[0]!;
    for (const extra of docs.slice(1)) {
      issues.push(issue(at(extra.range[0]), '', 'a file holds one experiment, but this is a second YAML document (after "---"); put each experiment in its own file'));
    }
    const shape = new ShapeCheck();
    shape.walk(doc.contents, []);
    let fatal = issues.length > 0;
    for (const err of doc.errors) {
      fatal = true;
      issues.push(issue(at(err.pos[0]), '', `YAML syntax: ${firstLine(err.message)}`));
    }
    for (const problem of shape.problems) {
      fatal ||= problem.fatal;
      issues.push(issue(at(problem.offset), formatPath(problem.path), problem.message));
    }
    if (fatal) return { issues };
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) return { issues: [...issues, issue(at(0), '', EMPTY_MESSAGE)] };
    if (!isMap(doc.contents)) {
      const what = isSeq(doc.contents) ? 'a list' : 'a single value';
      return { issues: [...issues, issue(at(doc.contents.range?.[0]), '', `an experiment is a YAML mapping of keys (apiVersion, kind, metadata, spec), but this file holds ${what}`)] };
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The yaml package throws a ReferenceError when aliases expand beyond maxAliasCount.
      if (!(err instanceof ReferenceError)) throw err;
      return { issues: [...issues, issue(at(0), '', `cannot expand this YAML: ${err.message}`)] };
    }
    return { source: new YamlSource(file, text, doc, lines, shape.aliasTargets, value), issues };
  }

  /** Where `path` (a dotted path or its segments) stands; a path that is not in the file locates its nearest parent. */
  locate(path: string | readonly PathSegment[], options: LocateOptions = {}): Position {
    const segments = typeof path === 'string' ? parsePath(path) : path;
    let node: unknown = this.doc.contents;
    for (let i = 0; i < segments.length; i++) {
      node = this.unalias(node);
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      if (isMap(node)) {
        const pair = this.pairNamed(node, String(seg));
        if (!pair) return this.positionOfNode(node);
        const keyNode = pair.key as YamlNode | null;
        if (last && options.key) return this.positionOfNode(keyNode ?? node);
        if (isEmptyValue(pair.value)) return this.positionOfNode(keyNode ?? node);
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
      } else {
        return this.positionOfNode(node);
      }
    }
    const pos = this.positionOfNode(node);
    return options.offset === undefined ? pos : { line: pos.line, column: pos.column + this.columnShift(node, options.offset) };
  }

  /** A SourceIssue for this file at `path`. */
  issue(path: string, message: string, options: LocateOptions = {}): SourceIssue {
    const pos = this.locate(path, options);
    return { file: this.file, line: pos.line, column: pos.column, path, message };
  }

  /** The pair a mapping's key names; the last one when a key repeats, as in the value. Indexed once per mapping, so locating every issue stays linear. */
  private pairNamed(map: YAMLMap, key: string): Pair | undefined {
    let index = this.pairsByKey.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        const text = keyText(pair.key);
        if (text !== undefined) index.set(text, pair);
      }
      this.pairsByKey.set(map, index);
    }
    return index.get(key);
  }

  private unalias(node: unknown): unknown {
    return isAlias(node) ? (this.aliasTargets.get(node) ?? node) : node;
  }

  private positionOfNode(node: unknown): Position {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return positionOf(this.lines, range?.[0]);
  }

  /** How far into the node's text `offset` (into its value) lies; 0 when escapes or line breaks make that unknowable. */
  private columnShift(node: unknown, offset: number): number {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return 0;
    const written = this.text.slice(node.range[0], node.range[1]);
    if (written.includes('\n')) return 0;
    if (node.type === Scalar.PLAIN && written === node.value) return offset;
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
    if (quoted && written.slice(1, -1) === node.value) return offset + 1;
    return 0;
  }
}

const EMPTY_MESSAGE = 'the file is empty; an experiment starts with "apiVersion: gameday/v1" and "kind: Experiment"';
const TOO_MANY_ALIASES_MESSAGE = `this is alias number ${MAX_ALIASES + 1}, but a file may hold at most ${MAX_ALIASES} aliases (*name); write some of the values out instead`;
const TOO_DEEP_MESSAGE = `lists and mappings nest more than ${MAX_NESTING} levels deep here, which gameday refuses (an experiment needs fewer than 10); check that this is the experiment file you meant and that its brackets are closed`;

/**
 * The file's syntax tokens for the composer, or where its lists and mappings first nest deeper
 * than MAX_NESTING. The parser's stack holds the collections open at each token, so the depth is
 * known before any node is built.
 */
function parseTokens(text: string, lines: LineCounter): CST.Token[] | { readonly tooDeepAt: number } {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    const tooDeepAt = collectionBeyondLimit(parser.stack);
    if (tooDeepAt !== undefined) return { tooDeepAt };
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

/** The offset of the collection on the stack that is nested one level more than MAX_NESTING, if any. */
function collectionBeyondLimit(stack: readonly CST.Token[]): number | undefined {
  // The stack also holds the document and the scalar being read, so a shorter one cannot be too deep.
  if (stack.length <= MAX_NESTING) return undefined;
  let depth = 0;
  for (const token of stack) {
    if ((token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') && ++depth > MAX_NESTING) return token.offset;
  }
  return undefined;
}

function positionOf(lines: LineCounter, offset: number | undefined): Position {
  if (offset === undefined) return { line: 1, column: 1 };
  const pos = lines.linePos(offset);
  return { line: Math.max(1, pos.line), column: Math.max(1, pos.col) };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function keyText(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || (isScalar(value) && value.value === null && value.range != null && value.range[0] === value.range[1]);
}

interface ShapeProblem {
  readonly offset: number | undefined;
  readonly path: PathSegment[];
  readonly message: string;
  /** Whether the file cannot go on to the schema; a duplicate key can, so its other problems are reported too. */
  readonly fatal: boolean;
}

/**
 * Walks the document once for what the yaml package accepts but an experiment cannot hold:
 * keys that are not plain text, `__proto__` keys, duplicate keys, too many aliases, aliases to
 * nothing, aliases that contain themselves. On the way it resolves each alias to the last
 * anchor of its name before it, in one pass (the yaml package's Alias.resolve searches the whole
 * document each time). Recursion is safe here: parseTokens has bounded the depth.
 */
class ShapeCheck {
  readonly problems: ShapeProblem[] = [];
  readonly aliasTargets = new Map<Alias, YamlNode>();
  private readonly anchors = new Map<string, YamlNode>();
  private aliases = 0;

  walk(node: unknown, path: PathSegment[], ancestors: unknown[] = []): void {
    if (isAlias(node)) {
      if (++this.aliases > MAX_ALIASES) {
        if (this.aliases === MAX_ALIASES + 1) this.problems.push({ offset: node.range?.[0], path, message: TOO_MANY_ALIASES_MESSAGE, fatal: true });
        return;
      }
      const target = this.anchors.get(node.source);
      if (!target) this.problems.push({ offset: node.range?.[0], path, message: `alias *${node.source} refers to no anchor; define &${node.source} before using it`, fatal: true });
      else if (ancestors.includes(target)) this.problems.push({ offset: node.range?.[0], path, message: `alias *${node.source} refers to a value that contains it, which never ends`, fatal: true });
      else this.aliasTargets.set(node, target);
      return;
    }
    this.anchor(node);
    const inside = [...ancestors, node];
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        if (key !== null && !isScalar(key)) {
          this.problems.push({ offset: key.range?.[0], path, message: 'a key must be plain text, not a list or mapping', fatal: true });
          continue;
        }
        const seg = String(key?.value ?? null);
        const keyPath = [...path, seg];
        if (seg === '__proto__') {
          // Plain JavaScript objects cannot hold this key: it would vanish or replace the prototype.
          this.problems.push({ offset: key?.range?.[0], path: keyPath, message: 'the key "__proto__" is not allowed', fatal: true });
          continue;
        }
        if (seen.has(seg)) this.problems.push({ offset: key?.range?.[0], path: keyPath, message: 'duplicate key; each key may appear only once in a mapping', fatal: false });
        seen.add(seg);
        this.anchor(key);
        this.walk(pair.value, keyPath, inside);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => this.walk(item, [...path, i], inside));
    }
  }

  /** Remembers the node under its anchor's name, in document order, as the yaml package resolves aliases. */
  private anchor(node: unknown): void {
    if ((isScalar(node) || isMap(node) || isSeq(node)) && node.anchor) this.anchors.set(node.anchor, node);
  }
}
