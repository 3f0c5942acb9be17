import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from './cli-process.js';

/** What a test reads back from result.json. */
export interface RunResult {
  readonly outcome: string;
  readonly reason: string;
  readonly checks: readonly ResultCheck[];
  readonly faults: readonly { readonly kind: string; readonly revertedAt?: string }[];
  readonly aborts: readonly { readonly check: string; readonly message: string }[];
}

export interface ResultCheck {
  readonly check: string;
  readonly role: string;
  readonly verdict: string;
  readonly value?: number;
  readonly message: string;
  readonly evidence?: {
    readonly worst?: readonly { readonly ok: boolean; readonly error?: string; readonly value?: number; readonly latencyMs?: number; readonly detail?: Record<string, unknown> }[];
    readonly firstViolationAt?: string;
  };
}

export interface ExperimentRun {
  readonly code: number | null;
  /** The terminal output, stdout and stderr together. */
  readonly output: string;
  readonly result: RunResult;
  readonly journal: readonly { readonly type: string; readonly step?: string; readonly kind?: string }[];
}

/**
 * Writes `files` (relative path → text) into a fresh directory and runs the built CLI on the one named
 * `experiment` against its embedded cluster (or the cluster `args` name), with a fixed seed; reads back result.json and the
 * journal. A run that wrote no result (invalid input) fails the test with the CLI's output.
 */
export async function runExperimentCli(
  files: Readonly<Record<string, string>>,
  experiment: string,
  options: { readonly env?: NodeJS.ProcessEnv; /** More arguments, such as `--kubeconfig` for a cluster of the test's own. */ readonly args?: readonly string[] } = {},
): Promise<ExperimentRun> {
  const dir = tempDir('gameday-experiment-');
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const out = path.join(dir, 'reports');
  const r = await runCli(['run', path.join(dir, experiment), '--out', out, '--seed', '11', ...(options.args ?? [])], options.env ? { env: options.env } : {});
  const output = r.stdout + r.stderr;
  const runName = existsSync(out) ? readdirSync(out).find((d) => existsSync(path.join(out, d, 'result.json'))) : undefined;
  if (!runName) throw new Error(`gameday run exited ${r.code} without a result.json:\n${output}`);
  const runDir = path.join(out, runName);
  const result = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as RunResult;
  const journal = readFileSync(path.join(runDir, 'journal.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ExperimentRun['journal'][number]);
  return { code: r.code, output, result, journal };
}

/** The check of that text and role in result.json; a missing one fails the test with the run's output. */
export function checkOf(r: ExperimentRun, text: string, role = 'slo'): ResultCheck {
  const found = r.result.checks.find((c) => c.check === text && c.role === role);
  if (!found) throw new Error(`no ${role} check "${text}" in result.json:\n${r.output}`);
  return found;
}
