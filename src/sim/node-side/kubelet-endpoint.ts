import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { ApiError, statusOfError } from '../api/api-error.js';
import { rejectUpgrade, sendStatus } from '../api/http-exchange.js';
import { PodExecEndpoint } from '../api/pod-exec.js';
import { upgradePortForward, type PortForwarder } from '../api/pod-port-forward-upgrade.js';
import { createSocketPortForward } from '../dataplane/pod-port-forward.js';
import { servePodLog } from '../api/pod-log.js';
import type { KubeletServer } from '../kubelet/kubelet-server.js';
import type { ObjectStore } from '../store.js';

/** The port a real kubelet serves on, which the API server dials for exec, attach, port-forward and logs. */
export const KUBELET_PORT = 10250;

const STREAMING = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]+)$/;
const PORT_FORWARD = /^\/portForward\/([^/]+)\/([^/]+)$/;
const LOGS = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/;

export interface KubeletEndpointOptions {
  readonly store: ObjectStore;
  readonly kubelets: KubeletServer;
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * The kubelet's HTTPS server (port 10250) on each node's own address, for the API server's
 * pods/exec, pods/attach, pods/portforward and pods/log: `/containerLogs/{ns}/{pod}/{container}`
 * as plain text, `/exec/…` and `/attach/{ns}/{pod}/{container}` upgraded (to SPDY/3.1, as the API
 * server asks) and served by the same PodExecEndpoint as the embedded API server's, and
 * `/portForward/{ns}/{pod}` over SPDY with each forwarded connection a real TCP connection to the
 * pod's address, the way the real kubelet answers them.
 * The pod's worker is found through the same KubeletServer the embedded API server calls in-process.
 */
export class KubeletEndpoint {
  private readonly servers: Server[] = [];
  private readonly exec: PodExecEndpoint;
  private readonly portForward: PortForwarder;
  /** Upgraded port-forward connections, which the HTTPS servers no longer track. */
  private readonly forwarded = new Set<Duplex>();

  constructor(private readonly options: KubeletEndpointOptions) {
    this.exec = new PodExecEndpoint(options.store, options.kubelets);
    this.portForward = createSocketPortForward(options.store);
  }

  async listen(address: string): Promise<void> {
    const server = createServer({ cert: this.options.certPem, key: this.options.keyPem }, (req, res) => this.request(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(KUBELET_PORT, address, resolve);
    });
  }

  async stop(): Promise<void> {
    this.exec.stop();
    for (const socket of this.forwarded) socket.destroy();
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

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const m = STREAMING.exec(url.pathname);
    const forward = PORT_FORWARD.exec(url.pathname);
    try {
      if (forward) {
        this.forwarded.add(socket);
        socket.once('close', () => this.forwarded.delete(socket));
        return upgradePortForward(req, socket, head, decodeURIComponent(forward[1]!), decodeURIComponent(forward[2]!), this.portForward);
      }
      if (!m) throw new ApiError(404, 'NotFound', `the kubelet upgrades only /exec, /attach and /portForward; not ${url.pathname}`);
      const [, kind, namespace, pod, container] = m.map((part) => decodeURIComponent(part)) as [string, 'exec' | 'attach', string, string, string];
      // The kubelet's parameter names (input, output, error) in the API server's terms.
      const query = new URLSearchParams();
      for (const c of url.searchParams.getAll('command')) query.append('command', c);
      query.set('container', container);
      const flag = (name: string): string => (url.searchParams.get(name) === '1' ? 'true' : 'false');
      query.set('stdin', flag('input'));
      query.set('stdout', flag('output'));
      query.set('stderr', flag('error'));
      query.set('tty', flag('tty'));
      const session = kind === 'exec' ? this.exec.open(namespace, pod, query) : this.exec.openAttach(namespace, pod, query);
      this.exec.upgrade(req, socket, head, session);
    } catch (err) {
      rejectUpgrade(socket, statusOfError(err));
    }
  }
}
