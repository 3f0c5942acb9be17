import { access, appendFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { exitCodeFor } from '../core/outcome.js';
import type { RunEvent } from '../journal/events.js';
import { BlastRadiusData, type BlastRadiusSummary } from './blast-radius-data.js';
import { ConsistencyData, type ConsistencySummary } from './consistency-data.js';
import { restoredText, type DrillRecovery } from './drill-recovery.js';
import { faultProblems, faultState } from './fault-problems.js';
import { plainText } from './plain-text.js';
import type { Reporter, RunContext } from './reporter.js';
import type { RunResult } from './result.js';
import { apiRetriesText } from './retries-text.js';
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
  private readonly data = new Map<string, ConsistencyData>();
  private readonly blastRadius = new Map<string, BlastRadiusData>();

  constructor(options: SummaryReporterOptions = {}) {
    this.env = options.env ?? process.env;
  }

  onEvent(event: RunEvent, run: RunContext): void {
    if (event.type === 'run.start') {
      this.data.set(run.runDir, new ConsistencyData());
      this.blastRadius.set(run.runDir, new BlastRadiusData());
    }
    this.data.get(run.runDir)?.add(event);
    this.blastRadius.get(run.runDir)?.add(event);
  }

  async onRunEnd(result: RunResult, run: RunContext): Promise<void> {
    const data = this.data.get(run.runDir)?.build() ?? [];
    this.data.delete(run.runDir);
    const blastRadius = this.blastRadius.get(run.runDir)?.build() ?? [];
    this.blastRadius.delete(run.runDir);
    const files = run.files.filter((f) => basename(f) !== 'summary.md');
    const journal = join(run.runDir, 'journal.ndjson');
    if (await exists(journal)) files.unshift(journal);
    await mkdir(run.runDir, { recursive: true });
    await writeFile(join(run.runDir, 'summary.md'), renderSummary(result, { files, link: true, data, blastRadius }));
    const stepSummary = this.env.GITHUB_STEP_SUMMARY;
    if (stepSummary) await appendFile(stepSummary, `${renderSummary(result, { files, link: false, data, blastRadius })}\n`);
  }
}

export interface SummaryFiles {
  /** Paths of the run's files. */
  readonly files: readonly string[];
  /** Link them relative to the run directory (summary.md lives there), or print their paths (job summary). */
  readonly link: boolean;
  /** What each consistency probe found. */
  readonly data?: readonly ConsistencySummary[];
  /** The last map of each compromised-pod drill. */
  readonly blastRadius?: readonly BlastRadiusSummary[];
}

