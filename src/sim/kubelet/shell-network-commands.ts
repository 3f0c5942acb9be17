import { posix } from 'node:path';
import type { PodNetwork } from '../dataplane/pod-network.js';
import { ConnectionError, type VirtualResponse } from '../dataplane/traffic.js';
import { abs, fsMessage, type Command, type CommandContext, type CommandIo } from './shell-commands.js';

const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 409: 'Conflict', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

const statusLine = (status: number): string => `HTTP/1.1 ${status} ${REASONS[status] ?? ''}`.trimEnd();

export interface Fetched {
  readonly response?: VirtualResponse;
  readonly address?: string;
  readonly port: number;
  /** What went wrong: the name did not resolve, the connection failed, or the time ran out. */
  readonly failure?: 'resolve' | 'timeout' | ConnectionError;
}

/** One HTTP request from the pod, for wget and curl: resolution, the connection, a deadline. */
export async function fetchFromPod(network: PodNetwork | undefined, url: URL, init: { method: string; headers: Record<string, string>; body: Buffer }, timeoutSeconds: number, signal: AbortSignal): Promise<Fetched> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const resolved = network?.resolve(url.hostname);
  if (!network || !resolved) return { port, failure: 'resolve' };
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutSeconds * 1000);
  timer.unref();
  const both = AbortSignal.any([signal, deadline.signal]);
  try {
    const exchange = network.request(resolved.address, port, { method: init.method, path: `${url.pathname}${url.search}`, headers: { host: url.host, ...init.headers }, body: init.body }, both);
    const aborted = new Promise<'timeout'>((resolve) => both.addEventListener('abort', () => resolve('timeout'), { once: true }));
    const outcome = await Promise.race([exchange, aborted]);
    if (outcome === 'timeout') return { address: resolved.address, port, failure: 'timeout' };
    return { response: outcome, address: resolved.address, port };
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
    return { address: resolved.address, port, failure: both.aborted || err.code === 'ETIMEDOUT' ? 'timeout' : err };
  } finally {
    clearTimeout(timer);
  }
}

export function urlOf(text: string): URL | undefined {
  try {
    return new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    return undefined;
  }
}

/** A `Name: value` header from the command line. */
function addHeader(headers: Record<string, string>, text: string): void {
  const colon = text.indexOf(':');
  if (colon > 0) headers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
}

export const bodyOf = (r: VirtualResponse): Buffer => (typeof r.body === 'string' ? Buffer.from(r.body) : r.body);

function save(ctx: CommandContext, file: string, data: Buffer): string | undefined {
  try {
    ctx.fs.writeFile(abs(ctx, file), data.length, data);
    return undefined;
  } catch (err) {
    return fsMessage(err);
  }
}

/** BusyBox wget: -q, -O, -T, -S/--server-response, --spider, --header, --post-data. */
async function wget(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const headers: Record<string, string> = { 'user-agent': 'Wget' };
  const flags = new Set<string>();
  let output: string | undefined;
  let timeout = 900;
  let postData: string | undefined;
  const urls: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => inline ?? args[++i] ?? '';
    if (name === '-O' || name === '--output-document') output = value();
    else if (name.startsWith('-O') && name.length > 2) output = name.slice(2);
    else if (name === '-T' || name === '--timeout') timeout = Number(value()) || timeout;
    else if (name === '--header') addHeader(headers, value());
    else if (name === '-U' || name === '--user-agent') headers['user-agent'] = value();
    else if (name === '--post-data') postData = value();
    else if (name.startsWith('-') && name.length > 1) {
      if (name.startsWith('--')) flags.add(name);
      else for (const f of name.slice(1)) flags.add(`-${f}`);
    } else urls.push(a);
  }
  const quiet = flags.has('-q') || flags.has('--quiet');
  const say = (text: string): void => {
    if (!quiet) io.err(text);
  };
  if (!urls.length) {
    io.err('BusyBox v1.36.1 (2023-05-18 22:34:17 UTC) multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n');
    return 1;
  }
  let status = 0;
  for (const text of urls) {
    const url = urlOf(text);
    if (!url) {
      io.err(`wget: bad address '${text}'\n`);
      status = 1;
      continue;
    }
    const body = Buffer.from(postData ?? '');
    const got = await fetchFromPod(ctx.network, url, { method: postData !== undefined ? 'POST' : 'GET', headers, body }, timeout, ctx.signal);
    // BusyBox names the host as written, default port included (`frontend:80`); URL drops it.
    const host = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)/i.exec(text)?.[1] ?? url.host;
    if (got.failure === 'resolve') {
      io.err(`wget: bad address '${host}'\n`);
      status = 1;
      continue;
    }
    say(`Connecting to ${host} (${got.address}:${got.port})\n`);
    if (got.failure === 'timeout') {
      io.err('wget: download timed out\n');
      status = 1;
      continue;
    }
    if (got.failure) {
      io.err(`wget: can't connect to remote host (${got.address}): ${got.failure.code === 'EHOSTUNREACH' ? 'No route to host' : got.failure.code === 'ECONNRESET' ? 'Connection reset by peer' : 'Connection refused'}\n`);
      status = 1;
      continue;
    }
    const r = got.response!;
    if (flags.has('-S') || flags.has('--server-response')) {
      io.err(`  ${statusLine(r.status)}\n${Object.entries(r.headers).map(([k, v]) => `  ${k}: ${v}\n`).join('')}`);
    }
    if (r.status >= 400) {
      io.err(`wget: server returned error: ${statusLine(r.status)}\n`);
      status = 1;
      continue;
    }
    if (flags.has('--spider')) {
      say('remote file exists\n');
      continue;
    }
    const data = bodyOf(r);
    if (output === '-') {
      say('writing to stdout\n');
      io.out(data);
      say('written to stdout\n');
      continue;
    }
    const file = output ?? (posix.basename(url.pathname) || 'index.html');
    if (output === undefined && ctx.fs.stat(abs(ctx, file))) {
      io.err(`wget: can't open '${file}': File exists\n`);
      status = 1;
      continue;
    }
    say(`saving to '${file}'\n`);
    const problem = save(ctx, file, data);
    if (problem) {
      io.err(`wget: can't open '${file}': ${problem}\n`);
      status = 1;
      continue;
    }
    say(`'${file}' saved\n`);
  }
  return status;
}

