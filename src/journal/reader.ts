import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RunEvent } from './events.js';

/**
 * Streams a journal's events in order, one line at a time, so a journal of a million samples is
 * never held whole. A run killed mid-write leaves a truncated last line; that line is skipped.
 * A broken line anywhere else means the file is not a journal, and throws naming `file:line`.
 */
export async function* readJournal(path: string): AsyncGenerator<RunEvent> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let pending: { text: string; line: number } | undefined;
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    if (pending) yield parseLine(path, pending.text, pending.line);
    pending = { text, line };
  }
  if (!pending) return;
  try {
    yield JSON.parse(pending.text) as RunEvent;
  } catch {
    // The writer died mid-line: everything before it is intact.
  }
}

function parseLine(path: string, text: string, line: number): RunEvent {
  try {
    return JSON.parse(text) as RunEvent;
  } catch (err) {
    throw new Error(`${path}:${line}: not a journal event (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** The whole journal as an array, for callers that want every event at once. */
export async function readJournalEvents(path: string): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for await (const e of readJournal(path)) out.push(e);
  return out;
}
