import { posix } from 'node:path';
import { ContainerFilesystem } from './container-filesystem.js';
import { FsError } from './filesystem-error.js';
import { COMMANDS, type CommandContext, type CommandIo } from './shell-commands.js';
import { parseScript, ShellSyntaxError, type Redirect, type SimpleCommand, type Word } from './shell-syntax.js';

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

export interface ContainerShellOptions {
  readonly fs: ContainerFilesystem;
  readonly env: ReadonlyMap<string, string>;
  readonly hostname: string;
  /** @default '/' */
  readonly workingDir?: string;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash']);

/** A shell's `exit n`: unwinds the script with its status. */
class ShellExit {
  constructor(readonly code: number) {}
}

type Sink = (data: Buffer) => void;
type Input = () => Promise<Buffer>;

/** Reads a source to its end once, however many times the result is asked for. */
function readAll(source: ByteSource): Input {
  let all: Promise<Buffer> | undefined;
  return () => (all ??= (async () => {
    const chunks: Buffer[] = [];
    for (let c = await source.read(); c !== undefined; c = await source.read()) chunks.push(c);
    return Buffer.concat(chunks);
  })());
}

function untilAborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
}

/**
 * The processes an exec starts in an embedded container: a program from COMMANDS run directly,
 * or `sh -c '<script>'` (and `sh` reading a script from stdin) interpreted over the container's
 * simulated filesystem, with the exit statuses a POSIX shell gives.
 */
export class ContainerShell {
  private readonly vars: Map<string, string>;
  private cwd: string;
  private status = 0;

  constructor(private readonly options: ContainerShellOptions) {
    this.vars = new Map(options.env);
    this.cwd = options.workingDir ?? '/';
  }

  async exec(argv: readonly string[], io: ProcessIo, signal: AbortSignal): Promise<ExecOutcome> {
    const program = argv[0];
    if (program === undefined) return { kind: 'start-failed', message: 'exec: no command given' };
    const name = posix.basename(program);
    if (SHELLS.has(name)) return { kind: 'exited', code: await this.shell(argv.slice(1), io, signal) };
    const command = COMMANDS.get(name);
    if (!command) return { kind: 'start-failed', message: `exec: "${program}": executable file not found in $PATH` };
    const input = io.stdin ? readAll(io.stdin) : undefined;
    const code = await this.guarded(name, io.stderr, () => command(argv.slice(1), this.commandIo(io.stdout, io.stderr, input), this.context(signal)));
    return { kind: 'exited', code };
  }

  private async shell(args: readonly string[], io: ProcessIo, signal: AbortSignal): Promise<number> {
    const name = args.indexOf('-c');
    let script: string;
    if (name >= 0) {
      const text = args[name + 1];
      if (text === undefined) {
        io.stderr(Buffer.from('sh: -c requires an argument\n'));
        return 2;
      }
      script = text;
    } else if (args.length) {
      io.stderr(Buffer.from(`sh: can't open '${args[0]}': only sh -c and scripts on stdin are supported\n`));
      return 2;
    } else {
      return io.stdin ? this.interactive(io.stdin, io, signal) : 0;
    }
    try {
      return await this.runScript(script, io.stdout, io.stderr, io.stdin ? readAll(io.stdin) : undefined, signal);
    } catch (err) {
      if (err instanceof ShellExit) return err.code;
      throw err;
    }
  }