export function renderSummary(r: RunResult, { files, link, data = [], blastRadius = [] }: SummaryFiles): string {
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
    ...(r.apiRetries ? [`API retries: ${mdText(apiRetriesText(r.apiRetries))}`, ''] : []),
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
  if (r.steps && r.steps.length > 0) {
    out.push('### Drill steps', '', 'Run once each, never reverted. Times are relative to the start of the run.', '');
    out.push('| Step | Kind | Started | Ended | Outcome |', '| --- | --- | --- | --- | --- |');
    for (const s of r.steps) {
      const outcome = s.outcome === 'failed' ? `**failed**: ${s.message ?? ''}` : s.outcome === 'done' ? `done: ${s.message ?? ''}` : 'still running when the journal ended';
      out.push(`| ${mdText(s.name)} (${s.id}) | ${s.kind} | ${since(s.startedAtMs)} | ${since(s.endedAtMs)} | ${mdText(outcome)} |`);
    }
    out.push('');
  }
  if (r.probes.length > 0) {
    out.push('### Probes', '', '| Probe | Kind | Samples | OK | Failed | First failure |', '| --- | --- | --- | --- | --- | --- |');
    for (const p of r.probes) out.push(`| ${mdText(p.name)} | ${p.kind} | ${p.samples} | ${p.ok} | ${p.failed} | ${since(p.firstFailureAtMs)} |`);
    out.push('');
  }
  out.push(...dataLines(data), ...drillLines(r.drills ?? []));
  out.push(...blastRadiusLines(blastRadius));
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

const KEYS_LISTED = 50;

/** The data section: what became of each consistency probe's writes, and the keys it lost. */
function dataLines(data: readonly ConsistencySummary[]): string[] {
  if (data.length === 0) return [];
  const out = ['### Data', '', '| Probe | Writes | Acknowledged | Verified | Lost | Duplicated | Stale reads | Lag p50 / p99 / max |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const d of data) {
    const lag = d.lag ? `${Math.round(d.lag.p50)} / ${Math.round(d.lag.p99)} / ${Math.round(d.lag.max)} ms` : '-';
    out.push(`| ${mdText(d.probe)} | ${d.writes} | ${d.acknowledged} | ${d.verified} | ${d.lost.length} | ${d.duplicated?.length ?? '-'} | ${d.staleReads} | ${lag} |`);
  }
  out.push('');
  for (const d of data) {
    for (const [what, keys] of [['lost', d.lost], ['duplicated', d.duplicated ?? []]] as const) {
      if (keys.length === 0) continue;
      const more = keys.length > KEYS_LISTED ? ` and ${keys.length - KEYS_LISTED} more` : '';
      out.push(`Records ${mdText(d.probe)} ${what}: ${keys.slice(0, KEYS_LISTED).map(mdCode).join(', ')}${more}.`, '');
    }
  }
  return out;
}

/** Per drill (by its disaster step): the RTO and RPO it was judged on. */
function drillLines(drills: readonly DrillRecovery[]): string[] {
  if (drills.length === 0) return [];
  const cell = (list: readonly { check: string; verdict: string; value?: number }[]): string =>
    list.length === 0 ? '-' : list.map((o) => `${o.value === undefined ? 'no data' : formatDuration(o.value)} (${o.verdict === 'passed' ? 'passed' : `**${o.verdict}**`}: ${mdCode(o.check)})`).join('<br>');
  // The Restored column only where a restore of the control plane's etcd ran.
  const anyRestored = drills.some((d) => d.restored !== undefined);
  const restored = (d: DrillRecovery): string => (anyRestored ? ` ${(d.restored ?? []).map((o) => mdText(restoredText(o))).join('<br>') || '-'} |` : '');
  const out = ['### Drills', '', `RTO: from the disaster until the service served again. RPO: how far back in time the data went (the oldest acknowledged write sent before the disaster that did not read back, to the disaster).${anyRestored ? " Restored: what a restore of the control plane's etcd brought back of what the disaster deleted." : ''}`, ''];
  out.push(`| Disaster | RTO | RPO |${anyRestored ? ' Restored |' : ''}`, `| --- | --- | --- |${anyRestored ? ' --- |' : ''}`);
  for (const d of drills) out.push(`| ${mdText(d.disaster)} | ${cell(d.rto)} | ${cell(d.rpo)} |${restored(d)}`);
  out.push('');
  return out;
}

/** The blast radius section: per compromised-pod drill, its counts, what it reached and where its account has power. */
function blastRadiusLines(maps: readonly BlastRadiusSummary[]): string[] {
  if (maps.length === 0) return [];
  const out = ['### Blast radius', '', '| Drill | As pod | Services | Namespaces | Secrets | Create pods | Exec |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const { probe, map } of maps) {
    const f = map.fields;
    out.push(`| ${mdText(probe)} | ${mdCode(map.pod)} | ${f.services} | ${f.namespaces} | ${f.secrets} | ${f.createPods} | ${f.exec} |`);
  }
  out.push('');
  for (const { probe, map } of maps) {
    if (map.reached.length > 0) out.push(`${mdText(probe)} reached: ${map.reached.map((r) => mdCode(r.path)).join(', ')}.`, '');
    const powers = map.access.filter((a) => Object.keys(a.allowed).length > 0).map((a) => `${mdCode(a.namespace)} (${Object.entries(a.allowed).map(([k, verb]) => `${k}: ${verb}`).join(', ')})`);
    if (powers.length > 0) out.push(`${mdText(probe)}'s account ${mdCode(map.serviceAccount)} has power in: ${powers.join(', ')}.`, '');
    const rules = map.access.filter((a) => (a.rules ?? []).length > 0).map((a) => `${mdCode(a.namespace)}: ${a.rules!.map(mdCode).join(', ')}`);
    if (rules.length > 0) out.push(`Every API verb ${mdCode(map.serviceAccount)} is allowed: ${rules.join('; ')}.`, '');
  }
  return out;
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
