import { ddBytes, humanBytes, parseByteSize } from './byte-size.js';
import { ContainerFilesystem, type MountUsage } from './container-filesystem.js';
import { FsError } from './filesystem-error.js';
import type { PodNetwork } from '../dataplane/pod-network.js';

export interface CommandIo {
  out(data: string | Buffer): void;
  err(data: string | Buffer): void;
  /** All of standard input (a pipe, a redirection or the exec's stdin), once it ends. */
  input(): Promise<Buffer>;
}

export interface CommandContext {
  readonly fs: ContainerFilesystem;
  readonly cwd: string;
  readonly env: ReadonlyMap<string, string>;
  readonly hostname: string;
  readonly signal: AbortSignal;
  /** The pod's network; absent where a command runs without one. */
  readonly network?: PodNetwork;
}

/** A program in the container's PATH: its exit status, as a shell would see it. */
export type Command = (args: readonly string[], io: CommandIo, ctx: CommandContext) => number | Promise<number>;

/** What `statfs` reports: df and stat -f count in blocks of this size. */
const BLOCK = 4096;

export function abs(ctx: CommandContext, path: string): string {
  return ContainerFilesystem.absolute(ctx.cwd, path);
}

export function fsMessage(err: unknown): string {
  if (err instanceof FsError) return err.message;
  throw err;
}

/** Splits `-abc` into flags and keeps operands; `--` ends options. Long options stay whole. */
export function options(args: readonly string[], withValue: readonly string[] = []): { flags: Set<string>; values: Map<string, string>; operands: string[] } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) values.set(a.slice(0, eq), a.slice(eq + 1));
      else if (withValue.includes(a)) values.set(a, args[++i] ?? '');
      else flags.add(a);
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      for (let j = 1; j < a.length; j++) {
        const f = `-${a[j]}`;
        if (withValue.includes(f)) {
          values.set(f, a.slice(j + 1) || (args[++i] ?? ''));
          break;
        }
        flags.add(f);
      }
    } else {
      operands.push(a);
    }
  }
  return { flags, values, operands };
}

function table(rows: string[][], leftColumns: ReadonlySet<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : leftColumns.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' '))
    .join('\n') + '\n';
}

const DF_FIELDS: Record<string, string> = { source: 'Filesystem', fstype: 'Type', size: 'SIZE', used: 'Used', avail: 'Avail', pcent: 'Use%', target: 'Mounted on' };

