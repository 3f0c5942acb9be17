import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import pc from 'picocolors';
import type { CheckEvent, FaultEvent, Phase, RunEvent, RunStartEvent } from '../journal/events.js';
import { exitCodeFor, worstOutcome, type Outcome } from '../core/outcome.js';
import { faultProblems } from './fault-problems.js';
import { plainText } from './plain-text.js';
import { apiRetriesText } from './retries-text.js';
import type { Reporter, RunContext } from './reporter.js';
import type { RunResult } from './result.js';
import { describeTargets } from './targets-text.js';
import { formatDuration, formatOffset } from './time-text.js';

export interface TerminalReporterOptions {
  readonly stream: NodeJS.WriteStream | Writable;
  /** Redraw a live status line. @default the stream's own `isTTY` */
  readonly isTTY?: boolean;
  /** Only what needs attention: failed checks, fault problems, aborts, signals, errors and the outcome. @default false */
  readonly quiet?: boolean;
  /** @default on a TTY unless `NO_COLOR` is set */
  readonly color?: boolean;
  /** Read for `NO_COLOR`. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The clock the time left is counted on. @default Date.now */
  readonly now?: () => number;
}

type Colors = ReturnType<typeof pc.createColors>;

const STATUS_REFRESH_MS = 1000;
const CLEAR_LINE = '\r\u001b[2K';

/**
 * What a person watching the run sees. On a TTY: the lines below plus a status line redrawn in
 * place (phase, time left, probe counts, latest fault step). Elsewhere (CI logs): the same
 * lines and nothing else, one per phase change, fault step, check verdict, node condition
 * change, Kubernetes Warning event, and the outcome.
 */
export class TerminalReporter implements Reporter {
  readonly name = 'terminal';
  private readonly stream: NodeJS.WriteStream | Writable;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly c: Colors;
  private start?: RunStartEvent;
  private phase?: Phase;
  private lastFaultStep = '';
  private readonly verdicts = new Map<string, string>();
  private readonly probeCounts = new Map<string, { ok: number; failed: number }>();
  private timer?: NodeJS.Timeout;
  private statusShown = false;
  private readonly now: () => number;

  constructor(options: TerminalReporterOptions) {
    this.stream = options.stream;
    this.tty = options.isTTY ?? ('isTTY' in options.stream && options.stream.isTTY === true);
    this.quiet = options.quiet ?? false;
    this.now = options.now ?? Date.now;
    const env = options.env ?? process.env;
    this.c = pc.createColors(options.color ?? (this.tty && !env.NO_COLOR));
  }

