import { posix } from 'node:path';
import { abs, fsMessage, type Command, type CommandContext, type CommandIo } from './shell-commands.js';

/**
 * `tar` in the embedded containers: POSIX ustar archives of regular files and directories,
 * created to and extracted from standard input or output (`f -`) or a file, with `-C`. That is
 * what `kubectl cp` runs in a container (`tar cf - <path>` to copy out, `tar -xmf - -C <dir>` to
 * copy in). No compression, links or special files.
 */
const BLOCK = 512;

interface Entry {
  readonly name: string;
  readonly dir: boolean;
  readonly content: Buffer;
  readonly mtime: Date;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(e: Entry): Buffer {
  const h = Buffer.alloc(BLOCK);
  let name = e.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1 - 0);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.dir ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(e.dir ? 0 : e.content.length, 12), 124, 'ascii');
  h.write(octal(Math.floor(e.mtime.getTime() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(e.dir ? '5' : '0', 156, 'ascii');
  h.write('ustar\u000000', 257, 'binary');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export function writeTar(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e));
    if (!e.dir && e.content.length) {
      parts.push(e.content, Buffer.alloc((BLOCK - (e.content.length % BLOCK)) % BLOCK));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export function readTar(archive: Buffer): Entry[] {
  const entries: Entry[] = [];
  for (let at = 0; at + BLOCK <= archive.length; ) {
    const h = archive.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    const text = (from: number, len: number) => h.subarray(from, from + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const type = text(156, 1) || '0';
    const prefix = text(257, 6).startsWith('ustar') ? text(345, 155) : '';
    const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const mtime = new Date(parseInt(text(136, 12).trim() || '0', 8) * 1000);
    at += BLOCK;
    const content = archive.subarray(at, at + size);
    at += Math.ceil(size / BLOCK) * BLOCK;
    if (type === '5') entries.push({ name, dir: true, content: Buffer.alloc(0), mtime });
    else if (type === '0' || type === '\0' || type === '7') entries.push({ name, dir: false, content: Buffer.from(content), mtime });
    else throw new Error(`${name}: only regular files and directories can be extracted (type ${type})`);
  }
  return entries;
}

/** `cf`, `-xmf`, `-C dir`: the mode letters may come with or without a dash, old style first. */
function parseArgs(args: readonly string[]): { mode?: 'c' | 'x' | 't'; file?: string; dir?: string; verbose: boolean; operands: string[]; error?: string } {
  const out: { mode?: 'c' | 'x' | 't'; file?: string; dir?: string; verbose: boolean; operands: string[]; error?: string } = { verbose: false, operands: [] };
  const rest = [...args];
  const letters = (flags: string): void => {
    for (const c of flags) {
      if (c === 'c' || c === 'x' || c === 't') out.mode = c;
      else if (c === 'f') out.file = rest.shift() ?? '';
      else if (c === 'v') out.verbose = true;
      else if (c === 'C') out.dir = rest.shift() ?? '';
      else if (c === 'm' || c === 'o' || c === 'p') continue;
      else if (c === 'z' || c === 'j' || c === 'J') out.error = 'compression is not supported here';
      else out.error = `invalid option -- '${c}'`;
    }
  };
  if (rest[0] && !rest[0].startsWith('-')) letters(rest.shift()!);
  while (rest.length) {
    const a = rest.shift()!;
    if (a === '-C' || a === '--directory') out.dir = rest.shift() ?? '';
    else if (a.startsWith('--directory=')) out.dir = a.slice('--directory='.length);
    else if (a === '--no-same-owner' || a === '--no-same-permissions') continue;
    else if (a.startsWith('-') && a.length > 1) letters(a.slice(1));
    else out.operands.push(a);
  }
  return out;
}

function collect(ctx: CommandContext, base: string, path: string, io: CommandIo, into: Entry[]): void {
  const full = posix.join(base, path);
  const node = ctx.fs.stat(full);
  if (!node) throw Object.assign(new Error(`${path}: Cannot stat: No such file or directory`), { tar: true });
  const name = path.replace(/^\/+/, '');
  if (node.kind === 'dir') {
    into.push({ name: `${name}/`, dir: true, content: Buffer.alloc(0), mtime: node.modified });
    for (const child of ctx.fs.list(full)) collect(ctx, base, posix.join(path, child), io, into);
  } else {
    into.push({ name, dir: false, content: ctx.fs.readFile(full), mtime: node.modified });
  }
}

export const tar: Command = async (args, io, ctx) => {
  const a = parseArgs(args);
  if (a.error || !a.mode) {
    io.err(`tar: ${a.error ?? 'You must specify one of the \'-Acdtrux\' options'}\n`);
    return 2;
  }
  const dir = abs(ctx, a.dir ?? '.');
  try {
    if (a.mode === 'c') {
      if (!a.operands.length) {
        io.err('tar: Cowardly refusing to create an empty archive\n');
        return 2;
      }
      const entries: Entry[] = [];
      for (const p of a.operands) {
        if (p.startsWith('/')) io.err("tar: Removing leading `/' from member names\n");
        collect(ctx, p.startsWith('/') ? '/' : dir, p, io, entries);
      }
      const archive = writeTar(entries);
      if (a.verbose) for (const e of entries) io.err(`${e.name}\n`);
      if (!a.file || a.file === '-') io.out(archive);
      else ctx.fs.writeFile(abs(ctx, a.file), archive.length, archive);
      return 0;
    }
    const archive = !a.file || a.file === '-' ? await io.input() : ctx.fs.readFile(abs(ctx, a.file));
    const entries = readTar(archive);
    for (const e of entries) {
      const name = e.name.replace(/^\/+/, '').replace(/\/$/, '');
      if (a.mode === 't' || a.verbose) io.out(`${e.name}\n`);
      if (a.mode === 't' || !name || name.split('/').includes('..')) continue;
      const target = posix.join(dir, name);
      ctx.fs.mkdir(posix.dirname(target), true);
      if (e.dir) ctx.fs.mkdir(target, true);
      else ctx.fs.writeFile(target, e.content.length, e.content);
    }
    return 0;
  } catch (err) {
    if ((err as { tar?: boolean }).tar) {
      io.err(`tar: ${(err as Error).message}\ntar: Exiting with failure status due to previous errors\n`);
      return 2;
    }
    io.err(`tar: ${err instanceof Error && !('code' in err) ? err.message : fsMessage(err)}\n`);
    return 2;
  }
};
