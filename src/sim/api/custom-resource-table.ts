import type { LooseJson } from './loose-json.js';
import type { PrinterColumn } from './resources.js';
import { humanDuration, type Printer, type TableColumn } from './table.js';

/**
 * The Table of a custom resource, as apiextensions-apiserver's tableconvertor builds it: NAME,
 * then one column per `additionalPrinterColumns` entry, each cell the first result of the
 * column's JSONPath converted to the column's type (nil when the path finds nothing).
 */
type Json = LooseJson;
type Step = { field: string } | { index: number } | { filter: { path: string[]; value: string } };

/**
 * The simple JSONPaths the CRD validation allows: `.a.b`, `.a[0]`, `.a[*]` (first element) and
 * `.conditions[?(@.type=="Ready")]`.
 */
export function parseSimpleJsonPath(path: string): Step[] {
  const steps: Step[] = [];
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+|\*)\]|\[\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*["']([^"']*)["']\)\]|\['([^']+)'\]/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path))) {
    if (m[1] !== undefined) steps.push({ field: m[1] });
    else if (m[2] !== undefined) steps.push({ index: m[2] === '*' ? 0 : Number(m[2]) });
    else if (m[3] !== undefined) steps.push({ filter: { path: m[3].split('.'), value: m[4]! } });
    else steps.push({ field: m[5]! });
    if (re.lastIndex === path.length) return steps;
  }
  throw new Error(`unsupported JSONPath ${path}`);
}

function evaluate(o: unknown, steps: readonly Step[]): unknown {
  let at: unknown = o;
  for (const s of steps) {
    if (at === undefined || at === null) return undefined;
    if ('field' in s) at = (at as Json)[s.field];
    else if ('index' in s) at = Array.isArray(at) ? at[s.index] : undefined;
    else at = Array.isArray(at) ? at.find((e) => String(s.filter.path.reduce<unknown>((x, k) => (x as Json | undefined)?.[k], e)) === s.filter.value) : undefined;
  }
  return at;
}

/** tableconvertor's `cellForJSONValue`; a string column prints the value as JSONPath would. */
function cell(type: string, value: unknown, now: number): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? '<invalid>' : humanDuration(now - t);
    }
    default:
      return null;
  }
}

const printers = new WeakMap<readonly PrinterColumn[], Printer>();

export function customResourcePrinter(name: TableColumn, columns: readonly PrinterColumn[]): Printer {
  let printer = printers.get(columns);
  if (printer) return printer;
  const paths = columns.map((c) => {
    try {
      return parseSimpleJsonPath(c.jsonPath);
    } catch {
      return undefined;
    }
  });
  printer = {
    columns: [
      name,
      ...columns.map((c) => ({
        name: c.name,
        type: c.type as TableColumn['type'],
        format: c.format ?? '',
        description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
        priority: c.priority ?? 0,
      })),
    ],
    cells: (o, now) => [o.metadata.name, ...columns.map((c, i) => (paths[i] ? cell(c.type, evaluate(o, paths[i]), now) : null))],
  };
  printers.set(columns, printer);
  return printer;
}