/** curl: -s, -S, -f, -o, -O, -w, -I, -i, -X, -H, -d, -m, --connect-timeout, -L; its exit codes (6, 7, 22, 28, 56). */
async function curl(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const headers: Record<string, string> = { 'user-agent': 'curl/8.5.0', accept: '*/*' };
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const urls: string[] = [];
  const withValue = new Set(['-o', '-w', '-X', '-H', '-d', '-m', '--output', '--write-out', '--request', '--header', '--data', '--data-raw', '--data-binary', '--max-time', '--connect-timeout', '--retry', '--retry-delay', '-u', '--user', '-A', '--user-agent', '-e', '--referer', '--url']);
  const long: Record<string, string> = { '--silent': '-s', '--show-error': '-S', '--fail': '-f', '--fail-with-body': '-f', '--head': '-I', '--include': '-i', '--location': '-L', '--insecure': '-k', '--verbose': '-v', '--remote-name': '-O', '--output': '-o', '--write-out': '-w', '--request': '-X', '--header': '-H', '--data': '-d', '--data-raw': '-d', '--data-binary': '-d', '--max-time': '-m', '--user-agent': '-A' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      const key = long[name] ?? name;
      if (withValue.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : (args[++i] ?? '');
        if (key === '-H') addHeader(headers, v);
        else if (name === '--url') urls.push(v);
        else values.set(key, v);
      } else flags.add(key);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const f = `-${a[j]}`;
        if (withValue.has(f)) {
          const v = a.slice(j + 1) || (args[++i] ?? '');
          if (f === '-H') addHeader(headers, v);
          else values.set(f, v);
          break;
        }
        flags.add(f);
      }
    } else urls.push(a);
  }
  if (values.has('-A')) headers['user-agent'] = values.get('-A')!;
  const silent = flags.has('-s') && !flags.has('-S');
  const fail = (code: number, message: string): number => {
    if (!silent) io.err(`curl: (${code}) ${message}\n`);
    return code;
  };
  const text = urls[0];
  if (text === undefined) return fail(2, 'no URL specified');
  const url = urlOf(text);
  if (!url) return fail(3, `URL rejected: Malformed input to a URL function`);
  const data = values.get('-d');
  const method = values.get('-X') ?? (flags.has('-I') ? 'HEAD' : data !== undefined ? 'POST' : 'GET');
  if (data !== undefined) headers['content-type'] ??= 'application/x-www-form-urlencoded';
  const started = Date.now();
  const timeout = Number(values.get('-m') ?? values.get('--connect-timeout') ?? 300);
  const got = await fetchFromPod(ctx.network, url, { method, headers, body: Buffer.from(data ?? '') }, timeout, ctx.signal);
  const r = got.response;
  const body = r && method !== 'HEAD' ? bodyOf(r) : Buffer.alloc(0);
  const writeOut = (): void => {
    const format = values.get('-w');
    if (format === undefined) return;
    const vars: Record<string, string> = {
      http_code: String(r?.status ?? 0).padStart(3, '0'), response_code: String(r?.status ?? 0).padStart(3, '0'), url_effective: url.href, size_download: String(body.length),
      time_total: ((Date.now() - started) / 1000).toFixed(6), content_type: r?.headers['content-type'] ?? '', remote_ip: got.address ?? '', remote_port: String(got.port),
    };
    io.out(format.replace(/%\{(\w+)\}/g, (m, k: string) => vars[k] ?? m).replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
  };
  if (!r) {
    writeOut();
    if (got.failure === 'resolve') return fail(6, `Could not resolve host: ${url.hostname}`);
    if (got.failure === 'timeout') return fail(28, `Connection timed out after ${Date.now() - started} milliseconds`);
    const e = got.failure!;
    if (e.code === 'ECONNRESET') return fail(56, 'Recv failure: Connection reset by peer');
    return fail(7, `Failed to connect to ${url.hostname} port ${got.port} after ${Date.now() - started} ms: ${e.code === 'EHOSTUNREACH' ? 'No route to host' : "Couldn't connect to server"}`);
  }
  if (flags.has('-f') && r.status >= 400) {
    writeOut();
    return fail(22, `The requested URL returned error: ${r.status}`);
  }
  const head = `${statusLine(r.status)}\r\n${Object.entries(r.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const payload = Buffer.concat([flags.has('-i') || flags.has('-I') ? Buffer.from(head) : Buffer.alloc(0), body]);
  const file = values.get('-o') ?? (flags.has('-O') ? posix.basename(url.pathname) || 'index.html' : undefined);
  if (file !== undefined && file !== '-') {
    const problem = save(ctx, file, payload);
    if (problem) return fail(23, `Failure writing output to destination`);
  } else {
    io.out(payload);
  }
  writeOut();
  return 0;
}

/** BusyBox nslookup against the cluster DNS. */
function nslookup(args: readonly string[], io: CommandIo, ctx: CommandContext): number {
  const name = args.find((a) => !a.startsWith('-'));
  if (!name) {
    io.err('Usage: nslookup [-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]\n');
    return 1;
  }
  const server = ctx.network?.nameserver ?? '10.96.0.10';
  io.out(`Server:\t\t${server}\nAddress:\t${server}:53\n\n`);
  const found = ctx.network?.resolve(name);
  if (!found) {
    const namespace = ctx.network?.namespace ?? 'default';
    io.out(`** server can't find ${name.includes('.') ? name : `${name}.${namespace}.svc.cluster.local`}: NXDOMAIN\n\n`);
    return 1;
  }
  io.out(`Name:\t${found.name}\nAddress: ${found.address}\n\n`);
  return 0;
}

