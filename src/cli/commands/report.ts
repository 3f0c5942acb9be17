import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { readJournal } from '../../engine/read-journal.js';
import { createReporters, ReporterMultiplexer } from '../../report/index.js';

export interface ReportCommandOptions {
  readonly reporter?: string[];
  readonly json?: boolean;
}

/**
 * `gameday report <run-dir>`: replays the run's journal through the same reporters a live run
 * uses, so the files it rebuilds are the ones the run would have written.
 */
export async function reportCommand(runDir: string, options: ReportCommandOptions): Promise<number> {
  const dir = path.resolve(runDir);
  const journal = path.join(dir, 'journal.ndjson');
  if (!existsSync(journal)) throw new UsageError(`${runDir}: no journal.ndjson there; give a run directory such as reports/<run-id>`);
  const names = options.reporter && options.reporter.length > 0 ? options.reporter : ['json', 'junit', 'summary'];
  const mux = new ReporterMultiplexer(createReporters(names, { env: { ...process.env, GITHUB_STEP_SUMMARY: '' } }));
  await mux.begin({ runs: 1, outDir: path.dirname(dir) });
  const observer = mux.forRun(dir);
  for await (const event of readJournal(journal)) observer.onEvent(event);
  await observer.onRunEnd?.();
  const [result] = await mux.end();
  if (!result) throw new UsageError(`${runDir}: the journal has no run in it`);
  if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else process.stdout.write(`rebuilt the reports of ${result.experiment} (${result.outcome}) in ${dir}\n`);
  return 0;
}
