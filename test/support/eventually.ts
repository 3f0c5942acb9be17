import { inspect } from 'node:util';

/** What a probe answers while the awaited state has not come yet. */
type NotYet = undefined | null | false;

const POLL_EVERY_MS = 50;

/**
 * Polls `probe` until it answers something other than undefined, null or false, and resolves to
 * that answer. A probe that throws counts as "not yet": a read of an object that does not exist
 * yet is part of waiting. After `timeoutMs` it fails, saying what was awaited and the last answer
 * (or error) seen.
 */
export async function eventually<T>(what: string, probe: () => T | NotYet | Promise<T | NotYet>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const answer = await probe();
      if (answer !== undefined && answer !== null && answer !== false) return answer;
      last = answer;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${describe(last)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message.slice(0, 500)}`;
  return inspect(value, { depth: 3, breakLength: Infinity, maxStringLength: 300 });
}
