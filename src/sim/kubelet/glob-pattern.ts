const POSIX_CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9', alpha: 'a-zA-Z', digit: '0-9', lower: 'a-z', upper: 'A-Z', space: '\\s', blank: ' \\t', punct: '!-/:-@[-`{-~', xdigit: '0-9a-fA-F',
};

const escapeRegExp = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * A shell pattern (`*`, `?`, `[…]`, `[!…]`, backslash escapes) as a RegExp: the whole string
 * must match when `whole`, as in pathname expansion and `case`.
 */
export function globRegExp(pattern: string, whole: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') re += escapeRegExp(pattern[++i] ?? '\\');
    else if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const negate = pattern[i + 1] === '!' || pattern[i + 1] === '^';
      const first = i + (negate ? 2 : 1);
      const close = pattern.indexOf(']', first + 1);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      const body = pattern.slice(first, close).replace(/\[:(\w+):\]/g, (m, name: string) => POSIX_CLASSES[name] ?? m).replace(/\\(?![sStn])/g, '\\\\').replace(/\]/g, '\\]');
      re += `[${negate ? '^' : ''}${body}]`;
      i = close;
    } else re += escapeRegExp(c);
  }
  return new RegExp(whole ? `^${re}$` : re);
}
