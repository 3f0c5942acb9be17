import { posix } from 'node:path';
import { ContainerFilesystem } from './container-filesystem.js';
import { FsError } from './filesystem-error.js';
import { evaluateArithmetic, ExpansionError } from './shell-arithmetic.js';
import type { PodNetwork } from '../dataplane/pod-network.js';
import { globRegExp } from './glob-pattern.js';
import { COMMANDS } from './container-commands.js';
import type { CommandContext, CommandIo } from './shell-commands.js';
import { parseScript, ShellSyntaxError, type AndOr, type Command, type List, type Pipeline, type Redirect, type Word, type WordPart } from './shell-syntax.js';

/** Input that arrives in chunks. */
export interface ByteSource {
  /** The next chunk, or undefined once the input has ended. */
  read(): Promise<Buffer | undefined>;
}

/** Where a process's output goes and where its input comes from. */
export interface ProcessIo {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
  /** Standard input as it arrives; undefined when the process has none. */
  readonly stdin?: ByteSource;
  /** A terminal: a shell without a script prompts, echoes what is typed and runs each line. */
  readonly tty?: boolean;
}

export type ExecOutcome =
  /** The process ran and exited with this status. */
  | { readonly kind: 'exited'; readonly code: number }
  /** The runtime could not start it (no such executable), as runc reports. */
  | { readonly kind: 'start-failed'; readonly message: string };

type Sink = (data: Buffer) => void;

/** The image's own program (its server, its batch work), run for whatever the shell does not know. */
export type ImageProgram = (argv: readonly string[], io: { readonly stdout: Sink; readonly stderr: Sink }, signal: AbortSignal) => Promise<number>;

export interface ContainerShellOptions {
  readonly fs: ContainerFilesystem;
  readonly env: ReadonlyMap<string, string>;
  readonly hostname: string;
  /** @default '/' */
  readonly workingDir?: string;
  /**
   * Set for a container's main process: a program the shell does not know is the image's own.
   * Without it (exec) such a program is not found.
   */
  readonly imageProgram?: ImageProgram;
  /** The pod's network, for wget, curl and nslookup. */
  readonly network?: PodNetwork;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);
const DECLARATIONS = new Set(['export', 'readonly', 'local']);

/** A shell's `exit n`: unwinds the script with its status. */
class ShellExit {
  constructor(readonly code: number) {}
}

/** `break n` / `continue n`: unwinds to the enclosing loop, `levels` loops out. */
class LoopControl {
  constructor(readonly kind: 'break' | 'continue', readonly levels: number) {}
}

/** `return n` from a function. */
class FunctionReturn {
  constructor(readonly code: number) {}
}

/** A command's standard input: loaded once, then read in turn by the commands that share it. */
class ShellInput {
  private data: Buffer | undefined;
  private loading: Promise<Buffer> | undefined;
  private pos = 0;

  constructor(private readonly load: () => Promise<Buffer>) {}

  static of(data: Buffer): ShellInput {
    return new ShellInput(() => Promise.resolve(data));
  }

  private async loaded(): Promise<Buffer> {
    this.data ??= await (this.loading ??= this.load());
    return this.data;
  }

  /** What is left of the input; it is consumed. */
  async rest(): Promise<Buffer> {
    const d = await this.loaded();
    const rest = d.subarray(this.pos);
    this.pos = d.length;
    return rest;
  }

  /** The next line without its newline, or undefined at the end. */
  async line(): Promise<string | undefined> {
    const d = await this.loaded();
    if (this.pos >= d.length) return undefined;
    const nl = d.indexOf(10, this.pos);
    const end = nl < 0 ? d.length : nl;
    const text = d.subarray(this.pos, end).toString('utf8');
    this.pos = nl < 0 ? d.length : nl + 1;
    return text;
  }
}

/** Reads a source to its end. */
function readAll(source: ByteSource): () => Promise<Buffer> {
  return async () => {
    const chunks: Buffer[] = [];
    for (let c = await source.read(); c !== undefined; c = await source.read()) chunks.push(c);
    return Buffer.concat(chunks);
  };
}

interface ShellIo {
  readonly out: Sink;
  readonly err: Sink;
  readonly input: ShellInput;
}

interface FileRedirect {
  readonly path: string;
  readonly append: boolean;
  readonly chunks: Buffer[];
}

function untilAborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

/** Lets timers and I/O run between loop iterations, so `while true; do :; done` cannot starve the cluster. */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function signalName(spec: string): string {
  const s = spec.toUpperCase().replace(/^SIG/, '');
  return ({ '0': 'EXIT', '1': 'HUP', '2': 'INT', '3': 'QUIT', '9': 'KILL', '15': 'TERM' } as Record<string, string>)[s] ?? s;
}

/** A field being built by expansion: its text, and the same text as a glob pattern. */
interface Field {
  text: string;
  pattern: string;
  glob: boolean;
  /** A quoted part or a literal makes the field, even empty; an empty unquoted expansion does not. */
  real: boolean;
}

const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * The processes an exec or a container starts: a program from COMMANDS run directly, or a POSIX
 * shell (`sh -c`, a script file, or a script on stdin) interpreted over the container's simulated
 * filesystem with the exit statuses, `set -e`, traps and control flow a real one has.
 */
