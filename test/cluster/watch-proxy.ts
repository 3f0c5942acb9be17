import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A plain HTTP proxy in front of an API server that can do to watches what real networks and
 * API servers do: end them, answer them with 410 Expired, lose their events, or refuse every
 * request for a while.
 * It counts the lists and watches of each collection that pass through.
 */
export class WatchProxy {
  /** While set, every request is answered 503, as by an API server that is restarting. */
  refusing = false;
  /** While set, open watches stay connected but pass no event on, as a watch that missed them. */
  muted = false;
  private expireNext = 0;
  private readonly open = new Map<ServerResponse, IncomingMessage>();
  private readonly lists = new Map<string, number>();
  private readonly watches = new Map<string, number>();
  private readonly server = createServer((req, res) => this.serve(req, res));

  private constructor(private readonly upstream: URL) {}

  static async start(upstream: string): Promise<WatchProxy> {
    const proxy = new WatchProxy(new URL(upstream));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A KubeConfig whose only cluster is this proxy. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'proxy', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'proxy', cluster: 'proxy', user: 'u' }],
      currentContext: 'proxy',
    });
    return kc;
  }

  /** Ends every open watch the way a server does at its request timeout: a clean end of the stream. */
  endWatches(): void {
    for (const [res, answer] of this.open) {
      answer.unpipe(res);
      answer.destroy();
      res.end();
    }
    this.open.clear();
  }

  /** The next `count` watches get an ERROR event with a 410 Expired Status, then their end. */
  expireWatches(count: number): void {
    this.expireNext = count;
  }

  listsOf(path: string): number {
    return this.lists.get(path) ?? 0;
  }

  watchesOf(path: string): number {
    return this.watches.get(path) ?? 0;
  }

  async stop(): Promise<void> {
    this.endWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const watching = url.searchParams.get('watch') === 'true';
    const counts = watching ? this.watches : this.lists;
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    if (this.refusing) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'the server is restarting', reason: 'ServiceUnavailable', code: 503 }));
      return;
    }
    if (watching && this.expireNext > 0) {
      this.expireNext--;
      const expired = { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'too old resource version', reason: 'Expired', code: 410 };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'ERROR', object: expired }) + '\n');
      return;
    }
    const upstream = request(new URL(req.url ?? '/', this.upstream), { method: req.method, headers: { ...req.headers, host: this.upstream.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (watching) {
        res.flushHeaders();
        this.open.set(res, answer);
        res.on('close', () => {
          this.open.delete(res);
          answer.destroy();
        });
      }
      if (!watching) {
        answer.pipe(res);
        return;
      }
      answer.on('data', (chunk: Buffer) => {
        if (!this.muted) res.write(chunk);
      });
      answer.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
