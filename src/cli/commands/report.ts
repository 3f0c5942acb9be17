import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { readJournal } from '../../journal/reader.js';
import { compareRuns, renderComparison } from '../../report/compare.js';
import { createReporters, ReporterMultiplexer, resultFromJournal, type RunResult } from '../../report/index.js';
import { renderPdf } from '../../report/pdf.js';
import { otlpSetup, withOtlpReporter, type OtlpFlags } from '../otlp-options.js';

export interface ReportCommandOptions extends OtlpFlags {
  readonly reporter?: string[];
  readonly json?: boolean;
  /** Also print report.html to report.pdf through Chromium. */
  readonly pdf?: boolean;
}

/**
 * `gameday report <run-dir>`: replays the run's journal through the same reporters a live run
 * uses, so the files it rebuilds are the ones the run would have written.
 */
export async function reportCommand(runDir: string, options: ReportCommandOptions): Promise<number> {
  const dir = path.resolve(runDir);
  const journal = path.join(dir, 'journal.ndjson');
  if (!existsSync(journal)) throw new UsageError(`${runDir}: no journal.ndjson there; give a run directory such as reports/<run-id>`);
  const otlp = otlpSetup(options);
  const names = withOtlpReporter(options.reporter && options.reporter.length > 0 ? options.reporter : ['json', 'junit', 'summary', 'html'], otlp);
  const mux = new ReporterMultiplexer(createReporters(names, { env: { ...process.env, GITHUB_STEP_SUMMARY: '' }, ...(otlp ? { otlp } : {}) }));
  await mux.begin({ runs: 1, outDir: path.dirname(dir) });
  const observer = mux.forRun(dir);
  for await (const event of readJournal(journal)) observer.onEvent(event);
  await observer.onRunEnd?.();
  const [result] = await mux.end();
  if (!result) throw new UsageError(`${runDir}: the journal has no run in it`);
  if (options.pdf) {
    const html = path.join(dir, 'report.html');
    if (!existsSync(html)) throw new UsageError(`${runDir}: --pdf prints report.html, which is not there; include the html reporter (--reporter html)`);
    await renderPdf(html, path.join(dir, 'report.pdf'));
  }
  if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(`rebuilt the reports of ${result.experiment} (${result.outcome}) in ${dir}${options.pdf ? ', with report.pdf' : ''}\n`);
  return 0;
}

/** `gameday report --compare <run-a> <run-b>`: how each check moved from run A to run B. */
export async function reportCompareCommand(runA: string, runB: string, options: { readonly json?: boolean }): Promise<number> {
  const comparison = compareRuns(await loadResult(runA), await loadResult(runB));
  process.stdout.write(options.json ? JSON.stringify(comparison, null, 2) + '\n' : renderComparison(comparison));
  return 0;
}

/** The run's result.json, or the result rebuilt from its journal when result.json is missing. */
async function loadResult(runDir: string): Promise<RunResult> {
  const dir = path.resolve(runDir);
  const resultFile = path.join(dir, 'result.json');
  if (existsSync(resultFile)) return JSON.parse(await readFile(resultFile, 'utf8')) as RunResult;
  const journal = path.join(dir, 'journal.ndjson');
  if (existsSync(journal)) return resultFromJournal(journal);
  throw new UsageError(`${runDir}: neither result.json nor journal.ndjson is there; give a run directory such as reports/<run-id>`);
}