function df(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const { flags, values, operands } = options(args, ['-B', '--block-size', '--output']);
  const human = flags.has('-h') || flags.has('--human-readable');
  const posix = flags.has('-P') || flags.has('--portability');
  const blockText = values.get('-B') ?? values.get('--block-size') ?? (flags.has('-k') ? '1K' : flags.has('-m') ? '1M' : '1K');
  const block = parseByteSize(blockText);
  if (!block) {
    io.err(`df: invalid -B argument '${blockText}'\n`);
    return 1;
  }
  const rows: MountUsage[] = [];
  let status = 0;
  if (operands.length) {
    for (const p of operands) {
      try {
        rows.push(ctx.fs.usage(abs(ctx, p)));
      } catch (err) {
        io.err(`df: ${p}: ${fsMessage(err)}\n`);
        status = 1;
      }
    }
  } else {
    for (const m of ctx.fs.mounts()) rows.push({ device: m.volume.device, mountedOn: m.path, ...m.volume.usage() });
  }
  const unitLabel = /^\d+$/.test(blockText) || /^1[KMGT]$/i.test(blockText) ? (blockText === '1' ? '1' : blockText.toUpperCase()) : blockText;
  const sizeHeader = human ? 'Size' : posix ? `${block === 1024 ? '1024' : unitLabel}-blocks` : `${unitLabel === '1' ? '1B' : unitLabel}-blocks`;
  const num = (bytes: number): string => (human ? humanBytes(bytes) : String(Math.ceil(bytes / block)));
  const pcent = (u: MountUsage): string => (u.usedBytes + u.availableBytes === 0 ? '-' : `${Math.ceil((u.usedBytes * 100) / (u.usedBytes + u.availableBytes))}%`);
  const cell: Record<string, (u: MountUsage) => string> = {
    source: (u) => u.device,
    fstype: (u) => (u.device === 'tmpfs' ? 'tmpfs' : u.device === 'overlay' ? 'overlay' : 'ext4'),
    size: (u) => num(u.sizeBytes),
    used: (u) => num(u.usedBytes),
    avail: (u) => num(u.availableBytes),
    pcent,
    target: (u) => u.mountedOn,
  };
  const output = values.get('--output');
  const fields = output ? output.split(',') : ['source', 'size', 'used', 'avail', 'pcent', 'target'];
  const unknown = fields.find((f) => !(f in cell));
  if (unknown) {
    io.err(`df: ${unknown}: unsupported field in --output\n`);
    return 1;
  }
  const header = fields.map((f) => (f === 'size' ? sizeHeader : f === 'avail' && !output ? (posix ? 'Available' : human ? 'Avail' : 'Available') : f === 'pcent' && posix ? 'Capacity' : DF_FIELDS[f]!));
  if (!rows.length) return status;
  const left = new Set(fields.flatMap((f, i) => (f === 'source' || f === 'fstype' || f === 'target' ? [i] : [])));
  io.out(table([header, ...rows.map((u) => fields.map((f) => cell[f]!(u)))], left));
  return status;
}

async function fallocate(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const { values, operands } = options(args, ['-l', '--length', '-o', '--offset']);
  const lengthText = values.get('-l') ?? values.get('--length');
  if (lengthText === undefined) {
    io.err('fallocate: no length argument specified\n');
    return 1;
  }
  const length = parseByteSize(lengthText);
  const offset = parseByteSize(values.get('-o') ?? values.get('--offset') ?? '0');
  if (!length || offset === undefined) {
    io.err(`fallocate: invalid length value specified\n`);
    return 1;
  }
  const file = operands[0];
  if (!file) {
    io.err('fallocate: no filename specified\n');
    return 1;
  }
  const path = abs(ctx, file);
  const existing = ctx.fs.stat(path);
  try {
    if (!existing) ctx.fs.writeFile(path, 0);
  } catch (err) {
    io.err(`fallocate: cannot open ${file}: ${fsMessage(err)}\n`);
    return 1;
  }
  const current = existing?.kind === 'file' ? existing.size : 0;
  try {
    ctx.fs.writeFile(path, Math.max(current, offset + length));
  } catch (err) {
    io.err(`fallocate: fallocate failed: ${fsMessage(err)}\n`);
    return 1;
  }
  return 0;
}

