import { SeededRandom } from '../../src/core/rng.js';

/**
 * Seeded mutations of a valid experiment file, shared by the loader's fuzz test and the CLI's:
 * lines deleted, duplicated, swapped, re-indented, values replaced by odd YAML, keys renamed,
 * text truncated or sprinkled with odd characters.
 */
const ODD_VALUES = [
  '[]', '{}', 'null', '~', '-1', '1e400', '.inf', '.nan', 'true', '0x1F', '""', "''", '&anchor', '*nothing', '!!binary AAAA', "'unterminated",
  '"unterminated', '{ a: *x }', '[1, [2, [3', '|', '>-', '- - -', ': :', '? x', '%YAML 1.1', '!custom tag', '"\\u0000"', '9'.repeat(400), 'x'.repeat(5000),
  '__proto__', '{ __proto__: { polluted: yes } }', '2m30', '-30s', '99.5', '1e3%', '50/h',
];
const ODD_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', '"quoted key"', '[a, b]', '{a: 1}', '? complex', '0', '-', '<<'];
const ODD_TEXT = ['\0', '\t', '\r', '\r\n', '\u00a0', '\ufeff', '\u202e', '😀', '\ud800', '名前', ':', '-', '#', '[', ']', '{', '}', '"', "'", '&', '*', '!', '%', '@', '`', '|', '>', ',', '?', '---', '...', '\n  ', '\n\t'];

type Mutation = (lines: string[], rng: SeededRandom) => string[];

const pick = <T>(items: readonly T[], rng: SeededRandom): T => items[Math.floor(rng.next() * items.length)]!;
const index = (lines: readonly string[], rng: SeededRandom) => Math.floor(rng.next() * lines.length);

const MUTATIONS: Record<string, Mutation> = {
  deleteLine: (lines, rng) => lines.filter((_, i) => i !== index(lines, rng)),
  duplicateLine: (lines, rng) => {
    const i = index(lines, rng);
    return [...lines.slice(0, i + 1), lines[i]!, ...lines.slice(i + 1)];
  },
  swapLines: (lines, rng) => {
    const out = lines.slice();
    const [i, j] = [index(lines, rng), index(lines, rng)];
    [out[i], out[j]] = [out[j]!, out[i]!];
    return out;
  },
  reindent: (lines, rng) => {
    const out = lines.slice();
    const i = index(lines, rng);
    const line = out[i]!;
    const shift = Math.floor(rng.next() * 7) - 3;
    out[i] = rng.next() < 0.15 ? `\t${line.trimStart()}` : shift >= 0 ? ' '.repeat(shift) + line : line.slice(Math.min(-shift, line.length - line.trimStart().length));
    return out;
  },
  oddValue: (lines, rng) => {
    const out = lines.slice();
    const i = index(lines, rng);
    const colon = out[i]!.indexOf(': ');
    out[i] = colon >= 0 ? `${out[i]!.slice(0, colon + 2)}${pick(ODD_VALUES, rng)}` : `${out[i]} ${pick(ODD_VALUES, rng)}`;
    return out;
  },
  renameKey: (lines, rng) => {
    const out = lines.slice();
    const i = index(lines, rng);
    const m = /^(\s*(?:-\s*)?(?:\{\s*)?)([A-Za-z]+)(:.*)$/.exec(out[i]!);
    if (!m) return out;
    const key = m[2]!;
    const at = Math.floor(rng.next() * key.length);
    const renamed =
      rng.next() < 0.3
        ? pick(ODD_KEYS, rng)
        : rng.next() < 0.5
          ? key.slice(0, at) + key.slice(at + 1)
          : key.slice(0, at) + String.fromCharCode(97 + Math.floor(rng.next() * 26)) + key.slice(at);
    out[i] = `${m[1]}${renamed}${m[3]}`;
    return out;
  },
  truncate: (lines, rng) => {
    const text = lines.join('\n');
    return text.slice(0, Math.floor(rng.next() * text.length)).split('\n');
  },
  insertText: (lines, rng) => {
    const text = lines.join('\n');
    const at = Math.floor(rng.next() * (text.length + 1));
    const insert = rng.next() < 0.3 ? String.fromCharCode(Math.floor(rng.next() * 0x3000)) : pick(ODD_TEXT, rng);
    return (text.slice(0, at) + insert + text.slice(at)).split('\n');
  },
};
const NAMES = Object.keys(MUTATIONS);


/** One to three random mutations of `text`; returns the mutated text and what was applied. */
export function mutateExperiment(text: string, rng: SeededRandom): { text: string; applied: string[] } {
  let lines = text.split('\n');
  const applied: string[] = [];
  const count = 1 + Math.floor(rng.next() * 3);
  for (let m = 0; m < count; m++) {
    const name = pick(NAMES, rng);
    applied.push(name);
    lines = MUTATIONS[name]!(lines.length > 0 ? lines : [''], rng);
  }
  return { text: lines.join('\n'), applied };
}
