import type { Outcome } from './outcome.js';

/** One problem in an input file, located so an editor can jump to it. */
export interface SourceIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path into the document, e.g. `spec.faults[0].at`. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: SourceIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}

/** Base of the few named errors the CLI turns into exit codes (src/cli/exit.ts). */
export abstract class GamedayError extends Error {
  abstract readonly outcome: Outcome;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A SpecError's message lists this many problems of each file, then how many more there are. */
export const LISTED_ISSUES_PER_FILE = 100;

/** Bad experiment files: every problem found, not just the first. Exit 2. */
export class SpecError extends GamedayError {
  readonly outcome = 'invalid' as const;
  constructor(readonly issues: readonly SourceIssue[]) {
    super(listIssues(issues));
  }
}

/** The issues, one a line; of each file's run of issues, the first LISTED_ISSUES_PER_FILE and how many more there are. */
function listIssues(issues: readonly SourceIssue[]): string {
  const lines: string[] = [];
  for (let start = 0; start < issues.length; ) {
    const file = issues[start]!.file;
    let end = start;
    while (end < issues.length && issues[end]!.file === file) end++;
    for (let i = start; i < Math.min(end, start + LISTED_ISSUES_PER_FILE); i++) lines.push(formatIssue(issues[i]!));
    const more = end - start - LISTED_ISSUES_PER_FILE;
    if (more > 0) lines.push(`${file}: …and ${more} more problem${more === 1 ? '' : 's'} (only the first ${LISTED_ISSUES_PER_FILE} of each file are listed)`);
    start = end;
  }
  return lines.join('\n');
}

/** Bad command line or bad options. Exit 2. */
export class UsageError extends GamedayError {
  readonly outcome = 'invalid' as const;
}

/** The plan refuses: blast radius, a disallowed context, no targets. Exit 2. */
export class PlanError extends GamedayError {
  readonly outcome = 'invalid' as const;
}

/** A fault did not land, a preflight failed, or the steady state never held. Exit 3. */
export class InconclusiveError extends GamedayError {
  readonly outcome = 'inconclusive' as const;
}

/** gameday itself could not do its job (cluster unreachable, a revert failed…). Exit 4. */
export class HarnessError extends GamedayError {
  readonly outcome = 'error' as const;
}

/** Another game day holds the cluster's run lock (src/cluster/run-lock.ts). Exit 5. */
export class ClusterBusyError extends GamedayError {
  readonly outcome = 'busy' as const;
}

/** SIGINT, SIGTERM or `gameday stop` arrived. Exit 130. */
export class InterruptedError extends GamedayError {
  readonly outcome = 'interrupted' as const;
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
  }
}

export function errorMessage(err: unknown): string {
  return apiStatusMessage(err) ?? apiExceptionMessage(err) ?? (err instanceof Error ? err.message : String(err));
}

/**
 * An ApiException whose body is no Status (client-node leaves undeclared answers such as 401
 * unparsed): its code, message line and text body. The rest of its text is every response header,
 * and a proxy in front of the API server may answer with credentials there (Set-Cookie).
 */
function apiExceptionMessage(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (!(err instanceof Error) || typeof code !== 'number' || !err.message.startsWith('HTTP-Code: ')) return undefined;
  const line = /^Message: (.*)$/m.exec(err.message)?.[1]?.trim();
  const body = (err as { body?: unknown }).body;
  const text = typeof body === 'string' && body.trim() !== '' ? ` (${body.trim().slice(0, 200)})` : '';
  return `HTTP ${code}${line ? `: ${line}` : ''}${text}`;
}

/**
 * client-node's ApiException says everything at once (its body as escaped JSON, every response
 * header); what a person needs is the API server's own Status: `HTTP 403 Forbidden: pods "web-1"
 * is forbidden: User "…" cannot delete resource "pods" in API group "" in the namespace "shop"`.
 */
function apiStatusMessage(err: unknown): string | undefined {
  const { code, body: raw } = (err ?? {}) as { code?: unknown; body?: unknown };
  if (!(err instanceof Error) || typeof code !== 'number') return undefined;
  let body = raw;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const status = body as { kind?: unknown; reason?: unknown; message?: unknown } | undefined;
  if (status?.kind !== 'Status' || typeof status.message !== 'string') return undefined;
  return `HTTP ${code}${typeof status.reason === 'string' ? ` ${status.reason}` : ''}: ${status.message}`;
}