async function dd(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const op = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) {
      io.err(`dd: unrecognized operand '${a}'\n`);
      return 1;
    }
    op.set(a.slice(0, eq), a.slice(eq + 1));
  }
  const bs = parseByteSize(op.get('bs') ?? op.get('obs') ?? '512');
  const count = op.has('count') ? Number(op.get('count')) : undefined;
  if (!bs || (count !== undefined && !Number.isInteger(count))) {
    io.err('dd: invalid number\n');
    return 1;
  }
  const input = op.get('if');
  let available: number;
  if (input === undefined) available = (await io.input()).length;
  else if (['/dev/zero', '/dev/urandom', '/dev/random'].includes(input)) available = Infinity;
  else {
    const n = ctx.fs.stat(abs(ctx, input));
    if (!n || n.kind === 'dir') {
      io.err(`dd: failed to open '${input}': ${n ? 'Is a directory' : 'No such file or directory'}\n`);
      return 1;
    }
    available = n.kind === 'file' ? n.size : Infinity;
  }
  const wanted = Math.min(available, count === undefined ? Infinity : bs * count);
  const started = process.hrtime.bigint();
  let written: number;
  let failure: string | undefined;
  const output = op.get('of');
  if (output === undefined) {
    if (!Number.isFinite(wanted)) {
      io.err('dd: writing an endless stream to standard output is not supported here\n');
      return 1;
    }
    io.out(Buffer.alloc(wanted));
    written = wanted;
  } else {
    const path = abs(ctx, output);
    const existing = ctx.fs.stat(path);
    const seek = (Number(op.get('seek') ?? 0) || 0) * bs;
    const keep = op.get('conv')?.split(',').includes('notrunc') ? (existing?.kind === 'file' ? existing.size : 0) : seek;
    try {
      if (existing?.kind === 'device') written = Number.isFinite(wanted) ? wanted : 0;
      else {
        ctx.fs.writeFile(path, keep);
        const room = ctx.fs.room(path);
        written = Math.min(wanted, room);
        if (written < wanted) failure = `dd: error writing '${output}': No space left on device\n`;
        ctx.fs.writeFile(path, Math.max(keep, seek + written));
      }
    } catch (err) {
      io.err(`dd: failed to open '${output}': ${fsMessage(err)}\n`);
      return 1;
    }
  }
  const seconds = Math.max(Number(process.hrtime.bigint() - started) / 1e9, 1e-6);
  const full = Math.floor(written / bs);
  const partial = written % bs ? 1 : 0;
  const inFull = failure ? full + partial : full;
  if (op.get('status') !== 'none') {
    if (failure) io.err(failure);
    io.err(`${inFull}+${failure ? 0 : partial} records in\n${full}+${partial} records out\n`);
    io.err(`${written} bytes${ddBytes(written)} copied, ${seconds.toPrecision(3)} s, ${humanBytes(Math.round(written / seconds))}B/s\n`);
  } else if (failure) {
    io.err(failure);
  }
  return failure ? 1 : 0;
}