export class ContainerShell {
  private readonly vars: Map<string, string>;
  private cwd: string;
  private status = 0;
  private arg0 = 'sh';
  private positional: string[] = [];
  private readonly functions = new Map<string, Command>();
  private readonly flags = { errexit: false, xtrace: false, nounset: false, noglob: false, pipefail: false };
  private readonly traps = new Map<string, string>();
  private pendingSignals: string[] = [];
  /** Inside an `if`/`while` condition, a `!`, or a non-final part of `&&`/`||`: `set -e` does not apply. */
  private conditionDepth = 0;
  private loopDepth = 0;
  private functionDepth = 0;
  /** The status of the last command substitution, for a command that is only assignments. */
  private substitutionStatus: number | undefined;

  constructor(private readonly options: ContainerShellOptions) {
    this.vars = new Map(options.env);
    this.cwd = options.workingDir ?? '/';
  }

  async exec(argv: readonly string[], io: ProcessIo, signal: AbortSignal): Promise<ExecOutcome> {
    const program = argv[0];
    const shellIo: ShellIo = { out: io.stdout, err: io.stderr, input: new ShellInput(io.stdin ? readAll(io.stdin) : () => Promise.resolve(Buffer.alloc(0))) };
    if (program === undefined) {
      if (this.options.imageProgram) return { kind: 'exited', code: await this.options.imageProgram([], io, signal) };
      return { kind: 'start-failed', message: 'exec: no command given' };
    }
    const name = posix.basename(program);
    if (SHELLS.has(name)) return { kind: 'exited', code: await this.shell(argv.slice(1), shellIo, signal, io.stdin ? { source: io.stdin, tty: io.tty ?? false } : undefined) };
    if (this.runs(program) || this.options.imageProgram) return { kind: 'exited', code: await this.program(argv, this.vars, shellIo, signal) };
    return { kind: 'start-failed', message: `exec: "${program}": executable file not found in $PATH` };
  }

  /** Whether `program` runs in this shell itself: a shell, a command of COMMANDS, or a script file. */
  runs(program: string): boolean {
    const name = posix.basename(program);
    return SHELLS.has(name) || COMMANDS.has(name) || this.scriptFile(program) !== undefined;
  }

  /**
   * SIGTERM or SIGINT to the shell. As a container's first process it has no default handler, so
   * only a trap reacts, once the command in the foreground has finished.
   */
  deliver(signal: 'TERM' | 'INT'): boolean {
    if (!this.traps.get(signal)) return false;
    this.pendingSignals.push(signal);
    return true;
  }

  private subshell(): ContainerShell {
    const sub = new ContainerShell({ ...this.options, env: this.vars, workingDir: this.cwd });
    sub.status = this.status;
    sub.arg0 = this.arg0;
    sub.positional = [...this.positional];
    for (const [k, v] of this.functions) sub.functions.set(k, v);
    Object.assign(sub.flags, this.flags);
    return sub;
  }

  /** Runs `fn` as a whole shell would: `exit` ends it with its status, and the EXIT trap runs. */
  private async whole(fn: () => Promise<number>, io: ShellIo, signal: AbortSignal): Promise<number> {
    let code: number;
    try {
      code = await fn();
    } catch (err) {
      code = this.unwound(err);
    }
    const onExit = this.traps.get('EXIT');
    if (onExit) {
      this.traps.delete('EXIT');
      try {
        await this.runText(onExit, io, signal);
      } catch (err) {
        code = this.unwound(err);
      }
    }
    return code;
  }

  private unwound(err: unknown): number {
    if (err instanceof ShellExit) return err.code;
    if (err instanceof LoopControl) return 0;
    if (err instanceof FunctionReturn) return err.code;
    throw err;
  }

