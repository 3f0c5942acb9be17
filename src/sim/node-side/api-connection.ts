import { Agent, request } from 'node:https';

/** Where the node side reaches an API server, and as whom. */
export interface ApiEndpoint {
  /** `https://host:port` */
  readonly server: string;
  readonly caCertPem: string;
  readonly token: string;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: string;
}

export type WatchEvent = { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; readonly object: Record<string, unknown> };

/**
 * The node side's one HTTPS connection pool to an API server: plain requests and streaming
 * watches, with the bearer token a kubelet's kubeconfig would carry. No retries here: the mirror
 * decides what to retry.
 */
export class ApiConnection {
  private readonly agent: Agent;

  constructor(private readonly endpoint: ApiEndpoint) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 32, ca: endpoint.caCertPem });
  }

  call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiAnswer> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        new URL(path, this.endpoint.server),
        {
          method,
          agent: this.agent,
          timeout: 30_000,
          headers: {
            authorization: `Bearer ${this.endpoint.token}`,
            accept: 'application/json',
            'user-agent': 'gameday-node-side',
            ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /**
   * Streams `?watch=1` events from `resourceVersion` until the server ends the watch (resolves
   * 'closed'), answers 410 (resolves 'expired'), or `signal` aborts. Other failures reject.
   */
  watch(path: string, resourceVersion: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<'closed' | 'expired'> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, this.endpoint.server);
      url.searchParams.set('watch', '1');
      url.searchParams.set('resourceVersion', resourceVersion);
      url.searchParams.set('allowWatchBookmarks', 'true');
      url.searchParams.set('timeoutSeconds', String(240 + Math.floor(Math.random() * 120)));
      const req = request(url, { method: 'GET', agent: this.agent, signal, headers: { authorization: `Bearer ${this.endpoint.token}`, accept: 'application/json', 'user-agent': 'gameday-node-side' } }, (res) => {
        if (res.statusCode === 410) {
          res.resume();
          return resolve('expired');
        }
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => reject(new Error(`watch ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`)));
          return;
        }
        let buffered = '';
        let expired = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            const event = JSON.parse(line) as WatchEvent;
            if (event.type === 'ERROR') {
              expired ||= (event.object as { code?: number }).code === 410;
              continue;
            }
            onEvent(event);
          }
        });
        res.on('end', () => resolve(expired ? 'expired' : 'closed'));
        res.on('error', (err) => (signal.aborted ? resolve('closed') : reject(err)));
      });
      req.on('error', (err) => (signal.aborted ? resolve('closed') : reject(err)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