function rm(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const { flags, operands } = options(args);
  const force = flags.has('-f') || flags.has('--force');
  const recursive = flags.has('-r') || flags.has('-R') || flags.has('--recursive');
  if (!operands.length && !force) {
    io.err("rm: missing operand\nTry 'rm --help' for more information.\n");
    return 1;
  }
  let status = 0;
  for (const f of operands) {
    const path = abs(ctx, f);
    const n = ctx.fs.stat(path);
    if (!n) {
      if (!force) {
        io.err(`rm: cannot remove '${f}': No such file or directory\n`);
        status = 1;
      }
      continue;
    }
    if (n.kind === 'dir' && !recursive) {
      io.err(`rm: cannot remove '${f}': Is a directory\n`);
      status = 1;
      continue;
    }
    try {
      ctx.fs.remove(path, recursive);
    } catch (err) {
      io.err(`rm: cannot remove '${f}': ${fsMessage(err)}\n`);
      status = 1;
    }
  }
  return status;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function lsTime(d: Date): string {
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

function ls(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const { flags, operands } = options(args);
  const long = flags.has('-l');
  const all = flags.has('-a');
  const human = flags.has('-h');
  const targets = operands.length ? operands : ['.'];
  let status = 0;
  const describe = (name: string, path: string): string => {
    const n = ctx.fs.stat(path)!;
    if (!long) return name;
    const size = n.kind === 'file' ? n.size : n.kind === 'dir' ? BLOCK : 0;
    const mode = n.kind === 'dir' ? 'drwxr-xr-x' : n.kind === 'device' ? 'crw-rw-rw-' : '-rw-r--r--';
    return `${mode} 1 root root ${(human ? humanBytes(size) : String(size)).padStart(human ? 4 : 10)} ${lsTime(n.modified)} ${name}`;
  };
  targets.forEach((t, i) => {
    const path = abs(ctx, t);
    const n = ctx.fs.stat(path);
    if (!n) {
      io.err(`ls: cannot access '${t}': No such file or directory\n`);
      status = 2;
      return;
    }
    if (n.kind !== 'dir') {
      io.out(`${describe(t, path)}\n`);
      return;
    }
    if (targets.length > 1) io.out(`${i ? '\n' : ''}${t}:\n`);
    const names = ctx.fs.list(path).filter((name) => all || !name.startsWith('.'));
    if (long) io.out(`total ${names.length * 4}\n`);
    for (const name of names) io.out(`${describe(name, path === '/' ? `/${name}` : `${path}/${name}`)}\n`);
  });
  return status;
}

async function cat(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const files = args.filter((a) => a !== '-u');
  if (!files.length) {
    io.out(await io.input());
    return 0;
  }
  let status = 0;
  for (const f of files) {
    if (f === '-') {
      io.out(await io.input());
      continue;
    }
    try {
      io.out(ctx.fs.readFile(abs(ctx, f)));
    } catch (err) {
      io.err(`cat: ${f}: ${fsMessage(err)}\n`);
      status = 1;
    }
  }
  return status;
}

function echo(args: readonly string[], io: CommandIo): number {
  let rest = [...args];
  let newline = true;
  let escapes = false;
  while (rest[0] && /^-[neE]+$/.test(rest[0])) {
    if (rest[0].includes('n')) newline = false;
    if (rest[0].includes('e')) escapes = true;
    rest = rest.slice(1);
  }
  let text = rest.join(' ');
  if (escapes) text = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\\\/g, '\\');
  io.out(newline ? `${text}\n` : text);
  return 0;
}

function mkdir(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const { flags, operands } = options(args);
  const parents = flags.has('-p') || flags.has('--parents');
  if (!operands.length) {
    io.err('mkdir: missing operand\n');
    return 1;
  }
  let status = 0;
  for (const d of operands) {
    try {
      ctx.fs.mkdir(abs(ctx, d), parents);
    } catch (err) {
      io.err(`mkdir: cannot create directory '${d}': ${fsMessage(err)}\n`);
      status = 1;
    }
  }
  return status;
}

function touch(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  let status = 0;
  for (const f of options(args).operands) {
    const path = abs(ctx, f);
    const n = ctx.fs.stat(path);
    try {
      if (!n) ctx.fs.writeFile(path, 0);
      else n.modified = new Date();
    } catch (err) {
      io.err(`touch: cannot touch '${f}': ${fsMessage(err)}\n`);
      status = 1;
    }
  }
  return status;
}

/** A malformed `test` expression: status 2, as the shell's test builtin reports it. */
class TestSyntaxError extends Error {}

const UNARY_TESTS = new Set(['-e', '-f', '-d', '-s', '-r', '-w', '-x', '-n', '-z', '-L', '-h', '-b', '-c', '-p', '-S', '-t']);
const BINARY_TESTS = new Set(['=', '==', '!=', '<', '>', '-eq', '-ne', '-lt', '-le', '-gt', '-ge']);

function testNumber(text: string): number {
  if (!/^\s*[-+]?\d+\s*$/.test(text)) throw new TestSyntaxError(`invalid number '${text}'`);
  return Number(text);
}

function unaryTest(op: string, operand: string, ctx: CommandContext): boolean {
  if (op === '-n') return operand !== '';
  if (op === '-z') return operand === '';
  if (op === '-t') return false;
  const n = ctx.fs.stat(abs(ctx, operand));
  switch (op) {
    case '-f': return n?.kind === 'file';
    case '-d': return n?.kind === 'dir';
    case '-s': return n?.kind === 'file' && n.size > 0;
    case '-c': return n?.kind === 'device';
    case '-L': case '-h': case '-b': case '-p': case '-S': return false;
    default: return !!n;
  }
}

function binaryTest(l: string, op: string, r: string): boolean {
  switch (op) {
    case '=': case '==': return l === r;
    case '!=': return l !== r;
    case '<': return l < r;
    case '>': return l > r;
  }
  const [a, b] = [testNumber(l), testNumber(r)];
  switch (op) {
    case '-eq': return a === b;
    case '-ne': return a !== b;
    case '-lt': return a < b;
    case '-le': return a <= b;
    case '-gt': return a > b;
    default: return a >= b;
  }
}

/** POSIX test: `!`, `-a`, `-o`, parentheses, the file and string tests and integer comparisons. */
function evaluateTest(args: readonly string[], ctx: CommandContext): boolean {
  let at = 0;
  const primary = (): boolean => {
    const t = args[at];
    if (t === undefined) throw new TestSyntaxError('argument expected');
    if (t === '(' && args.length - at > 2) {
      at++;
      const v = or();
      if (args[at] !== ')') throw new TestSyntaxError("')' expected");
      at++;
      return v;
    }
    if (args[at + 1] !== undefined && BINARY_TESTS.has(args[at + 1]!) && args[at + 2] !== undefined) {
      at += 3;
      return binaryTest(t, args[at - 2]!, args[at - 1]!);
    }
    if (UNARY_TESTS.has(t) && args[at + 1] !== undefined) {
      at += 2;
      return unaryTest(t, args[at - 1]!, ctx);
    }
    if (t.startsWith('-') && t.length > 1 && args[at + 1] !== undefined) throw new TestSyntaxError(`${t}: unknown operand`);
    at++;
    return t !== '';
  };
  const not = (): boolean => {
    if (args[at] === '!' && args.length - at > 1) {
      at++;
      return !not();
    }
    return primary();
  };
  const and = (): boolean => {
    let v = not();
    while (args[at] === '-a') {
      at++;
      v = not() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (args[at] === '-o') {
      at++;
      v = and() || v;
    }
    return v;
  };
  if (!args.length) return false;
  const v = or();
  if (at < args.length) throw new TestSyntaxError(`${args[at]}: unknown operand`);
  return v;
}

function test(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  try {
    return evaluateTest(args, ctx) ? 0 : 1;
  } catch (err) {
    if (!(err instanceof TestSyntaxError)) throw err;
    io.err(`sh: ${err.message}\n`);
    return 2;
  }
}

function bracket(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  if (args[args.length - 1] !== ']') {
    io.err("sh: missing ]\n");
    return 2;
  }
  return test(args.slice(0, -1), io, ctx);
}

function sleep(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> | number {
  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
  let seconds = 0;
  for (const a of args) {
    if (/^inf(inity)?$/i.test(a)) {
      seconds = Infinity;
      continue;
    }
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) {
      io.err(`sleep: invalid time interval '${a}'\n`);
      return 1;
    }
    seconds += Number(m[1]) * units[m[2]!]!;
  }
  if (!args.length) {
    io.err('sleep: missing operand\n');
    return 1;
  }
  return new Promise((resolve) => {
    if (ctx.signal.aborted) return resolve(137);
    // `sleep infinity` waits for the signal alone; a timer cannot hold more than about 24 days.
    const t = Number.isFinite(seconds) ? setTimeout(() => {
      ctx.signal.removeEventListener('abort', stop);
      resolve(0);
    }, Math.min(seconds * 1000, 2 ** 31 - 1)) : undefined;
    const stop = (): void => {
      clearTimeout(t);
      resolve(137);
    };
    ctx.signal.addEventListener('abort', stop, { once: true });
  });
}

function env(_args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  io.out([...ctx.env].map(([k, v]) => `${k}=${v}\n`).join(''));
  return 0;
}

function printenv(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  if (!args.length) return env(args, io, ctx);
  let status = 0;
  for (const k of args) {
    const v = ctx.env.get(k);
    if (v === undefined) status = 1;
    else io.out(`${v}\n`);
  }
  return status;
}

function stat(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const { flags, values, operands } = options(args, ['-c', '--format', '--printf']);
  const filesystem = flags.has('-f') || flags.has('--file-system');
  const format = values.get('-c') ?? values.get('--format') ?? values.get('--printf');
  let status = 0;
  for (const f of operands) {
    const path = abs(ctx, f);
    const n = ctx.fs.stat(path);
    if (!n) {
      io.err(`stat: cannot ${filesystem ? 'read file system information for' : 'statx'} '${f}': No such file or directory\n`);
      status = 1;
      continue;
    }
    const size = n.kind === 'file' ? n.size : n.kind === 'dir' ? BLOCK : 0;
    const u = ctx.fs.usage(path);
    const fields: Record<string, string> = filesystem
      ? { S: String(BLOCK), s: String(BLOCK), b: String(Math.floor(u.sizeBytes / BLOCK)), f: String(Math.floor((u.sizeBytes - u.usedBytes) / BLOCK)), a: String(Math.floor(u.availableBytes / BLOCK)), n: f, T: u.device === 'tmpfs' ? 'tmpfs' : u.device === 'overlay' ? 'overlayfs' : 'ext2/ext3', '%': '%' }
      : { s: String(size), n: f, F: n.kind === 'dir' ? 'directory' : n.kind === 'device' ? 'character special file' : size ? 'regular file' : 'regular empty file', b: String(Math.ceil(size / 512)), B: '512', '%': '%' };
    if (format !== undefined) {
      const text = format.replace(/%(.)/g, (m, c: string) => fields[c] ?? m);
      io.out(values.has('--printf') ? text.replace(/\\n/g, '\n') : `${text}\n`);
    } else if (filesystem) {
      io.out(`  File: "${f}"\n    ID: 0        Namelen: 255     Type: ${fields.T}\nBlock size: ${BLOCK}       Fundamental block size: ${BLOCK}\nBlocks: Total: ${fields.b}   Free: ${fields.f}   Available: ${fields.a}\n`);
    } else {
      io.out(`  File: ${f}\n  Size: ${size}\tBlocks: ${fields.b}\tIO Block: ${BLOCK}   ${fields.F}\n`);
    }
  }
  return status;
}

function du(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const { flags, operands } = options(args);
  const unit = flags.has('-b') ? 1 : flags.has('-m') ? 1024 * 1024 : 1024;
  let status = 0;
  for (const f of operands.length ? operands : ['.']) {
    try {
      const bytes = ctx.fs.diskUsage(abs(ctx, f));
      io.out(`${flags.has('-h') ? humanBytes(bytes) : String(Math.ceil(bytes / unit))}\t${f}\n`);
    } catch (err) {
      io.err(`du: cannot access '${f}': ${fsMessage(err)}\n`);
      status = 1;
    }
  }
  return status;
}

export async function linesOf(operands: readonly string[], io: CommandIo, ctx: CommandContext, tool: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = operands.length ? operands.map((f) => ctx.fs.readFile(abs(ctx, f)).toString('utf8')).join('') : (await io.input()).toString('utf8');
  } catch (err) {
    io.err(`${tool}: ${operands.join(' ')}: ${fsMessage(err)}\n`);
    return undefined;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function lineCount(args: readonly string[]): { count: number; rest: string[] } {
  const numeric = args.find((a) => /^-\d+$/.test(a));
  const { values, operands } = options(args.filter((a) => a !== numeric), ['-n']);
  const n = numeric ? Number(numeric.slice(1)) : Number(values.get('-n') ?? 10);
  return { count: n, rest: operands };
}

async function head(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const { count, rest } = lineCount(args);
  const lines = await linesOf(rest, io, ctx, 'head');
  if (!lines) return 1;
  io.out(lines.slice(0, count).map((l) => `${l}\n`).join(''));
  return 0;
}

async function tail(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const { count, rest } = lineCount(args);
  const lines = await linesOf(rest, io, ctx, 'tail');
  if (!lines) return 1;
  io.out(lines.slice(Math.max(0, lines.length - count)).map((l) => `${l}\n`).join(''));
  return 0;
}

async function wc(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const { flags, operands } = options(args);
  let data: Buffer;
  try {
    data = operands.length ? Buffer.concat(operands.map((f) => ctx.fs.readFile(abs(ctx, f)))) : await io.input();
  } catch (err) {
    io.err(`wc: ${operands.join(' ')}: ${fsMessage(err)}\n`);
    return 1;
  }
  const text = data.toString('utf8');
  const counts: Record<string, number> = { '-l': (text.match(/\n/g) ?? []).length, '-w': text.split(/\s+/).filter(Boolean).length, '-c': data.length };
  const chosen = ['-l', '-w', '-c'].filter((f) => flags.has(f));
  const shown = (chosen.length ? chosen : ['-l', '-w', '-c']).map((f) => counts[f]!);
  io.out(`${shown.join(' ')}${operands.length ? ` ${operands.join(' ')}` : ''}\n`);
  return 0;
}

async function grep(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const { flags, values, operands } = options(args, ['-e']);
  const pattern = values.get('-e') ?? operands.shift();
  if (pattern === undefined) {
    io.err('Usage: grep [OPTION]... PATTERNS [FILE]...\n');
    return 2;
  }
  const source = flags.has('-F') ? pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : flags.has('-E') ? pattern : pattern.replace(/\\([|(){}+?])/g, '$1');
  let re: RegExp;
  try {
    re = new RegExp(source, flags.has('-i') ? 'i' : '');
  } catch {
    io.err(`grep: invalid regular expression '${pattern}'\n`);
    return 2;
  }
  const lines = await linesOf(operands, io, ctx, 'grep');
  if (!lines) return 2;
  const hits = lines.filter((l) => re.test(l) !== flags.has('-v'));
  if (flags.has('-c')) io.out(`${hits.length}\n`);
  else if (!flags.has('-q')) io.out(hits.map((l) => `${l}\n`).join(''));
  return hits.length ? 0 : 1;
}

function uname(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const parts: Record<string, string> = { '-s': 'Linux', '-n': ctx.hostname, '-r': '6.8.0-gameday-sim', '-v': '#1 SMP', '-m': arch };
  const flags = options(args).flags;
  const chosen = flags.has('-a') ? ['-s', '-n', '-r', '-v', '-m'] : ['-s', '-n', '-r', '-v', '-m'].filter((f) => flags.has(f));
  io.out(`${(chosen.length ? chosen : ['-s']).map((f) => parts[f]).join(' ')}${flags.has('-a') ? ' GNU/Linux' : ''}\n`);
  return 0;
}

function date(_args: readonly string[], io: CommandIo): number {
  const d = new Date();
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const time = d.toISOString().slice(11, 19);
  io.out(`${day} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${time} UTC ${d.getUTCFullYear()}\n`);
  return 0;
}

const constant = (text: string, code = 0): Command => (_args, io) => {
  if (text) io.out(text);
  return code;
};

/** The filesystem, process and text basics every embedded container has. */
export const CORE_COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['true', constant('')],
  ['false', constant('', 1)],
  [':', constant('')],
  ['sync', constant('')],
  ['echo', echo],
  ['cat', cat],
  ['df', df],
  ['fallocate', fallocate],
  ['dd', dd],
  ['rm', rm],
  ['ls', ls],
  ['mkdir', mkdir],
  ['touch', touch],
  ['test', test],
  ['[', bracket],
  ['sleep', sleep],
  ['hostname', (_a, io, ctx) => (io.out(`${ctx.hostname}\n`), 0)],
  ['pwd', (_a, io, ctx) => (io.out(`${ctx.cwd}\n`), 0)],
  ['whoami', constant('root\n')],
  ['id', constant('uid=0(root) gid=0(root) groups=0(root)\n')],
  ['env', env],
  ['printenv', printenv],
  ['stat', stat],
  ['du', du],
  ['head', head],
  ['tail', tail],
  ['wc', wc],
  ['grep', grep],
  ['uname', uname],
  ['date', date],
]);