/** `nc -z host port`: does anything accept the connection? */
async function nc(args: readonly string[], io: CommandIo, ctx: CommandContext): Promise<number> {
  const flags = new Set<string>();
  const operands: string[] = [];
  let wait = 10;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-w') wait = Number(args[++i]) || wait;
    else if (a.startsWith('-')) for (const f of a.slice(1)) flags.add(f);
    else operands.push(a);
  }
  const [host, portText] = operands;
  if (!flags.has('z') || !host || !portText) {
    io.err('nc: only port scans (nc -z HOST PORT) are supported in the embedded cluster\n');
    return 1;
  }
  const port = Number(portText);
  const resolved = ctx.network?.resolve(host);
  if (!ctx.network || !resolved) {
    io.err(`nc: bad address '${host}'\n`);
    return 1;
  }
  const deadline = AbortSignal.any([ctx.signal, AbortSignal.timeout(wait * 1000)]);
  try {
    await Promise.race([ctx.network.connect(resolved.address, port, deadline), new Promise((_, reject) => deadline.addEventListener('abort', () => reject(new ConnectionError('ETIMEDOUT', 'timed out')), { once: true }))]);
    if (flags.has('v')) io.err(`${host} (${resolved.address}:${port}) open\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
    if (flags.has('v')) io.err(`nc: ${host} (${resolved.address}:${port}): ${err.code === 'ETIMEDOUT' ? 'Connection timed out' : 'Connection refused'}\n`);
    return 1;
  }
}

export const NETWORK_COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([
  ['wget', wget],
  ['curl', curl],
  ['nslookup', nslookup],
  ['nc', nc],
]);
