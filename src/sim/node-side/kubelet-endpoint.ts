import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { ApiError, statusOfError } from '../api/api-error.js';
import { rejectUpgrade, sendStatus } from '../api/http-exchange.js';
import { execStatus, PodExecEndpoint } from '../api/pod-exec.js';
import { servePodLog } from '../api/pod-log.js';
import type { ExecResult } from '../api/pod-runtime.js';
import type { KubeletServer } from '../kubelet/kubelet-server.js';
import type { ObjectStore } from '../store.js';
import { SpdyServerSession, type SpdyStream } from './spdy-session.js';

/** The port a real kubelet serves on, which the API server dials for exec and logs. */
export const KUBELET_PORT = 10250;

const EXEC = /^\/exec\/([^/]+)\/([^/]+)\/([^/]+)$/;
const LOGS = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/;
/** remotecommand protocols over SPDY, newest first: v4 ends with a Status on the error stream. */
const PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

export interface KubeletEndpointOptions {
  readonly store: ObjectStore;
  readonly kubelets: KubeletServer;
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * The kubelet's HTTPS server (port 10250) on each node's own address, for the API server's
 * pods/exec and pods/log: `/containerLogs/{ns}/{pod}/{container}` as plain text and
 * `/exec/{ns}/{pod}/{container}` upgraded to SPDY/3.1, the way the real kubelet answers them.
 * The pod's worker is found through the same KubeletServer the embedded API server calls in-process.
 */
export class KubeletEndpoint {
  private readonly servers: Server[] = [];
  private readonly exec: PodExecEndpoint;
  private readonly sessions = new Set<SpdyServerSession>();

  constructor(private readonly options: KubeletEndpointOptions) {
    this.exec = new PodExecEndpoint(options.store, options.kubelets);
  }

  async listen(address: string): Promise<void> {
    const server = createServer({ cert: this.options.certPem, key: this.options.keyPem }, (req, res) => this.request(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => this.upgrade(req, socket));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(KUBELET_PORT, address, resolve);
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.close();
    for (const server of this.servers) server.closeAllConnections();
    await Promise.all(this.servers.map((server) => new Promise((r) => server.close(r))));
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    try {
      const logs = LOGS.exec(url.pathname);
      if (logs) {
        const query = new URLSearchParams(url.searchParams);
        query.set('container', decodeURIComponent(logs[3]!));
        servePodLog(this.options.store, this.options.kubelets, decodeURIComponent(logs[1]!), decodeURIComponent(logs[2]!), query, res);
        return;
      }
      if (url.pathname === '/healthz') return void res.end('ok');
      throw new ApiError(404, 'NotFound', `the kubelet serves no ${url.pathname}`);
    } catch (err) {
      if (res.headersSent) res.destroy();
      else sendStatus(res, statusOfError(err));
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex): void {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const m = EXEC.exec(url.pathname);
    const offered = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim());
    const protocol = PROTOCOLS.find((p) => offered.includes(p));
    try {
      if (!m) throw new ApiError(404, 'NotFound', `the kubelet upgrades only /exec; not ${url.pathname}`);
      if (String(req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1') throw ApiError.badRequest(`the kubelet streams over SPDY/3.1, not ${String(req.headers.upgrade)}`);
      if (!protocol) throw ApiError.badRequest(`none of the remotecommand protocols [${offered.join(', ')}] is supported; supported: ${PROTOCOLS.join(', ')}`);
      // The kubelet's parameter names (input, output, error) in the API server's terms.
      const query = new URLSearchParams();
      for (const c of url.searchParams.getAll('command')) query.append('command', c);
      query.set('container', decodeURIComponent(m[3]!));
      const flag = (name: string): string => (['1', 'true'].includes(url.searchParams.get(name) ?? '') ? 'true' : 'false');
      query.set('stdin', flag('input'));
      query.set('stdout', flag('output'));
      query.set('stderr', flag('error'));
      query.set('tty', flag('tty'));
      const session = this.exec.open(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), query);
      socket.write(['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${protocol}`, '', ''].join('\r\n'));
      void this.run(socket, protocol, session);
    } catch (err) {
      rejectUpgrade(socket, statusOfError(err));
    }
  }

  /** Waits for the client's streams (error, then the ones the exec asked for), runs the command, reports. */
  private async run(socket: Duplex, protocol: string, session: ReturnType<PodExecEndpoint['open']>): Promise<void> {
    const expected = 1 + Number(session.stdin) + Number(session.stdout) + Number(session.stderr && !session.tty) + Number(session.tty && protocol !== 'channel.k8s.io');
    const streams = new Map<string, SpdyStream>();
    let allOpen: () => void = () => {};
    const opened = new Promise<void>((resolve) => (allOpen = resolve));
    const spdy = new SpdyServerSession(socket, (s) => {
      streams.set(s.headers.streamtype ?? '', s);
      if (streams.size >= expected) allOpen();
    });
    this.sessions.add(spdy);
    const timeout = setTimeout(allOpen, 30_000);
    await opened;
    clearTimeout(timeout);
    const aborted = new AbortController();
    socket.once('close', () => aborted.abort());
    const stdin = streams.get('stdin');
    let result: ExecResult;
    try {
      result = await session.target.run(session.command, {
        tty: session.tty,
        stdout: (d) => streams.get('stdout')?.write(d),
        stderr: (d) => (streams.get('stderr') ?? streams.get('stdout'))?.write(d),
        ...(stdin ? { stdin } : {}),
        signal: aborted.signal,
      });
    } catch (err) {
      result = { kind: 'start-failed', message: (err as Error).message };
    }
    const error = streams.get('error');
    const status = execStatus(result, session.command) as { status?: string; message?: string };
    if (protocol === 'v4.channel.k8s.io') error?.write(Buffer.from(JSON.stringify(status)));
    else if (status.status !== 'Success') error?.write(Buffer.from(String(status.message)));
    for (const s of streams.values()) s.end();
    spdy.close();
    this.sessions.delete(spdy);
  }
}
