import { access, mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RunEvent } from '../journal/events.js';
import { BlastRadiusData } from './blast-radius-data.js';
import { ConsistencyData } from './consistency-data.js';
import { historyEntry, RunHistory } from './history.js';
import { renderReportHtml } from './html/render-report.js';
import { TimelineBuilder } from './html/timeline.js';
import { uplotAssets } from './html/uplot-assets.js';
import { renderIndexPage, type IndexRun } from './index-page.js';
import { DEFAULT_TOLERANCE, findRegressions, type RegressionTolerance } from './regression.js';
import type { BeginInfo, Reporter, RunContext } from './reporter.js';
import type { RunResult } from './result.js';

export interface HtmlReporterOptions {
  /** How many runs of the same experiment the trends show, this one included. @default 10 */
  readonly historyRuns?: number;
  /** How far a check's value may move the wrong way before the report flags it. @default DEFAULT_TOLERANCE */
  readonly tolerance?: RegressionTolerance;
}

/**
 * Writes `<runDir>/report.html` (the timeline, verdicts and trends, one offline file), appends
 * the run to `<outDir>/history.ndjson`, and after several runs writes `<outDir>/index.html`.
 * Samples are folded into per-second buckets as events arrive, so the report costs the same
 * memory for a million samples as for a thousand.
 */
export class HtmlReporter implements Reporter {
  readonly name = 'html';
  readonly outputs = ['report.html'];
  private readonly historyRuns: number;
  private readonly tolerance: RegressionTolerance;
  private outDir?: string;
  private readonly timelines = new Map<string, TimelineBuilder>();
  private readonly data = new Map<string, ConsistencyData>();
  private readonly blastRadius = new Map<string, BlastRadiusData>();
  private readonly runs: IndexRun[] = [];

  constructor(options: HtmlReporterOptions = {}) {
    this.historyRuns = options.historyRuns ?? 10;
    this.tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  }

  onBegin(info: BeginInfo): void {
    this.outDir = info.outDir;
  }

  onEvent(event: RunEvent, run: RunContext): void {
    if (event.type === 'run.start') {
      this.timelines.set(run.runDir, new TimelineBuilder());
      this.data.set(run.runDir, new ConsistencyData());
      this.blastRadius.set(run.runDir, new BlastRadiusData());
    }
    this.timelines.get(run.runDir)?.add(event);
    this.data.get(run.runDir)?.add(event);
    this.blastRadius.get(run.runDir)?.add(event);
  }

  async onRunEnd(result: RunResult, run: RunContext): Promise<void> {
    const builder = this.timelines.get(run.runDir) ?? new TimelineBuilder();
    this.timelines.delete(run.runDir);
    const data = this.data.get(run.runDir)?.build() ?? [];
    this.data.delete(run.runDir);
    const blastRadius = this.blastRadius.get(run.runDir)?.build() ?? [];
    this.blastRadius.delete(run.runDir);
    const history = new RunHistory(join(this.outDir ?? dirname(run.runDir), 'history.ndjson'));
    const entry = historyEntry(result);
    await history.append(entry);
    const recent = await history.recent(result.experiment, this.historyRuns, result.startedAtMs);
    const previous = recent.filter((e) => e.runId !== result.runId).at(-1);
    const files = run.files.map((f) => basename(f)).filter((f) => f !== 'report.html' && f !== 'report.pdf');
    if (await exists(join(run.runDir, 'journal.ndjson'))) files.unshift('journal.ndjson');
    const html = renderReportHtml(
      { result, timeline: builder.build(result), history: recent, regressions: previous ? findRegressions(previous, entry, this.tolerance) : [], files, data, blastRadius },
      await uplotAssets(),
    );
    await mkdir(run.runDir, { recursive: true });
    await writeFile(join(run.runDir, 'report.html'), html);
    this.runs.push({ result, runDir: run.runDir });
  }

  async onEnd(): Promise<void> {
    if (this.runs.length < 2 || !this.outDir) return;
    await mkdir(this.outDir, { recursive: true });
    await writeFile(join(this.outDir, 'index.html'), renderIndexPage(this.runs, this.outDir));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
