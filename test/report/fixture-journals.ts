import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../src/journal/events.js';
import { ReporterMultiplexer } from '../../src/report/multiplexer.js';
import type { Reporter } from '../../src/report/reporter.js';
import type { RunResult } from '../../src/report/result.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/report/', import.meta.url));

/** `node-partition`: a passing run whose journal holds node condition changes and Kubernetes Warning events. */
/** `aborted`: a drain stopped by its abort condition (journal of a real run, samples thinned). */
export type FixtureName = 'passing' | 'failed-slo' | 'inconclusive-not-landed' | 'interrupted-revert-failed' | 'node-partition' | 'aborted';

export function journalPath(name: FixtureName): string {
  return join(FIXTURES, `${name}.ndjson`);
}

export function fixtureEvents(name: FixtureName): RunEvent[] {
  return readFileSync(journalPath(name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RunEvent);
}

/** Collects what is written to it, like a CI log. */
export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gameday-report-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Plays fixture journals through a multiplexer the way the CLI and engine drive it. */
export async function playRuns(
  names: readonly FixtureName[],
  reporters: readonly Reporter[],
  outDir: string,
  stderr: Writable = new TextSink(),
): Promise<readonly RunResult[]> {
  const mux = new ReporterMultiplexer(reporters, { stderr });
  await mux.begin({ runs: names.length, outDir });
  for (const name of names) {
    const events = fixtureEvents(name);
    const runId = (events[0] as Extract<RunEvent, { type: 'run.start' }>).runId;
    const observer = mux.forRun(join(outDir, runId));
    for (const event of events) observer.onEvent(event);
    await observer.onRunEnd?.();
  }
  return mux.end();
}
