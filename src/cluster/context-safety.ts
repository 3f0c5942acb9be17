import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import type { ClusterRef } from '../journal/events.js';

/** The simulated cluster served over a kubeconfig (`gameday sim`): nothing real can break. */
const ALWAYS_ALLOWED = ['gameday-sim'];
const DEFAULT_ALLOWLIST = '.gameday-allow';

export interface ContextSafetyOptions {
  /** Context names or globs from `--allow-context`. */
  readonly allowContexts: readonly string[];
  /** @default $GAMEDAY_ALLOWLIST, else `.gameday-allow` in the current directory */
  readonly allowlistFile?: string;
}

/**
 * Refuses a run against a cluster nobody allowed (docs/architecture.md, principle 7). A kind cluster is no
 * exception: it may share a machine or a name with something that matters, so it is allowed the
 * same way as any other context.
 */
export async function assertContextAllowed(ref: ClusterRef, options: ContextSafetyOptions): Promise<void> {
  if (ref.kind === 'embedded') return;
  const context = ref.context ?? ref.name;
  if (ALWAYS_ALLOWED.includes(context)) return;
  if (options.allowContexts.some((pattern) => matchesGlob(context, pattern))) return;
  const { file, explicit } = allowlistPath(options.allowlistFile);
  const allowed = await readAllowlist(file, explicit);
  if (allowed.some((pattern) => matchesGlob(context, pattern))) return;
  throw new UsageError(refusal(context, file));
}

function allowlistPath(option: string | undefined): { file: string; explicit: boolean } {
  const named = option ?? process.env.GAMEDAY_ALLOWLIST;
  if (named) return { file: path.resolve(named), explicit: true };
  return { file: path.resolve(DEFAULT_ALLOWLIST), explicit: false };
}

/** One name or glob per line; `#` starts a comment. A missing default file allows nothing. */
async function readAllowlist(file: string, explicit: boolean): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return [];
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message;
    throw new UsageError(`cannot read the context allowlist ${file}: ${reason}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

/** `*` matches any run of characters, `?` one character; everything else is literal. */
function matchesGlob(name: string, pattern: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

function refusal(context: string, file: string): string {
  const kindNote = context.startsWith('kind-') ? ' (kind clusters too)' : '';
  return [
    `refusing to run against context "${context}": gameday acts on a real cluster only when it is allowed explicitly${kindNote}.`,
    'Allow it either with the flag',
    `  --allow-context ${context}`,
    `or by adding a line to ${file} (or to the file $GAMEDAY_ALLOWLIST names):`,
    `  ${context}`,
  ].join('\n');
}
