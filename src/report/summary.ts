import { access, appendFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { exitCodeFor } from '../core/outcome.js';
import { faultProblems, faultState } from './fault-problems.js';
import { plainText } from './plain-text.js';
import type { Reporter, RunContext } from './reporter.js';
import type { RunResult } from './result.js';
import { describeTargets } from './targets-text.js';
import { formatDuration, formatOffset } from './time-text.js';

export interface SummaryReporterOptions {
  /** Read for `GITHUB_STEP_SUMMARY`, the job-summary file of GitHub Actions. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Writes `<runDir>/summary.md`, a short Markdown report, and appends the same to the GitHub
 * Actions job summary when `$GITHUB_STEP_SUMMARY` is set, so a failed nightly shows its broken
 * SLO on the workflow page without downloading artifacts.
 */
export class SummaryReporter implements Reporter {
  readonly name = 'summary';
  readonly outputs = ['summary.md'];
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: SummaryReporterOptions = {}) {
    this.env = options.env ?? process.env;
  }

  async onRunEnd(result: RunResult, run: RunContext): Promise<void> {
    const files = run.files.filter((f) => basename(f) !== 'summary.md');
    const journal = join(run.runDir, 'journal.ndjson');
    if (await exists(journal)) files.unshift(journal);
    await mkdir(run.runDir, { recursive: true });
    await writeFile(join(run.runDir, 'summary.md'), renderSummary(result, { files, link: true }));
    const stepSummary = this.env.GITHUB_STEP_SUMMARY;
    if (stepSummary) await appendFile(stepSummary, `${renderSummary(result, { files, link: false })}\n`);
  }
}

export interface SummaryFiles {
  /** Paths of the run's files. */
  readonly files: readonly string[];
  /** Link them relative to the run directory (summary.md lives there), or print their paths (job summary). */
  readonly link: boolean;
}

export function renderSummary(r: RunResult, { files, link }: SummaryFiles): string {
  const since = (ms: number | undefined): string => (ms === undefined ? '-' : formatOffset(ms - r.startedAtMs));
  const out: string[] = [
    `## ${mdText(r.experiment)}: ${r.outcome.toUpperCase()}`,
    '',
    `**${r.outcome}** (exit ${exitCodeFor(r.outcome)}): ${mdText(r.reason)}`,
    '',
    ...stillApplied(r),
    '| Run | File | Cluster | Seed | Started | Duration |',
    '| --- | --- | --- | --- | --- | --- |',
    `| ${mdCode(r.runId)} | ${mdCode(r.file)} | ${mdText(`${r.cluster.kind} ${r.cluster.name}`)} | ${r.seed} | ${r.startedAt} | ${formatDuration(r.durationMs)} |`,
    '',
    '### Checks',
    '',
  ];
  if (r.checks.length === 0) out.push('No check was evaluated.', '');
  else {
    // The details state the measured value in the check's own unit (99.2%, 310ms).
    out.push('| Role | Check | Verdict | Details |', '| --- | --- | --- | --- |');
    for (const c of r.checks) {
      const details = [c.message];
      if (c.evidence) details.push(`${c.evidence.samples} samples`);
      if (c.evidence?.firstViolationAtMs !== undefined) details.push(`first violation at ${since(c.evidence.firstViolationAtMs)}`);
      const verdict = c.verdict === 'passed' ? 'passed' : `**${c.verdict}**`;
      out.push(`| ${c.role} | ${mdCode(c.check)} | ${verdict} | ${mdText(details.join('; '))} |`);
    }
    out.push('');
  }
  if (r.faults.length > 0) {
    out.push('### Faults', '', 'Times are relative to the start of the run.', '');
    out.push('| Fault | Kind | Targets | Injected | Verified | Reverted | State |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const f of r.faults) {
      const targets = f.description ?? describeTargets(f.targets);
      out.push(
        `| ${f.id} | ${f.kind} | ${mdText(targets)} | ${since(f.injectedAtMs ?? f.injectStartedAtMs)} | ${since(f.verifiedAtMs)} | ${since(f.revertedAtMs)} | ${faultState(f)} |`,
      );
    }
    out.push('');
  }
  if (r.probes.length > 0) {
    out.push('### Probes', '', '| Probe | Kind | Samples | OK | Failed | First failure |', '| --- | --- | --- | --- | --- | --- |');
    for (const p of r.probes) out.push(`| ${mdText(p.name)} | ${p.kind} | ${p.samples} | ${p.ok} | ${p.failed} | ${since(p.firstFailureAtMs)} |`);
    out.push('');
  }
  const events = [
    ...r.aborts.map((a) => ({ t: a.atMs, text: `aborted by ${mdCode(a.check)}: ${mdText(a.message)}` })),
    ...r.signals.map((s) => ({ t: s.atMs, text: `received ${s.signal}` })),
    ...r.errors.map((e) => ({ t: e.atMs, text: `error in ${mdText(e.source)}: ${mdText(e.message)}` })),
  ].sort((a, b) => a.t - b.t);
  if (events.length > 0) {
    out.push('### Aborts, signals and errors', '', ...events.map((e) => `- ${since(e.t)} ${e.text}`), '');
  }
  if (files.length > 0) {
    out.push('### Files', '', ...files.map((f) => (link ? `- [${basename(f)}](${encodeURI(basename(f))})` : `- ${mdCode(f)}`)), '');
  }
  return out.join('\n');
}

/** A fault that may still be applied is the one thing nobody may miss on this page. */
function stillApplied(r: RunResult): string[] {
  return r.faults.flatMap((f) =>
    faultProblems(f)
      .filter((p) => p.type === 'revert-failed' || p.type === 'not-reverted')
      .flatMap((p) => [`**Fault ${f.id} (${f.kind}) ${mdText(p.message)}.**`, '']),
  );
}

/** Plain text in a table cell or a line: Markdown punctuation escaped, line breaks kept. */
function mdText(text: string): string {
  return plainText(text).replace(/[\\`*_[\]<>|]/g, '\\$&').replace(/\r?\n/g, '<br>');
}

/** Text as a code span; a pipe must still be escaped inside a table (GFM splits cells first). */
function mdCode(text: string): string {
  const body = plainText(text).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  return body.includes('`') ? `\`\` ${body} \`\`` : `\`${body}\``;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
