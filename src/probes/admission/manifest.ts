import { readFileSync, statSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isMap, LineCounter, parseAllDocuments, type Document } from 'yaml';

/** The one object of an admission manifest, or what is wrong with the file (each naming file:line:column and field). */
export type ManifestRead = { readonly object: KubernetesObject; readonly problems?: undefined } | { readonly object?: undefined; readonly problems: readonly string[] };

/** A manifest is one small object; a file larger than this is not what the check meant. */
const MAX_MANIFEST_BYTES = 256 * 1024;

/**
 * Reads the manifest an `admits()`/`denies()` check names: one YAML (or JSON) document, a mapping
 * with string `apiVersion`, `kind` and `metadata.name` (or `metadata.generateName`), and a string
 * `metadata.namespace` if it has one. `shown` is the path as messages write it.
 */
export function readAdmissionManifest(file: string, shown: string): ManifestRead {
  let text: string;
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) return { problems: [`no such file: ${shown} (manifest paths are relative to the experiment file)`] };
    if (!stat.isFile()) return { problems: [`${shown} is not a file; name a manifest file`] };
    if (stat.size > MAX_MANIFEST_BYTES) return { problems: [`${shown} is ${stat.size.toLocaleString('en-US')} bytes; a manifest of one object is at most ${MAX_MANIFEST_BYTES / 1024} KiB`] };
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problems: [`cannot read ${shown}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  const lines = new LineCounter();
  const at = (offset: number | undefined, field: string, message: string): string => {
    const { line, col } = lines.linePos(offset ?? 0);
    return `${shown}:${line}:${col}${field ? ` ${field}` : ''}: ${message}`;
  };
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true });
  const all = Array.isArray(docs) ? docs : [docs];
  const present = all.filter((d) => d.contents !== null);
  const syntax = all.flatMap((d) => d.errors).map((e) => at(e.pos[0], '', `YAML syntax: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`));
  if (syntax.length > 0) return { problems: syntax };
  if (present.length === 0) return { problems: [at(0, '', 'the manifest is empty; write the one object to create, like a Pod')] };
  if (present.length > 1) return { problems: [at(present[1]!.range[0], '', 'a manifest for admits()/denies() holds one object, but this is a second YAML document; put each object in its own file')] };
  const doc = present[0]!;
  if (!isMap(doc.contents)) return { problems: [at(doc.contents?.range?.[0], '', 'a manifest is a mapping of keys (apiVersion, kind, metadata, spec)')] };
  const problems = fieldProblems(doc, at);
  if (problems.length > 0) return { problems };
  return { object: doc.toJS({ maxAliasCount: 10 }) as KubernetesObject };
}

function fieldProblems(doc: Document, at: (offset: number | undefined, field: string, message: string) => string): string[] {
  const problems: string[] = [];
  const start = doc.contents?.range?.[0];
  const where = (path: readonly string[]): number | undefined => (doc.getIn(path, true) as { range?: [number, number, number] } | undefined)?.range?.[0] ?? start;
  const isString = (path: readonly string[]): boolean => typeof doc.getIn(path) === 'string' && (doc.getIn(path) as string) !== '';
  for (const [field, example] of [['apiVersion', 'v1'], ['kind', 'Pod']] as const) {
    if (doc.getIn([field]) === undefined) problems.push(at(start, field, `required: the manifest must say its ${field}, like ${field}: ${example}`));
    else if (!isString([field])) problems.push(at(where([field]), field, `must be a string, like ${field}: ${example}`));
  }
  const metadata = doc.getIn(['metadata'], true);
  if (metadata === undefined) problems.push(at(start, 'metadata', 'required: the manifest must name its object under metadata.name'));
  else if (!isMap(metadata)) problems.push(at(where(['metadata']), 'metadata', 'must be a mapping, with name (and namespace)'));
  else {
    if (doc.getIn(['metadata', 'name']) === undefined && doc.getIn(['metadata', 'generateName']) === undefined) {
      problems.push(at(where(['metadata']), 'metadata.name', 'required: name the object (or give metadata.generateName)'));
    }
    for (const field of ['name', 'generateName', 'namespace']) {
      if (doc.getIn(['metadata', field]) !== undefined && !isString(['metadata', field])) problems.push(at(where(['metadata', field]), `metadata.${field}`, 'must be a non-empty string'));
    }
  }
  return problems;
}