  /**
   * `sh` with stdin and no script: each line runs as it arrives. On a terminal it prompts, echoes
   * the keys (the client's terminal is raw), handles backspace, ^C and ^D, and turns \n into \r\n.
   */
  private async interactive(source: ByteSource, io: ProcessIo, signal: AbortSignal): Promise<number> {
    const tty = io.tty ?? false;
    const out: Sink = tty ? (d) => io.stdout(Buffer.from(d.toString('utf8').replace(/\r?\n/g, '\r\n'))) : io.stdout;
    const err: Sink = tty ? out : io.stderr;
    const echo = (text: string): void => {
      if (tty) io.stdout(Buffer.from(text));
    };
    const none: Input = () => Promise.resolve(Buffer.alloc(0));
    let line = '';
    echo('# ');
    try {
      for (;;) {
        const chunk = await Promise.race([source.read(), untilAborted(signal)]);
        if (signal.aborted) return 137;
        if (chunk === undefined) {
          if (line.trim()) await this.runScript(line, out, err, none, signal);
          return this.status;
        }
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            echo('\r\n');
            await this.runScript(line, out, err, none, signal);
            line = '';
            echo('# ');
          } else if (tty && (ch === '\x7f' || ch === '\b')) {
            if (line) echo('\b \b');
            line = line.slice(0, -1);
          } else if (tty && ch === '\x03') {
            echo('^C\r\n# ');
            line = '';
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
      if (e instanceof ShellExit) return e.code;
      throw e;
    }
  }

  /** Runs a script; the status is that of the last command. `exit` unwinds as ShellExit. */
  private async runScript(script: string, stdout: Sink, stderr: Sink, stdin: Input | undefined, signal: AbortSignal): Promise<number> {
    let items;
    try {
      items = parseScript(script);
    } catch (err) {
      if (!(err instanceof ShellSyntaxError)) throw err;
      stderr(Buffer.from(`sh: ${err.message}\n`));
      this.status = 2;
      return 2;
    }
    for (const item of items) {
      if (signal.aborted) return 137;
      if (item.connector === '&&' && this.status !== 0) continue;
      if (item.connector === '||' && this.status === 0) continue;
      let input = stdin;
      for (let i = 0; i < item.pipeline.length; i++) {
        const last = i === item.pipeline.length - 1;
        const captured: Buffer[] = [];
        this.status = await this.simple(item.pipeline[i]!, last ? stdout : (d) => captured.push(d), stderr, input, signal);
        if (!last) {
          const piped = Buffer.concat(captured);
          input = () => Promise.resolve(piped);
        }
      }
    }
    return this.status;
  }

  private context(signal: AbortSignal): CommandContext {
    return { fs: this.options.fs, cwd: this.cwd, env: this.vars, hostname: this.options.hostname, signal };
  }

  private commandIo(out: Sink, err: Sink, stdin: Input | undefined): CommandIo {
    const bytes = (d: string | Buffer): Buffer => (typeof d === 'string' ? Buffer.from(d) : d);
    return { out: (d) => out(bytes(d)), err: (d) => err(bytes(d)), input: stdin ?? (() => Promise.resolve(Buffer.alloc(0))) };
  }

  private async guarded(name: string, err: Sink, run: () => number | Promise<number>): Promise<number> {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      err(Buffer.from(`${name}: ${e.message}\n`));
      return 1;
    }
  }

