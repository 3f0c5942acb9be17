import type { z } from 'zod';
import { closest } from '../core/did-you-mean.js';
import type { SourceIssue } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import { FAULT_FIELDS, MISSING_KIND } from './experiment-schema.js';
import { formatPath } from './path.js';
import type { SpecRegistries } from './registries.js';
import type { YamlSource } from './yaml-source.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

export type SchemaResult<T> = { readonly success: true; readonly data: T } | { readonly success: false; readonly issues: SourceIssue[] };

/**
 * Runs the experiment schema over a YAML value and turns zod's issues into located, actionable
 * ones: unknown keys (in plug-in parameters too) get a did-you-mean, unknown kind keys name the
 * registry's kinds, and messages say what was expected and what was found.
 */
export function parseWithIssues<T>(schema: z.ZodType<T>, source: YamlSource, registries: SpecRegistries): SchemaResult<T> {
  // Keys each strict object allows, by the very input object that had unknown keys: the
  // finished issue no longer says which schema raised it.
  const allowedKeys = new Map<unknown, string[]>();
  const result = schema.safeParse(source.value, {
    reportInput: true,
    error: (iss) => defaultMessage(iss, allowedKeys),
  });
  if (result.success) return { success: true, data: result.data };
  return { success: false, issues: toSourceIssues(result.error.issues, source, registries, allowedKeys) };
}

function toSourceIssues(issues: readonly Issue[], source: YamlSource, registries: SpecRegistries, allowedKeys: Map<unknown, string[]>): SourceIssue[] {
  const unknownKeyAt = new Set(issues.filter((i) => i.code === 'unrecognized_keys').map((i) => formatPath(i.path)));
  const out: SourceIssue[] = [];
  for (const issue of issues) {
    const path = formatPath(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const allowed = allowedKeys.get(issue.input) ?? [];
          out.push(source.issue(formatPath([...issue.path, key]), unknownKeyMessage(issue.path, key, allowed, registries), { key: true }));
        }
        break;
      case 'invalid_key':
        out.push(source.issue(path, issue.issues[0]?.message ?? issue.message, { key: true }));
        break;
      case 'custom':
      {
        const params = issue.params as { reason?: string; offset?: number } | undefined;
        if (params?.reason === MISSING_KIND && unknownKeyAt.has(path)) break;
        out.push(source.issue(path, issue.message, params?.offset === undefined ? {} : { offset: params.offset }));
      }
        break;
      default:
        out.push(source.issue(path, issue.message));
    }
  }
  return out;
}

/** The registry whose kinds are the keys of the object at `path`: a fault entry or a probe. */
function kindRegistryAt(path: readonly PropertyKey[], registries: SpecRegistries): Registry<{ readonly kind: string }> | undefined {
  if (path.length !== 3 || path[0] !== 'spec') return undefined;
  if (path[1] === 'faults' && typeof path[2] === 'number') return registries.faults;
  if (path[1] === 'probes' && typeof path[2] === 'string') return registries.probes;
  return undefined;
}

function unknownKeyMessage(path: readonly PropertyKey[], key: string, allowed: readonly string[], registries: SpecRegistries): string {
  const registry = kindRegistryAt(path, registries);
  const guess = closest(key, allowed);
  if (registry && (guess === undefined || registry.has(guess))) {
    const fixed = registry === registries.faults ? ` (a fault also takes ${FAULT_FIELDS.join(', ')})` : '';
    return guess ? registry.unknownMessage(key) : `${registry.unknownMessage(key)}${fixed}`;
  }
  if (guess) return `unknown key; did you mean "${guess}"?`;
  return allowed.length > 0 ? `unknown key; allowed here: ${allowed.join(', ')}` : 'unknown key';
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  tuple: 'a list',
  null: 'nothing',
  nonoptional: 'a value',
};

/** The message for issues whose schema did not bring its own (schema-level messages win in zod 4). */
function defaultMessage(iss: RawIssue, allowedKeys: Map<unknown, string[]>): string {
  const valueIssue = iss.code === 'invalid_type' || iss.code === 'invalid_value' || iss.code === 'invalid_union';
  if (valueIssue && iss.input === undefined) return 'missing; this key is required';
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${EXPECTED[iss.expected] ?? iss.expected}, got ${describe(iss.input)}`;
    case 'invalid_value': {
      const values = iss.values.map((v) => JSON.stringify(v));
      const guess = typeof iss.input === 'string' ? closest(iss.input, iss.values.map(String)) : undefined;
      const hint = guess ? `; did you mean "${guess}"?` : '';
      return values.length === 1 ? `must be ${values[0]}, got ${describe(iss.input)}` : `must be one of ${values.join(', ')}, got ${describe(iss.input)}${hint}`;
    }
    case 'too_small':
      return rangeMessage(iss.origin, 'at least', 'more than', iss.minimum, iss.inclusive);
    case 'too_big':
      return rangeMessage(iss.origin, 'at most', 'less than', iss.maximum, iss.inclusive);
    case 'invalid_format':
      return iss.format === 'regex' ? `${describe(iss.input)} does not have the expected form (${iss.pattern ?? 'a pattern'})` : `${describe(iss.input)} is not a valid ${iss.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}`;
    case 'unrecognized_keys': {
      const shape = (iss.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
      if (shape) allowedKeys.set(iss.input, Object.keys(shape));
      return `unknown key${iss.keys.length > 1 ? 's' : ''}: ${iss.keys.join(', ')}`;
    }
    case 'invalid_key':
      return 'not a valid key here';
    case 'invalid_union':
      return iss.input === null ? 'is empty; write a value here' : `${describe(iss.input)} does not match any of the forms allowed here`;
    case 'invalid_element':
      return 'has an invalid element';
    default:
      return 'is not valid here';
  }
}

function rangeMessage(origin: string, inclusiveWord: string, exclusiveWord: string, bound: number | bigint, inclusive: boolean | undefined): string {
  const word = inclusive === false ? exclusiveWord : inclusiveWord;
  if (origin === 'string') return `must be ${word} ${bound} character${bound === 1 ? '' : 's'} long`;
  if (origin === 'array' || origin === 'set') return `must have ${word} ${bound} item${bound === 1 ? '' : 's'}`;
  return `must be ${word} ${bound}`;
}

/** A value as a person would name it in a message. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return String(value);
}
