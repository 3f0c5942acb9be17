import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DataPlane, type PodAttachment } from '../dataplane/data-plane.js';
import { forwardableHeaders, readBody, writeVirtualResponse } from '../dataplane/service-proxy.js';
import { ConnectionError, type TrafficSource } from '../dataplane/traffic.js';

/**
 * The data plane with real sockets in front: every port a pod's containers listen on is also a
 * TCP listener on the pod's own IP, so the real API server's service and pod proxy (and anything
 * else in the cluster's network namespace) reaches the pod at its address. A connection from a
 * pod IP comes from that pod, anything else from the control-plane node's host network; from
 * there the request takes the same path as in-process traffic: partitions, latency,
 * NetworkPolicy, then the container's virtual server. A refused, reset or dropped connection is
 * closed without an answer, as the real one would be.
 */
export class SocketDataPlane extends DataPlane {
  private readonly sockets = new Map<string, Map<number, Server>>();
  private readonly owners = new Map<string, PodAttachment>();

  override attach(ip: string | undefined, attachment: PodAttachment): void {
    super.attach(ip, attachment);
    if (!ip) return;
    this.owners.set(ip, attachment);
    const ports = new Set(attachment.servers.flatMap((s) => [...s.ports]));
    const open = this.sockets.get(ip) ?? new Map<number, Server>();
    this.sockets.set(ip, open);
    for (const port of ports) if (!open.has(port)) open.set(port, this.listen(ip, port));
  }

  override detach(ip: string, attachment: PodAttachment): void {
    super.detach(ip, attachment);
    if (this.owners.get(ip) !== attachment) return;
    this.owners.delete(ip);
    for (const server of this.sockets.get(ip)?.values() ?? []) {
      server.close();
      server.closeAllConnections();
    }
    this.sockets.delete(ip);
  }

  /** The addresses and ports really listening, for a test or a log. */
  listeners(): { ip: string; port: number }[] {
    return [...this.sockets].flatMap(([ip, ports]) => [...ports.keys()].map((port) => ({ ip, port })));
  }

  closeAll(): void {
    for (const [ip, attachment] of [...this.owners]) this.detach(ip, attachment);
  }

  private listen(ip: string, port: number): Server {
    const server = createServer((req, res) => void this.forward(ip, port, req, res));
    server.on('error', (err) => process.emitWarning(`pod socket ${ip}:${port}: ${err.message}`));
    server.listen(port, ip);
    return server;
  }

  private async forward(ip: string, port: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const from = req.socket.remoteAddress?.replace(/^::ffff:/, '');
    const source: TrafficSource = from && this.owners.has(from) ? { kind: 'pod', ip: from } : { kind: 'host', node: this.controlPlaneNode };
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    try {
      const body = await readBody(req);
      const answer = await this.send(source, ip, port, { method: req.method ?? 'GET', path: req.url ?? '/', headers: forwardableHeaders(req.headers), body }, aborted.signal);
      if (!res.destroyed) writeVirtualResponse(res, answer);
    } catch (err) {
      if (!(err instanceof ConnectionError)) process.emitWarning(`pod socket ${ip}:${port}: ${(err as Error).message}`);
      req.socket.destroy();
    }
  }
}