  private async simple(cmd: SimpleCommand, stdout: Sink, stderr: Sink, stdin: Input | undefined, signal: AbortSignal): Promise<number> {
    const words: string[] = [];
    for (const w of cmd.words) words.push(...this.expand(w));
    while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
      const assignment = words.shift()!;
      const eq = assignment.indexOf('=');
      this.vars.set(assignment.slice(0, eq), assignment.slice(eq + 1));
    }
    const fds = new Map<number, Sink>([[1, stdout], [2, stderr]]);
    const files: { path: string; append: boolean; chunks: Buffer[] }[] = [];
    let input = stdin;
    for (const r of cmd.redirects) {
      const problem = this.redirect(r, fds, files, (read) => (input = read));
      if (problem) {
        stderr(Buffer.from(`sh: ${problem}\n`));
        return 1;
      }
    }
    const out = fds.get(1)!;
    const err = fds.get(2)!;
    const status = words.length ? await this.run(words, out, err, input, signal) : 0;
    for (const f of files) {
      try {
        const before = f.append ? this.existing(f.path) : Buffer.alloc(0);
        const data = Buffer.concat([before, ...f.chunks]);
        this.options.fs.writeFile(f.path, data.length, data);
      } catch (e) {
        if (!(e instanceof FsError)) throw e;
        stderr(Buffer.from(`sh: write error: ${e.message}\n`));
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
  private redirect(r: Redirect, fds: Map<number, Sink>, files: { path: string; append: boolean; chunks: Buffer[] }[], setInput: (read: () => Promise<Buffer>) => void): string | undefined {
    const target = this.expand(r.target).join(' ');
    if (r.op === '>&') {
      const from = fds.get(Number(target));
      if (!from) return `${target}: bad file descriptor`;
      fds.set(r.fd, from);
      return undefined;
    }
    const path = ContainerFilesystem.absolute(this.cwd, target);
    const node = this.options.fs.stat(path);
    if (r.op === '<') {
      if (!node) return `can't open ${target}: no such file`;
      const data = this.options.fs.readFile(path);
      setInput(() => Promise.resolve(data));
      return undefined;
    }
    if (node?.kind === 'device') {
      fds.set(r.fd, () => undefined);
      return undefined;
    }
    if (node?.kind === 'dir') return `can't create ${target}: Is a directory`;
    try {
      if (!node || r.op === '>') this.options.fs.writeFile(path, 0);
    } catch (e) {
      if (!(e instanceof FsError)) throw e;
      return `can't create ${target}: ${e.message}`;
    }
    const file = { path, append: r.op === '>>', chunks: [] as Buffer[] };
    files.push(file);
    fds.set(r.fd, (d) => file.chunks.push(d));
    return undefined;
  }

  private async run(words: string[], out: Sink, err: Sink, stdin: Input | undefined, signal: AbortSignal): Promise<number> {
    const [program, ...args] = words as [string, ...string[]];
    switch (program) {
      case 'exit':
        throw new ShellExit(args[0] === undefined ? this.status : Number(args[0]) & 255);
      case 'cd': {
        const dir = ContainerFilesystem.absolute(this.cwd, args[0] ?? this.vars.get('HOME') ?? '/');
        if (this.options.fs.stat(dir)?.kind !== 'dir') {
          err(Buffer.from(`sh: cd: can't cd to ${args[0]}\n`));
          return 2;
        }
        this.cwd = dir;
        return 0;
      }
      case 'export':
        for (const a of args) {
          const eq = a.indexOf('=');
          if (eq > 0) this.vars.set(a.slice(0, eq), a.slice(eq + 1));
        }
        return 0;
    }
    const name = posix.basename(program);
    if (SHELLS.has(name)) {
      const nested = new ContainerShell({ ...this.options, env: this.vars, workingDir: this.cwd });
      const source: ByteSource | undefined = stdin ? { read: once(stdin) } : undefined;
      return nested.shell(args, { stdout: out, stderr: err, ...(source ? { stdin: source } : {}) }, signal);
    }
    const command = COMMANDS.get(name);
    if (!command) {
      err(Buffer.from(`sh: ${program}: not found\n`));
      return 127;
    }
    return this.guarded(name, err, () => command(args, this.commandIo(out, err, stdin), this.context(signal)));
  }

  /** Parameter expansion, then pathname expansion of the unquoted parts. */
  private expand(word: Word): string[] {
    let text = '';
    let pattern = '';
    let glob = false;
    for (const part of word) {
      const value = part.quoting === 'single' ? part.text : this.substitute(part.text);
      text += value;
      if (part.quoting === 'bare' && /[*?[]/.test(value)) {
        glob = true;
        pattern += value;
      } else {
        pattern += value.replace(/[*?[\]\\]/g, '\\$&');
      }
    }
    if (!glob) return [text];
    const matches = this.glob(pattern);
    return matches.length ? matches : [text];
  }

  private substitute(text: string): string {
    return text.replace(/\$(\?|\$|[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})/g, (_m, name: string) => {
      if (name === '?') return String(this.status);
      if (name === '$') return '1';
      return this.vars.get(name.replace(/^\{|\}$/g, '')) ?? '';
    });
  }

  /** Matches the last path component against its directory; earlier components are taken literally. */
  private glob(pattern: string): string[] {
    const slash = pattern.lastIndexOf('/');
    const dirPattern = slash >= 0 ? pattern.slice(0, slash + 1) : '';
    const dir = dirPattern.replace(/\\(.)/g, '$1');
    const leaf = pattern.slice(slash + 1);
    const re = new RegExp(`^${leaf.replace(/\\(.)|([.+^${}()|])|(\*)|(\?)/g, (_m, esc: string, special: string, star: string, q: string) => (esc ? esc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : special ? `\\${special}` : star ? '.*' : q ? '.' : _m))}$`);
    let names: string[];
    try {
      names = this.options.fs.list(ContainerFilesystem.absolute(this.cwd, dir || '.'));
    } catch {
      return [];
    }
    return names.filter((n) => re.test(n) && (!n.startsWith('.') || leaf.startsWith('.'))).map((n) => `${dir}${n}`);
  }
}

/** A source that yields all of `input` in one chunk, then ends. */
function once(input: Input): () => Promise<Buffer | undefined> {
  let done = false;
  return async () => {
    if (done) return undefined;
    done = true;
    return input();
  };
}
