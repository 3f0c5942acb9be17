import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** How a control-plane component ended when nobody asked it to. */
export interface ComponentExit {
  readonly component: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly logFile: string;
}

/**
 * One control-plane binary running as a child process inside the cluster's network namespace,
 * its output in a log file. `setpriv --pdeathsig SIGKILL` ties its life to gameday's: if gameday
 * is killed outright, the kernel kills the component too, so no orphan outlives a crash.
 */
export class ComponentProcess {
  private readonly child: ChildProcess;
  private stopping = false;
  readonly exited: Promise<ComponentExit>;

  constructor(
    readonly component: string,
    execPrefix: readonly string[],
    binary: string,
    args: readonly string[],
    readonly logFile: string,
  ) {
    const log = openSync(logFile, 'a');
    const [file, ...prefix] = [...execPrefix, 'setpriv', '--pdeathsig', 'SIGKILL', '--', binary, ...args];
    this.child = spawn(file!, prefix, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.exited = new Promise((resolve) => {
      this.child.once('error', () => resolve({ component, code: 127, signal: null, logFile }));
      this.child.once('exit', (code, signal) => resolve({ component, code, signal, logFile }));
    });
  }

  get stopRequested(): boolean {
    return this.stopping;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The last lines of a component's log, for an error a person can act on. */
export async function logTail(logFile: string, lines = 15): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log written)';
  }
}
