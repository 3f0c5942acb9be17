import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../src/browser/chromium.js';
import type { CheckEvent, RunEvent } from '../../src/journal/events.js';
import { ReporterMultiplexer } from '../../src/report/multiplexer.js';
import type { Reporter } from '../../src/report/reporter.js';
import type { RunResult } from '../../src/report/result.js';
import { FIXTURES, TextSink } from './fixture-journals.js';

/** A failed run with three probes (two http, one pdb) across two fault windows, warnings and an abort. */
export const RICH_JOURNAL = join(FIXTURES, 'rich-timeline.ndjson');

export function readEvents(path: string): RunEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RunEvent);
}

/** Plays each run's events through one multiplexer, as `gameday run` over several experiments does. */
export async function playEventRuns(runs: readonly (readonly RunEvent[])[], reporters: readonly Reporter[], outDir: string): Promise<readonly RunResult[]> {
  const stderr = new TextSink();
  const mux = new ReporterMultiplexer(reporters, { stderr });
  await mux.begin({ runs: runs.length, outDir });
  for (const events of runs) {
    const start = events[0] as Extract<RunEvent, { type: 'run.start' }>;
    const observer = mux.forRun(join(outDir, start.runId));
    for (const event of events) observer.onEvent(event);
    await observer.onRunEnd?.();
  }
  const results = await mux.end();
  if (stderr.text !== '') throw new Error(`a reporter failed: ${stderr.text}`);
  return results;
}

/**
 * The same run as another run id, `laterMs` later, with some check values and verdicts replaced:
 * the runs of a history.
 */
export function variantRun(events: readonly RunEvent[], runId: string, laterMs: number, checks: Readonly<Record<string, Partial<Pick<CheckEvent, 'value' | 'verdict'>>>> = {}): RunEvent[] {
  return events.map((e) => {
    const moved = { ...e, t: e.t + laterMs } as RunEvent;
    if (moved.type === 'run.start') return { ...moved, runId };
    if (moved.type === 'check' && checks[moved.check]) return { ...moved, ...checks[moved.check] };
    return moved;
  });
}

/**
 * Opens a report in Chromium and waits for its script to finish drawing. `problems` collects what
 * a report must never do: console errors and warnings, page errors, requests off the file, dialogs.
 */
export async function openReport(browser: Browser, file: string, viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction("document.documentElement.dataset.ready === 'true'", undefined, { timeout: 10_000 });
  return { page, problems };
}

/** One Chromium for the suite (launched before its tests, closed after); call inside `describe`, read it in the tests. */
export function useChromium(purpose: string): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium(purpose);
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser!;
}