  private async shell(args: readonly string[], io: ShellIo, signal: AbortSignal, interactive?: { source: ByteSource; tty: boolean }): Promise<number> {
    let i = 0;
    let command = false;
    let fromStdin = false;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--' || a === '-') {
        i++;
        break;
      }
      if (!/^[-+][A-Za-z]+$/.test(a)) break;
      for (const f of a.slice(1)) {
        if (f === 'c') command = true;
        else if (f === 's') fromStdin = true;
        else if (f === 'o') {
          const problem = this.setOption(args[++i], a[0] === '-');
          if (problem) {
            io.err(Buffer.from(`sh: ${problem}\n`));
            return 2;
          }
        } else this.setFlag(f, a[0] === '-');
      }
    }
    if (command) {
      const script = args[i];
      if (script === undefined) {
        io.err(Buffer.from('sh: -c requires an argument\n'));
        return 2;
      }
      this.arg0 = args[i + 1] ?? 'sh';
      this.positional = args.slice(i + 2);
      return this.whole(() => this.runText(script, io, signal), io, signal);
    }
    if (i < args.length && !fromStdin) {
      const path = args[i]!;
      const text = this.scriptFile(path);
      if (text === undefined) {
        io.err(Buffer.from(`sh: can't open '${path}': No such file or directory\n`));
        return 127;
      }
      this.arg0 = path;
      this.positional = args.slice(i + 1);
      return this.whole(() => this.runText(text, io, signal), io, signal);
    }
    this.positional = args.slice(i);
    if (interactive) return this.interactive(interactive.source, interactive.tty, io, signal);
    const script = (await io.input.rest()).toString('utf8');
    return this.whole(() => this.runText(script, io, signal), io, signal);
  }

  /** The text of an existing file at `path` (relative to the working directory), if it is one. */
  private scriptFile(path: string): string | undefined {
    if (!path.includes('/')) return undefined;
    const abs = ContainerFilesystem.absolute(this.cwd, path);
    return this.options.fs.stat(abs)?.kind === 'file' ? this.options.fs.readFile(abs).toString('utf8') : undefined;
  }

  private setFlag(flag: string, on: boolean): void {
    if (flag === 'e') this.flags.errexit = on;
    else if (flag === 'x') this.flags.xtrace = on;
    else if (flag === 'u') this.flags.nounset = on;
    else if (flag === 'f') this.flags.noglob = on;
  }

  private setOption(name: string | undefined, on: boolean): string | undefined {
    const letters: Record<string, string> = { errexit: 'e', xtrace: 'x', nounset: 'u', noglob: 'f' };
    if (name === 'pipefail') this.flags.pipefail = on;
    else if (name && letters[name]) this.setFlag(letters[name], on);
    else if (name !== undefined && !['monitor', 'verbose', 'noclobber', 'allexport', 'notify', 'vi', 'emacs'].includes(name)) return `set: illegal option -o ${name}`;
    return undefined;
  }

  /**
   * `sh` with stdin and no script: each complete command runs as it arrives. On a terminal it
   * prompts, echoes the keys (the client's terminal is raw), handles backspace, ^C and ^D, and
   * turns \n into \r\n.
   */
  private async interactive(source: ByteSource, tty: boolean, io: ShellIo, signal: AbortSignal): Promise<number> {
    const out: Sink = tty ? (d) => io.out(Buffer.from(d.toString('utf8').replace(/\r?\n/g, '\r\n'))) : io.out;
    const lineIo: ShellIo = { out, err: tty ? out : io.err, input: ShellInput.of(Buffer.alloc(0)) };
    const echo = (text: string): void => {
      if (tty) io.out(Buffer.from(text));
    };
    let pending = '';
    let line = '';
    /** Runs what has been typed once it parses as complete commands; false while more is needed. */
    const submit = async (): Promise<void> => {
      const text = pending + line;
      line = '';
      try {
        parseScript(text);
      } catch (err) {
        if (err instanceof ShellSyntaxError && /end of file|unterminated|missing/.test(err.message)) {
          pending = `${text}\n`;
          echo('> ');
          return;
        }
      }
      pending = '';
      await this.runText(text, lineIo, signal);
      echo('# ');
    };
    echo('# ');
    try {
      for (;;) {
        const chunk = await Promise.race([source.read(), untilAborted(signal)]);
        if (signal.aborted) return 137;
        if (chunk === undefined) {
          if ((pending + line).trim()) {
            pending = '';
            await this.runText(pending + line, lineIo, signal);
          }
          return this.status;
        }
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            echo('\r\n');
            await submit();
          } else if (tty && (ch === '\x7f' || ch === '\b')) {
            if (line) echo('\b \b');
            line = line.slice(0, -1);
          } else if (tty && ch === '\x03') {
            echo('^C\r\n# ');
            line = '';
            pending = '';
          } else if (tty && ch === '\x04') {
            if (!line) {
              echo('\r\n');
              return this.status;
            }
          } else {
            line += ch;
            echo(ch);
          }
        }
      }
    } catch (e) {
      return this.unwound(e);
    }
  }

  /** Parses and runs a script in this shell; a syntax error is reported with status 2. */
  private async runText(script: string, io: ShellIo, signal: AbortSignal): Promise<number> {
    let list: List;
    try {
      list = parseScript(script);
    } catch (err) {
      if (!(err instanceof ShellSyntaxError)) throw err;
      io.err(Buffer.from(`sh: ${err.message}\n`));
      this.status = 2;
      return 2;
    }
    return this.runList(list, io, signal);
  }

  private async runList(list: List, io: ShellIo, signal: AbortSignal): Promise<number> {
    for (const item of list) {
      if (signal.aborted) throw new ShellExit(137);
      await this.takeSignals(io, signal);
      await this.runAndOr(item, io, signal);
    }
    return this.status;
  }

  private async takeSignals(io: ShellIo, signal: AbortSignal): Promise<void> {
    while (this.pendingSignals.length) {
      const action = this.traps.get(this.pendingSignals.shift()!);
      if (!action) continue;
      const status = this.status;
      await this.runText(action, io, signal);
      this.status = status;
    }
  }

  private async runAndOr(item: AndOr, io: ShellIo, signal: AbortSignal): Promise<number> {
    let ranLast = false;
    for (let k = 0; k < item.pipelines.length; k++) {
      const op = item.operators[k - 1];
      if ((op === '&&' && this.status !== 0) || (op === '||' && this.status === 0)) continue;
      const last = k === item.pipelines.length - 1;
      if (!last) this.conditionDepth++;
      try {
        this.status = await this.runPipeline(item.pipelines[k]!, io, signal);
      } finally {
        if (!last) this.conditionDepth--;
      }
      ranLast = last;
    }
    if (this.flags.errexit && this.status !== 0 && ranLast && !item.pipelines[item.pipelines.length - 1]!.negated && this.conditionDepth === 0) {
      throw new ShellExit(this.status);
    }
    return this.status;
  }

  private async runPipeline(p: Pipeline, io: ShellIo, signal: AbortSignal): Promise<number> {
    if (p.negated) this.conditionDepth++;
    let status = 0;
    try {
      if (p.commands.length === 1) {
        status = await this.runCommand(p.commands[0]!, io, signal);
      } else {
        // Stages run one after the other, each in a subshell, the output of one the input of the next.
        let input = io.input;
        let failed = 0;
        for (let i = 0; i < p.commands.length; i++) {
          const last = i === p.commands.length - 1;
          const captured: Buffer[] = [];
          const sub = this.subshell();
          const stageIo: ShellIo = { out: last ? io.out : (d) => captured.push(d), err: io.err, input };
          status = await sub.whole(() => sub.runCommand(p.commands[i]!, stageIo, signal), stageIo, signal);
          if (status !== 0) failed = status;
          if (!last) input = ShellInput.of(Buffer.concat(captured));
        }
        if (this.flags.pipefail && failed) status = failed;
      }
    } finally {
      if (p.negated) this.conditionDepth--;
    }
    return p.negated ? (status === 0 ? 1 : 0) : status;
  }

  private async condition(list: List, io: ShellIo, signal: AbortSignal): Promise<boolean> {
    this.conditionDepth++;
    try {
      return (await this.runList(list, io, signal)) === 0;
    } finally {
      this.conditionDepth--;
    }
  }

  private runCommand(cmd: Command, io: ShellIo, signal: AbortSignal): Promise<number> {
    if (signal.aborted) throw new ShellExit(137);
    switch (cmd.kind) {
      case 'simple':
        return this.runSimple(cmd, io, signal);
      case 'function':
        this.functions.set(cmd.name, cmd.body);
        return Promise.resolve(0);
      case 'group':
        return this.redirected(cmd.redirects, io, signal, (inner) => {
          if (!cmd.subshell) return this.runList(cmd.body, inner, signal);
          const sub = this.subshell();
          return sub.whole(() => sub.runList(cmd.body, inner, signal), inner, signal);
        });
      case 'if':
        return this.redirected(cmd.redirects, io, signal, async (inner) => {
          for (const b of cmd.branches) if (await this.condition(b.condition, inner, signal)) return this.runList(b.body, inner, signal);
          return cmd.otherwise ? this.runList(cmd.otherwise, inner, signal) : 0;
        });
      case 'loop':
        return this.redirected(cmd.redirects, io, signal, (inner) => this.loop(async () => (await this.condition(cmd.condition, inner, signal)) !== cmd.until, () => this.runList(cmd.body, inner, signal), signal));
      case 'for':
        return this.redirected(cmd.redirects, io, signal, async (inner) => {
          const items: string[] = [];
          if (cmd.items) for (const w of cmd.items) items.push(...(await this.fields(w, inner, signal)));
          else items.push(...this.positional);
          let i = 0;
          return this.loop(() => Promise.resolve(i < items.length), () => {
            this.vars.set(cmd.name, items[i++]!);
            return this.runList(cmd.body, inner, signal);
          }, signal);
        });
      case 'case':
        return this.redirected(cmd.redirects, io, signal, async (inner) => {
          const subject = await this.text(cmd.subject, inner, signal);
          for (const arm of cmd.arms) {
            for (const p of arm.patterns) {
              if (globRegExp(await this.pattern(p, inner, signal), true).test(subject)) return this.runList(arm.body, inner, signal);
            }
          }
          return 0;
        });
    }
  }

  /** A loop: the body runs while `more` says so; `break` and `continue` reach it. */
  private async loop(more: () => Promise<boolean>, body: () => Promise<number>, signal: AbortSignal): Promise<number> {
    let status = 0;
    this.loopDepth++;
    try {
      for (;;) {
        await yieldTurn();
        if (signal.aborted) throw new ShellExit(137);
        if (!(await more())) break;
        try {
          status = await body();
        } catch (err) {
          if (!(err instanceof LoopControl)) throw err;
          if (err.levels > 1) throw new LoopControl(err.kind, err.levels - 1);
          status = 0;
          if (err.kind === 'break') break;
        }
      }
    } finally {
      this.loopDepth--;
    }
    this.status = status;
    return status;
  }

  private async runSimple(cmd: Extract<Command, { kind: 'simple' }>, io: ShellIo, signal: AbortSignal): Promise<number> {
    this.substitutionStatus = undefined;
    const argv: string[] = [];
    const assigned: [string, string][] = [];
    try {
      for (const a of cmd.assignments) assigned.push([a.name, await this.text(a.value, io, signal)]);
      for (const w of cmd.words) {
        // export, readonly and local take assignments: `local v=$1` keeps $1 whole.
        const assignment = DECLARATIONS.has(argv[0] ?? '') && w[0]?.kind === 'text' && !w[0].quoted && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0].text);
        if (assignment) argv.push(await this.text(w, io, signal));
        else argv.push(...(await this.fields(w, io, signal)));
      }
    } catch (err) {
      if (!(err instanceof ExpansionError)) throw err;
      io.err(Buffer.from(`sh: ${err.message}\n`));
      throw new ShellExit(2);
    }
    if (this.flags.xtrace) io.err(Buffer.from(`+ ${[...assigned.map(([k, v]) => `${k}=${v}`), ...argv].join(' ')}\n`));
    if (!argv.length) {
      for (const [k, v] of assigned) this.vars.set(k, v);
      const status = await this.redirected(cmd.redirects, io, signal, () => Promise.resolve(0));
      return status || (this.substitutionStatus ?? 0);
    }
    return this.redirected(cmd.redirects, io, signal, (inner) => this.invoke(argv, assigned, inner, signal));
  }

  /** Runs a builtin, a function or a program, with the command's own assignments. */
  private async invoke(argv: string[], assigned: [string, string][], io: ShellIo, signal: AbortSignal): Promise<number> {
    const [program, ...args] = argv as [string, ...string[]];
    const builtin = this.builtin(program);
    const fn = this.functions.get(program);
    if (builtin || fn) {
      for (const [k, v] of assigned) this.vars.set(k, v);
      if (builtin) return builtin(args, io, signal);
      const saved = this.positional;
      this.positional = args;
      this.functionDepth++;
      try {
        return await this.runCommand(fn!, io, signal);
      } catch (err) {
        if (err instanceof FunctionReturn) return err.code;
        throw err;
      } finally {
        this.positional = saved;
        this.functionDepth--;
      }
    }
    const env = assigned.length ? new Map([...this.vars, ...assigned]) : this.vars;
    return this.program(argv, env, io, signal);
  }

  /** A program in the image: a shell, a command of COMMANDS, a script file, or the image's own program. */
  private async program(argv: readonly string[], env: ReadonlyMap<string, string>, io: ShellIo, signal: AbortSignal): Promise<number> {
    const [program, ...args] = argv as [string, ...string[]];
    const name = posix.basename(program);
    if (SHELLS.has(name) || this.scriptFile(program) !== undefined) {
      const nested = new ContainerShell({ ...this.options, env, workingDir: this.cwd });
      return nested.shell(SHELLS.has(name) ? args : [program, ...args], io, signal);
    }
    const command = COMMANDS.get(name);
    if (command) {
      try {
        return await command(args, this.commandIo(io), this.context(env, signal));
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
        io.err(Buffer.from(`${name}: ${e.message}\n`));
        return 1;
      }
    }
    if (this.options.imageProgram) return this.options.imageProgram(argv, { stdout: io.out, stderr: io.err }, signal);
    io.err(Buffer.from(`sh: ${program}: not found\n`));
    return 127;
  }

  private context(env: ReadonlyMap<string, string>, signal: AbortSignal): CommandContext {
    return { fs: this.options.fs, cwd: this.cwd, env, hostname: this.options.hostname, signal, ...(this.options.network ? { network: this.options.network } : {}) };
  }

  private commandIo(io: ShellIo): CommandIo {
    const bytes = (d: string | Buffer): Buffer => (typeof d === 'string' ? Buffer.from(d) : d);
    return { out: (d) => io.out(bytes(d)), err: (d) => io.err(bytes(d)), input: () => io.input.rest() };
  }

  /** The shell's own commands: they change its state, so they cannot be programs. */
  private builtin(name: string): ((args: string[], io: ShellIo, signal: AbortSignal) => Promise<number>) | undefined {
    const say = (io: ShellIo, text: string): void => io.err(Buffer.from(`sh: ${text}\n`));
    const sync = (fn: (args: string[], io: ShellIo) => number) => (args: string[], io: ShellIo) => Promise.resolve(fn(args, io));
    switch (name) {
      case 'exit':
      case 'return': {
        return sync((args, io) => {
          const code = args[0] === undefined ? this.status : Number(args[0]);
          if (!Number.isInteger(code)) {
            say(io, `${name}: Illegal number: ${args[0]}`);
            throw new ShellExit(2);
          }
          if (name === 'return' && this.functionDepth) throw new FunctionReturn(code & 255);
          throw new ShellExit(code & 255);
        });
      }
      case 'break':
      case 'continue':
        return sync((args) => {
          if (!this.loopDepth) return 0;
          throw new LoopControl(name, Math.min(Math.max(1, Number(args[0] ?? 1) || 1), this.loopDepth));
        });
      case 'cd':
        return sync((args, io) => {
          const back = args[0] === '-';
          const dir = ContainerFilesystem.absolute(this.cwd, back ? (this.vars.get('OLDPWD') ?? this.cwd) : (args[0] ?? this.vars.get('HOME') ?? '/'));
          if (this.options.fs.stat(dir)?.kind !== 'dir') {
            say(io, `cd: can't cd to ${args[0]}`);
            return 2;
          }
          this.vars.set('OLDPWD', this.cwd);
          this.vars.set('PWD', dir);
          this.cwd = dir;
          if (back) io.out(Buffer.from(`${dir}\n`));
          return 0;
        });
      case 'export':
      case 'readonly':
      case 'local':
        return sync((args) => {
          for (const a of args) {
            const eq = a.indexOf('=');
            if (eq > 0) this.vars.set(a.slice(0, eq), a.slice(eq + 1));
            else if (name === 'local' && !a.startsWith('-')) this.vars.set(a, '');
          }
          return 0;
        });
      case 'unset':
        return sync((args) => {
          for (const a of args.filter((x) => !x.startsWith('-'))) {
            if (args.includes('-f')) this.functions.delete(a);
            else this.vars.delete(a);
          }
          return 0;
        });
      case 'set':
        return sync((args, io) => {
          if (!args.length) {
            io.out(Buffer.from([...this.vars].map(([k, v]) => `${k}='${v.replace(/'/g, `'"'"'`)}'\n`).join('')));
            return 0;
          }
          for (let i = 0; i < args.length; i++) {
            const a = args[i]!;
            if (a === '--') {
              this.positional = args.slice(i + 1);
              return 0;
            }
            if (!/^[-+][A-Za-z]+$/.test(a)) {
              this.positional = args.slice(i);
              return 0;
            }
            for (const f of a.slice(1)) {
              if (f !== 'o') this.setFlag(f, a[0] === '-');
              else {
                const problem = this.setOption(args[++i], a[0] === '-');
                if (problem) {
                  say(io, problem);
                  return 2;
                }
              }
            }
          }
          return 0;
        });
      case 'shift':
        return sync((args) => {
          const n = Number(args[0] ?? 1);
          if (!Number.isInteger(n) || n > this.positional.length) return 1;
          this.positional = this.positional.slice(n);
          return 0;
        });
      case 'trap':
        return sync((args, io) => {
          if (!args.length) {
            io.out(Buffer.from([...this.traps].map(([s, a]) => `trap -- '${a}' ${s}\n`).join('')));
            return 0;
          }
          const [action, ...names] = args as [string, ...string[]];
          for (const s of names) {
            if (action === '-') this.traps.delete(signalName(s));
            else this.traps.set(signalName(s), action);
          }
          return 0;
        });
      case 'wait':
        return sync(() => 0);
      case 'eval':
        return (args, io, signal) => this.runText(args.join(' '), io, signal);
      case '.':
      case 'source':
        return async (args, io, signal) => {
          const path = args[0] ?? '';
          const abs = ContainerFilesystem.absolute(this.cwd, path);
          if (this.options.fs.stat(abs)?.kind !== 'file') {
            say(io, `.: can't open '${path}'`);
            throw new ShellExit(2);
          }
          return this.runText(this.options.fs.readFile(abs).toString('utf8'), io, signal);
        };
      case 'exec':
        return async (args, io, signal) => {
          if (!args.length) return 0;
          throw new ShellExit(await this.invoke(args, [], io, signal));
        };
      case 'read':
        return async (args, io) => {
          let raw = false;
          const names: string[] = [];
          for (let i = 0; i < args.length; i++) {
            if (args[i] === '-r') raw = true;
            else if (args[i] === '-p') io.err(Buffer.from(args[++i] ?? ''));
            else names.push(args[i]!);
          }
          const line = await io.input.line();
          let text = line ?? '';
          if (!raw) text = text.replace(/\\(.)/g, '$1');
          const targets = names.length ? names : ['REPLY'];
          const ifs = this.vars.get('IFS') ?? ' \t\n';
          const words = text.replace(new RegExp(`^[${escapeClass(ifs)}]+`), '').split(new RegExp(`[${escapeClass(ifs)}]+`));
          targets.forEach((n, i) => this.vars.set(n, i === targets.length - 1 ? words.slice(i).join(' ').trimEnd() : (words[i] ?? '')));
          return line === undefined ? 1 : 0;
        };
      case 'command':
      case 'type':
      case 'which':
        return async (args, io, signal) => {
          const lookup = name !== 'command' || args[0] === '-v' || args[0] === '-V';
          const names = name === 'command' && lookup ? args.slice(1) : args;
          if (!lookup) return names.length ? this.program(names, this.vars, io, signal) : 0;
          let status = 0;
          for (const n of names) {
            const known = this.builtin(n) || this.functions.has(n) ? n : SHELLS.has(posix.basename(n)) || COMMANDS.has(posix.basename(n)) ? (n.includes('/') ? n : `/bin/${n}`) : undefined;
            if (known === undefined) status = 1;
            else io.out(Buffer.from(`${name === 'type' ? `${n} is ${known}` : known}\n`));
          }
          return status;
        };
    }
    return undefined;
  }

  /** Applies redirections around `run`, then writes what went to files. */
  private async redirected(redirects: readonly Redirect[], io: ShellIo, signal: AbortSignal, run: (io: ShellIo) => Promise<number>): Promise<number> {
    if (!redirects.length) return run(io);
    const sinks = new Map<number, Sink>([[1, io.out], [2, io.err]]);
    let input = io.input;
    const files: FileRedirect[] = [];
    for (const r of redirects) {
      const problem = await this.redirect(r, sinks, files, (i) => (input = i), io, signal);
      if (problem) {
        io.err(Buffer.from(`sh: ${problem}\n`));
        return 1;
      }
    }
    const status = await run({ out: sinks.get(1)!, err: sinks.get(2)!, input });
    for (const f of files) {
      try {
        const before = f.append ? this.existing(f.path) : Buffer.alloc(0);
        const data = Buffer.concat([before, ...f.chunks]);
        this.options.fs.writeFile(f.path, data.length, data);
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
        io.err(Buffer.from(`sh: write error: ${e.message}\n`));
        return 1;
      }
    }
    return status;
  }

  private existing(path: string): Buffer {
    const n = this.options.fs.stat(path);
    return n?.kind === 'file' ? this.options.fs.readFile(path) : Buffer.alloc(0);
  }

  /** Applies one redirection to the descriptor table; returns what went wrong, if anything. */
  private async redirect(r: Redirect, sinks: Map<number, Sink>, files: FileRedirect[], setInput: (input: ShellInput) => void, io: ShellIo, signal: AbortSignal): Promise<string | undefined> {
    const target = await this.text(r.target, io, signal);
    if (r.op === '<<') {
      setInput(ShellInput.of(Buffer.from(target)));
      return undefined;
    }
    if (r.op === '<&') return undefined;
    if (r.op === '>&' && /^\d+$/.test(target)) {
      const from = sinks.get(Number(target));
      if (!from) return `${target}: bad file descriptor`;
      sinks.set(r.fd, from);
      return undefined;
    }
    if (r.op === '>&' && target === '-') {
      sinks.set(r.fd, () => undefined);
      return undefined;
    }
    const path = ContainerFilesystem.absolute(this.cwd, target);
    const node = this.options.fs.stat(path);
    if (r.op === '<') {
      if (!node) return `can't open ${target}: no such file`;
      setInput(ShellInput.of(node.kind === 'file' ? this.options.fs.readFile(path) : Buffer.alloc(0)));
      return undefined;
    }
    const fds = r.op === '&>' || r.op === '>&' ? [1, 2] : [r.fd];
    if (node?.kind === 'device') {
      for (const fd of fds) sinks.set(fd, () => undefined);
      return undefined;
    }
    if (node?.kind === 'dir') return `can't create ${target}: Is a directory`;
    try {
      if (!node || r.op !== '>>') this.options.fs.writeFile(path, 0);
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      return `can't create ${target}: ${e.message}`;
    }
    const file = { path, append: r.op === '>>', chunks: [] as Buffer[] };
    files.push(file);
    for (const fd of fds) sinks.set(fd, (d) => file.chunks.push(d));
    return undefined;
  }

  /** A parameter's value: positional and special parameters, then variables. */
  private lookup(name: string): string | undefined {
    switch (name) {
      case '?': return String(this.status);
      case '$': return '1';
      case '!': return '';
      case '#': return String(this.positional.length);
      case '@':
      case '*': return this.positional.join(' ');
      case '0': return this.arg0;
      case '-': return Object.entries({ e: this.flags.errexit, x: this.flags.xtrace, u: this.flags.nounset, f: this.flags.noglob }).filter(([, on]) => on).map(([f]) => f).join('');
    }
    if (/^\d$/.test(name)) return this.positional[Number(name) - 1];
    return this.vars.get(name);
  }

  private async paramValue(part: Extract<WordPart, { kind: 'param' }>, io: ShellIo, signal: AbortSignal): Promise<string> {
    const raw = this.lookup(part.name);
    const arg = (): Promise<string> => (part.arg ? this.text(part.arg, io, signal) : Promise.resolve(''));
    const unset = raw === undefined || (part.op?.startsWith(':') === true && raw === '');
    switch (part.op) {
      case undefined:
        if (raw === undefined && this.flags.nounset && /^[A-Za-z_]/.test(part.name)) throw new ExpansionError(`${part.name}: parameter not set`);
        return raw ?? '';
      case 'length':
        return String((raw ?? '').length);
      case '-':
      case ':-':
        return unset ? arg() : raw!;
      case '=':
      case ':=': {
        if (!unset) return raw!;
        const value = await arg();
        this.vars.set(part.name, value);
        return value;
      }
      case '+':
      case ':+':
        return unset ? '' : arg();
      case '?':
      case ':?':
        if (unset) throw new ExpansionError(`${part.name}: ${(await arg()) || 'parameter not set'}`);
        return raw!;
      default: {
        const value = raw ?? '';
        const re = globRegExp(part.arg ? await this.pattern(part.arg, io, signal) : '', true);
        const longest = part.op === '##' || part.op === '%%';
        const cuts = [...Array(value.length + 1).keys()];
        if (longest) cuts.reverse();
        if (part.op.startsWith('#')) {
          const n = cuts.find((i) => re.test(value.slice(0, i)));
          return n === undefined ? value : value.slice(n);
        }
        const n = cuts.find((i) => re.test(value.slice(value.length - i)));
        return n === undefined ? value : value.slice(0, value.length - n);
      }
    }
  }

  private async commandOutput(list: List, io: ShellIo, signal: AbortSignal): Promise<string> {
    const sub = this.subshell();
    const chunks: Buffer[] = [];
    const subIo: ShellIo = { out: (d) => chunks.push(d), err: io.err, input: io.input };
    this.substitutionStatus = await sub.whole(() => sub.runList(list, subIo, signal), subIo, signal);
    return Buffer.concat(chunks).toString('utf8').replace(/\n+$/, '');
  }

  /** One expansion's value; `"$@"` alone gives one value per positional parameter. */
  private async partValue(part: Exclude<WordPart, { kind: 'text' }>, io: ShellIo, signal: AbortSignal): Promise<string | string[]> {
    switch (part.kind) {
      case 'param':
        if (part.name === '@' && part.quoted && !part.op) return [...this.positional];
        return this.paramValue(part, io, signal);
      case 'command':
        return this.commandOutput(part.list, io, signal);
      case 'arith': {
        const expr = await this.text(part.expr, io, signal);
        return String(evaluateArithmetic(expr, { get: (n) => this.lookup(n), set: (n, v) => this.vars.set(n, v) }));
      }
    }
  }

  /** Expansion without field splitting or globbing: assignments, redirection targets, `case` subjects. */
  private async text(word: Word, io: ShellIo, signal: AbortSignal): Promise<string> {
    let out = '';
    for (const [i, part] of word.entries()) {
      if (part.kind === 'text') out += i === 0 && !part.quoted ? this.tilde(part.text) : part.text;
      else {
        const v = await this.partValue(part, io, signal);
        out += Array.isArray(v) ? v.join(' ') : v;
      }
    }
    return out;
  }

  /** A word as a glob pattern: quoted parts match literally. */
  private async pattern(word: Word, io: ShellIo, signal: AbortSignal): Promise<string> {
    let out = '';
    for (const part of word) {
      if (part.kind === 'text') out += part.quoted ? escapeGlob(part.text) : part.text;
      else {
        const v = await this.partValue(part, io, signal);
        const text = Array.isArray(v) ? v.join(' ') : v;
        out += part.quoted ? escapeGlob(text) : text;
      }
    }
    return out;
  }

  private tilde(text: string): string {
    return /^~(\/|$)/.test(text) ? (this.vars.get('HOME') ?? '/root') + text.slice(1) : text;
  }

  /** Full expansion of a command word: parameters, substitutions, field splitting, then pathnames. */
  private async fields(word: Word, io: ShellIo, signal: AbortSignal): Promise<string[]> {
    const done: Field[] = [];
    let cur: Field | undefined;
    const append = (text: string, quoted: boolean): void => {
      cur ??= { text: '', pattern: '', glob: false, real: false };
      cur.text += text;
      cur.pattern += quoted ? escapeGlob(text) : text;
      if (!quoted && /[*?[]/.test(text)) cur.glob = true;
      if (quoted || text) cur.real = true;
    };
    const end = (): void => {
      if (cur) done.push(cur);
      cur = undefined;
    };
    const ifs = this.vars.get('IFS') ?? ' \t\n';
    for (const [i, part] of word.entries()) {
      if (part.kind === 'text') {
        append(i === 0 && !part.quoted ? this.tilde(part.text) : part.text, part.quoted);
        continue;
      }
      const value = await this.partValue(part, io, signal);
      if (Array.isArray(value)) {
        value.forEach((v, k) => {
          if (k > 0) end();
          append(v, true);
        });
        continue;
      }
      if (part.quoted) {
        append(value, true);
        continue;
      }
      if (!ifs) {
        append(value, false);
        continue;
      }
      const sep = new RegExp(`[${escapeClass(ifs)}]+`);
      const pieces = value.split(sep);
      pieces.forEach((piece, k) => {
        if (k > 0) end();
        if (piece) append(piece, false);
      });
    }
    end();
    const out: string[] = [];
    for (const f of done) {
      if (!f.real) continue;
      const matches = f.glob && !this.flags.noglob ? this.glob(f.pattern) : [];
      out.push(...(matches.length ? matches : [f.text]));
    }
    return out;
  }

  /** Matches the last path component against its directory; earlier components are taken literally. */
  private glob(pattern: string): string[] {
    const slash = pattern.lastIndexOf('/');
    const dirPattern = slash >= 0 ? pattern.slice(0, slash + 1) : '';
    const dir = dirPattern.replace(/\\(.)/g, '$1');
    const leaf = pattern.slice(slash + 1);
    const re = globRegExp(leaf, true);
    let names: string[];
    try {
      names = this.options.fs.list(ContainerFilesystem.absolute(this.cwd, dir || '.'));
    } catch {
      return [];
    }
    return names.filter((n) => re.test(n) && (!n.startsWith('.') || leaf.startsWith('.'))).map((n) => `${dir}${n}`);
  }
}

function escapeClass(chars: string): string {
  return chars.replace(/[\]\\^-]/g, '\\$&').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}
