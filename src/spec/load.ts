import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SpecError, UsageError, type SourceIssue } from '../core/errors.js';
import { buildExperimentSchema } from './experiment-schema.js';
import type { ExperimentSpec } from './model.js';
import { normalizeExperiment } from './normalize.js';
import type { SpecRegistries } from './registries.js';
import { experimentRuleProblems } from './rules.js';
import { parseWithIssues } from './schema-issues.js';
import { YamlSource } from './yaml-source.js';

/**
 * An experiment file may be this large. The shipped ones are about 1 KiB; a file a thousand times
 * that is something else, and refusing it keeps validation's time and memory bounded.
 */
export const MAX_EXPERIMENT_BYTES = 2 ** 20;

/**
 * Experiment text → ExperimentSpec, in three steps: parse (YAML, then the schema) → normalize →
 * rules. Every problem of every step that can run is collected and thrown once, as a SpecError.
 */
export function loadExperimentText(text: string, file: string, registries: SpecRegistries): ExperimentSpec {
  refuseOversized(file, Buffer.byteLength(text));
  const read = YamlSource.read(text, file);
  if (!read.source) throw new SpecError(byPosition(read.issues));
  const source = read.source;
  const parsed = parseWithIssues(buildExperimentSchema(registries), source, registries);
  if (!parsed.success) throw new SpecError(byPosition([...read.issues, ...parsed.issues]));
  const spec = normalizeExperiment(parsed.data, source);
  const issues = [...read.issues, ...experimentRuleProblems(spec, registries).map((p) => source.issue(p.path, p.message, p))];
  if (issues.length > 0) throw new SpecError(byPosition(issues));
  return spec;
}

/** Reads and loads one experiment file; an unreadable file is a SpecError too, so callers report it with the rest. */
export async function loadExperimentFile(file: string, registries: SpecRegistries): Promise<ExperimentSpec> {
  let text: string;
  try {
    const handle = await open(file);
    try {
      // Before reading, so a huge file is not read at all.
      refuseOversized(file, (await handle.stat()).size);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof SpecError) throw err;
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read the file: ${(err as Error).message}`;
    throw new SpecError([{ file, line: 1, column: 1, path: '', message: reason }]);
  }
  return loadExperimentText(text, file, registries);
}

function refuseOversized(file: string, bytes: number): void {
  if (bytes <= MAX_EXPERIMENT_BYTES) return;
  const count = (n: number): string => n.toLocaleString('en-US');
  const message = `the file is ${count(bytes)} bytes, but an experiment file may be at most ${MAX_EXPERIMENT_BYTES / 2 ** 20} MiB (${count(MAX_EXPERIMENT_BYTES)} bytes); check that this is the experiment file you meant, or split it into several experiments`;
  throw new SpecError([{ file, line: 1, column: 1, path: '', message }]);
}

const EXPERIMENT_FILE = /\.ya?ml$/;

/**
 * The experiment files named by paths: files as given, directories searched recursively for
 * `*.yaml`/`*.yml`, each directory's finds sorted. Inside directories, YAML that declares some
 * other `apiVersion` (the Kubernetes manifests an experiment's `workloads` names) is not an
 * experiment and is skipped; hidden directories are skipped too.
 */
export async function collectExperimentFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (!(await experimentFilesAt(path, files))) throw new UsageError(`no such file or directory: ${path}`);
  }
  return files;
}

/** Adds the experiment files `path` names to `found`; false when there is nothing at `path`. */
async function experimentFilesAt(path: string, found: string[]): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return false;
  if (info.isDirectory()) await experimentsUnder(path, found);
  else found.push(path);
  return true;
}

async function experimentsUnder(dir: string, found: string[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.')) await experimentsUnder(path, found);
    } else if (EXPERIMENT_FILE.test(entry.name) && !declaresOtherApi(await readFile(path, 'utf8'))) {
      found.push(path);
    }
  }
}

function declaresOtherApi(text: string): boolean {
  const apiVersion = /^apiVersion:\s*["']?([^\s"'#]+)/m.exec(text)?.[1];
  return apiVersion !== undefined && !apiVersion.startsWith('gameday');
}

/**
 * Loads every experiment the paths name and gathers every issue of every file, in the order of
 * the paths. A path with nothing there is one more issue, so it hides no other file's problems.
 */
export async function loadExperiments(paths: readonly string[], registries: SpecRegistries): Promise<{ files: string[]; specs: ExperimentSpec[]; issues: SourceIssue[] }> {
  const files: string[] = [];
  const specs: ExperimentSpec[] = [];
  const issues: SourceIssue[] = [];
  for (const path of paths) {
    const found: string[] = [];
    if (!(await experimentFilesAt(path, found))) {
      issues.push({ file: path, line: 1, column: 1, path: '', message: 'no such file or directory' });
      continue;
    }
    for (const file of found) {
      files.push(file);
      try {
        specs.push(await loadExperimentFile(file, registries));
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        // One by one: spreading a file's hundred thousand issues into push() overflows the stack.
        for (const issue of err.issues) issues.push(issue);
      }
    }
  }
  return { files, specs, issues };
}

function byPosition(issues: readonly SourceIssue[]): SourceIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.column - b.column);
}

/**
 * The experiments of `gameday run` (and `gameday rbac`): every file the paths name, all valid
 * (or a SpecError listing every problem), those whose labels match every tag.
 */
export async function loadTaggedExperiments(paths: readonly string[], tags: readonly string[], registries: SpecRegistries): Promise<ExperimentSpec[]> {
  const files = await collectExperimentFiles(paths);
  const { specs: loaded, issues } = await loadExperiments(files, registries);
  if (issues.length > 0) throw new SpecError(issues);
  const specs = loaded.filter((s) => matchesTags(s, tags));
  if (specs.length === 0) throw new UsageError(loaded.length === 0 ? `no experiment files in ${paths.join(', ')}` : `no experiment matches --tags ${tags.join(',')}`);
  return specs;
}

/** `--tags`: `key=value` must equal that label; a bare word matches any label value (or key) equal to it. */
function matchesTags(spec: ExperimentSpec, tags: readonly string[]): boolean {
  return tags.every((tag) => {
    const eq = tag.indexOf('=');
    if (eq > 0) return spec.labels[tag.slice(0, eq)] === tag.slice(eq + 1);
    return Object.entries(spec.labels).some(([k, v]) => v === tag || k === tag);
  });
}
