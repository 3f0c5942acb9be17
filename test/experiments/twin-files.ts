import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/** A Kubernetes manifest as a twin's edit sees it. */
export type Manifest = Record<string, unknown> & { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown> };

/** A shipped file's text, by its path under experiments/. */
export const shipped = (file: string): string => readFileSync(path.join('experiments', file), 'utf8');

/** The pod template's spec of a Deployment, StatefulSet or DaemonSet. */
export function podSpec(m: Manifest): Record<string, unknown> {
  return (m.spec!.template as { spec: Record<string, unknown> }).spec;
}

/** The manifests of a workload file, changed by `edit` (which may drop one by returning undefined). */
export function editWorkload(file: string, edit: (m: Manifest) => Manifest | undefined): string {
  return parseAllDocuments(shipped(file))
    .map((d) => edit(d.toJS() as Manifest))
    .filter((m): m is Manifest => m !== undefined)
    .map((m) => stringify(m))
    .join('---\n');
}

/**
 * The files of a negative twin: the shipped experiment, unchanged but for the workload it applies,
 * which is the shipped workload changed by `edit` (both paths under experiments/).
 */
export function twinFiles(experimentFile: string, workloadFile: string, edit: (m: Manifest) => Manifest | undefined): Record<string, string> {
  const text = shipped(experimentFile);
  const line = `workloads: [${path.relative(path.dirname(experimentFile), workloadFile)}]`;
  if (!text.includes(line)) throw new Error(`${experimentFile} no longer says "${line}"`);
  return { 'experiment.yaml': text.replace(line, 'workloads: [workload.yaml]'), 'workload.yaml': editWorkload(workloadFile, edit) };
}