  onRunStart(event: RunStartEvent): void {
    this.start = event;
    this.phase = undefined;
    this.lastFaultStep = '';
    this.verdicts.clear();
    this.probeCounts.clear();
    const cluster = `${event.cluster.kind} ${event.cluster.name}`;
    this.line(
      `${this.c.bold(plainText(event.experiment))} ${this.c.dim(`(${plainText(event.file)})`)} run ${plainText(event.runId)}, seed ${event.seed}, cluster ${cluster}, ${formatDuration(event.durationMs)}`,
      true,
    );
    if (this.tty) this.timer = setInterval(() => this.drawStatus(), STATUS_REFRESH_MS).unref();
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'phase':
        this.phase = event.phase;
        this.line(`${this.at(event.t)} phase ${this.c.cyan(event.phase)}`, false);
        break;
      case 'fault':
        this.fault(event);
        break;
      case 'step': {
        const colour = event.phase === 'failed' ? this.c.red : event.phase === 'done' ? this.c.green : (t: string) => t;
        this.line(`${this.at(event.t)} step ${plainText(event.name)} ${event.kind} ${colour(event.phase)}${event.message ? `: ${plainText(event.message)}` : ''}`, event.phase !== 'start');
        break;
      }
      case 'check':
        this.check(event);
        break;
      case 'sample': {
        let counts = this.probeCounts.get(event.probe);
        if (!counts) this.probeCounts.set(event.probe, (counts = { ok: 0, failed: 0 }));
        if (event.ok) counts.ok++;
        else counts.failed++;
        return;
      }
      case 'abort':
        this.line(`${this.at(event.t)} ${this.c.red('abort')} ${plainText(event.check)}: ${plainText(event.message)}`, true);
        break;
      case 'signal':
        this.line(`${this.at(event.t)} ${this.c.yellow(`received ${event.signal}`)}, reverting faults`, true);
        break;
      case 'probe.error':
        this.line(`${this.at(event.t)} ${this.c.red('probe error')} ${plainText(event.probe)}: ${plainText(event.message ?? '')}`, true);
        break;
      case 'node.condition': {
        const change = event.previousStatus ? `${event.previousStatus} → ${event.status}` : event.status;
        const why = event.reason ? ` (${plainText(event.reason)}${event.message ? `: ${plainText(event.message)}` : ''})` : '';
        this.line(`${this.at(event.t)} node ${plainText(event.node)} ${plainText(event.condition)} ${change}${why}`, false);
        break;
      }
      case 'cluster.event':
        this.line(`${this.at(event.t)} ${this.c.yellow('Warning')} ${plainText(event.reason)} ${plainText(event.object)}: ${plainText(event.message)}${event.count > 1 ? ` (${event.count} times)` : ''}`, false);
        break;
      case 'log':
        if (event.level !== 'info') this.line(`${this.at(event.t)} ${event.level === 'error' ? this.c.red('error') : this.c.yellow('warning')}: ${plainText(event.message)}`, true);
        break;
      case 'run.end':
        this.stopStatus();
        return;
      default:
        return;
    }
    this.drawStatus();
  }

  onRunEnd(result: RunResult, run: RunContext): void {
    this.stopStatus();
    const files = [join(run.runDir, 'journal.ndjson'), ...run.files].filter((f) => existsSync(f));
    this.line(
      `${this.outcome(result.outcome)} ${plainText(result.experiment)} in ${formatDuration(result.durationMs)}: ${plainText(result.reason)} (exit ${exitCodeFor(result.outcome)})`,
      true,
    );
    // A run that survived a flaky API server says so; a clean one says so only when not quiet.
    if (result.apiRetries) this.line(`  API retries: ${apiRetriesText(result.apiRetries)}`, result.apiRetries.total > 0);
    for (const fault of result.faults) {
      for (const p of faultProblems(fault)) {
        if (p.type === 'revert-failed' || p.type === 'not-reverted') this.line(this.c.red(`  fault ${fault.id} ${fault.kind} ${plainText(p.message)} ${run.runDir}`), true);
      }
    }
    for (const file of files) this.line(`  ${file}`, true);
  }

  onEnd(results: readonly RunResult[]): void {
    if (results.length < 2) return;
    const byOutcome = new Map<Outcome, number>();
    for (const r of results) byOutcome.set(r.outcome, (byOutcome.get(r.outcome) ?? 0) + 1);
    const counts = [...byOutcome].map(([o, n]) => `${n} ${o}`).join(', ');
    this.line(`${results.length} runs: ${counts}; overall ${this.outcome(worstOutcome(results.map((r) => r.outcome)))}`, true);
    for (const r of results) this.line(`  ${this.outcome(r.outcome)} ${plainText(r.experiment)}: ${plainText(r.reason)}`, true);
  }

  private fault(e: FaultEvent): void {
    const bad = e.step === 'not-landed' || e.step === 'inject-failed' || e.step === 'revert-failed';
    const step = bad ? this.c.red(e.step) : e.step === 'interrupted' ? this.c.yellow(e.step) : e.step;
    let detail = '';
    // An inject says what it does in the fault's own words (`kill pod shop/web-1`); raw targets only when it has none.
    if (e.message) detail = `: ${plainText(e.message)}`;
    else if (e.step === 'inject' && e.targets !== undefined) detail = `: ${plainText(describeTargets(e.targets))}`;
    this.lastFaultStep = `${e.fault} ${e.kind} ${e.step}`;
    this.line(`${this.at(e.t)} fault ${e.fault} ${e.kind} ${step}${detail}`, bad);
  }

  private check(e: CheckEvent): void {
    // The steady state is polled until it holds; repeat a verdict only when it changes.
    // A met abort condition is told once, by the abort event that follows its check.
    if (e.role === 'abort' && e.verdict === 'failed') return;
    const key = `${e.role}\u0000${e.check}`;
    if (this.verdicts.get(key) === e.verdict) return;
    this.verdicts.set(key, e.verdict);
    const verdict = e.verdict === 'passed' ? this.c.green('passed') : e.verdict === 'failed' ? this.c.red('FAILED') : this.c.yellow('no data');
    // The message already states the measured value against the threshold.
    this.line(`${this.at(e.t)} ${e.role} ${verdict} ${plainText(e.message.startsWith(e.check) ? e.message : `${e.check}: ${e.message}`)}`, e.verdict !== 'passed');
  }

  private outcome(outcome: Outcome): string {
    const text = outcome.toUpperCase();
    if (outcome === 'passed') return this.c.green(this.c.bold(text));
    if (outcome === 'inconclusive') return this.c.yellow(this.c.bold(text));
    return this.c.red(this.c.bold(text));
  }

  private at(t: number): string {
    return this.c.dim(this.start ? formatOffset(t - this.start.t) : new Date(t).toISOString());
  }

  /** `important` lines are shown even in quiet mode. */
  private line(text: string, important: boolean): void {
    if (this.quiet && !important) return;
    if (this.statusShown) this.stream.write(CLEAR_LINE);
    this.statusShown = false;
    this.stream.write(`${text}\n`);
  }

  private drawStatus(): void {
    if (!this.tty || !this.start || this.timer === undefined) return;
    const parts = [this.c.cyan(this.phase ?? 'starting')];
    const left = this.start.t + this.start.durationMs - this.now();
    if (left > 0) parts.push(`${formatDuration(left)} left`);
    for (const [probe, n] of this.probeCounts) parts.push(`${plainText(probe)} ${n.ok} ok${n.failed ? ` ${this.c.red(`${n.failed} failed`)}` : ''}`);
    if (this.lastFaultStep) parts.push(this.lastFaultStep);
    const columns = 'columns' in this.stream && typeof this.stream.columns === 'number' ? this.stream.columns : 120;
    this.stream.write(`${CLEAR_LINE}${truncateVisible(parts.join(' · '), columns - 1)}`);
    this.statusShown = true;
  }

  private stopStatus(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.statusShown) this.stream.write(CLEAR_LINE);
    this.statusShown = false;
  }
}

/** Cuts text to a width without counting (or cutting through) colour escapes, so the status line never wraps. */
function truncateVisible(text: string, width: number): string {
  let visible = 0;
  let out = '';
  // eslint-disable-next-line no-control-regex
  for (const token of text.split(/(\u001b\[[0-9;]*m)/)) {
    if (token.startsWith('\u001b[')) {
      out += token;
      continue;
    }
    const room = width - visible;
    if (room <= 0) continue;
    out += token.slice(0, room);
    visible += Math.min(token.length, room);
  }
  return out;
}
