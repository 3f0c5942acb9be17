import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServicePort } from '../controllers/endpoints.js';
import { objectKey, type Informer, type Informers } from '../informer.js';
import type { ObjectStore, StoredObject } from '../store.js';
import type { DataPlane } from './data-plane.js';
import { forwardableHeaders, readBody, writeVirtualResponse } from './service-proxy.js';
import type { ServiceRouter } from './service-router.js';

/** Where the local ports are told, so that Services stay as their owners wrote them: a ConfigMap in kube-system. */
export const LOCAL_PORTS_CONFIGMAP = { namespace: 'kube-system', name: 'gameday-local-ports' } as const;

interface Listener {
  readonly server: Server;
  readonly servicePort: number;
  readonly localPort: number;
}

/**
 * A real 127.0.0.1 listener per Service port, standing in for the cluster IP: each connection goes
 * to a ready endpoint (round-robin) through the data plane, with the pod's failures surfacing as
 * resets, as through kube-proxy. NodePort services try their nodePort first. The chosen ports are
 * written to the ConfigMap kube-system/gameday-local-ports, one key per Service
 * (`<namespace>.<name>: {"80": 38121}`), never into the Service itself.
 */
export class ServiceListeners {
  private readonly listeners = new Map<string, Listener[]>();
  private readonly services: Informer;
  private readonly off: () => void;
  private readonly work = new Set<Promise<void>>();
  private readonly chains = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly host: string,
    private readonly store: ObjectStore,
    informers: Informers,
    private readonly router: ServiceRouter,
    private readonly dataPlane: DataPlane,
  ) {
    this.services = informers.for('services');
    this.off = this.services.onChange((_type, svc) => this.enqueue(objectKey(svc)));
    for (const svc of this.services.list()) this.enqueue(objectKey(svc));
  }

  /** The local port serving a Service port, once it is listening. */
  localPort(namespace: string, name: string, port: number): number | undefined {
    return this.listeners.get(`${namespace}/${name}`)?.find((l) => l.servicePort === port)?.localPort;
  }

  async settled(): Promise<void> {
    while (this.work.size) await Promise.all([...this.work]);
  }

  /** Syncs of one Service run one after another, each against the Service as it is by then. */
  private enqueue(key: string): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const p = prev
      .then(() => this.sync(key, this.services.getByKey(key)))
      .catch((err: Error) => process.emitWarning(`service listener ${key}: ${err.message}`));
    this.chains.set(key, p);
    this.work.add(p);
    void p.finally(() => {
      this.work.delete(p);
      if (this.chains.get(key) === p) this.chains.delete(key);
    });
  }

  private async sync(key: string, svc: StoredObject | undefined): Promise<void> {
    const spec = svc?.spec as { ports?: ServicePort[]; clusterIP?: string; type?: string; selector?: Record<string, string> } | undefined;
    // Headless and ExternalName Services have no virtual IP to stand in for; selector-less ones
    // (like `kubernetes`) have no endpoints this controller manages.
    const routable = spec && spec.clusterIP !== 'None' && spec.type !== 'ExternalName' && Object.keys(spec.selector ?? {}).length > 0;
    const wanted = svc && routable ? (spec.ports ?? []) : [];
    const current = this.listeners.get(key) ?? [];
    const keep = current.filter((l) => wanted.some((p) => p.port === l.servicePort));
    for (const l of current) if (!keep.includes(l)) await this.close(l);
    const next = [...keep];
    for (const p of wanted) {
      if (this.stopped || next.some((l) => l.servicePort === p.port)) continue;
      const [ns, name] = key.split('/') as [string, string];
      const nodePort = (p as { nodePort?: number }).nodePort;
      next.push(await this.open(ns, name, p, nodePort));
    }
    if (this.stopped) {
      for (const l of next) await this.close(l);
      return;
    }
    if (next.length) this.listeners.set(key, next);
    else this.listeners.delete(key);
    this.record(key, next);
  }

  private record(key: string, listeners: readonly Listener[]): void {
    const { namespace, name } = LOCAL_PORTS_CONFIGMAP;
    const entry = key.replace('/', '.');
    const value = listeners.length ? JSON.stringify(Object.fromEntries(listeners.map((l) => [String(l.servicePort), l.localPort]))) : undefined;
    if (!this.store.get('configmaps', namespace, name)) {
      if (value === undefined || !this.store.get('namespaces', undefined, namespace)) return;
      this.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { [entry]: value } } as unknown as StoredObject);
      return;
    }
    this.store.mutate('configmaps', namespace, name, (cm) => {
      const data = ((cm as { data?: Record<string, string> }).data ??= {});
      if (data[entry] === value) return false;
      if (value === undefined) delete data[entry];
      else data[entry] = value;
      return true;
    });
  }

  private async open(namespace: string, name: string, port: ServicePort, nodePort: number | undefined): Promise<Listener> {
    const server = createServer((req, res) => {
      const backend = this.router.pick(namespace, name, port.name ?? '');
      if (!backend) {
        // kube-proxy rejects connections to a Service without ready endpoints.
        req.socket.destroy();
        return;
      }
      const aborted = new AbortController();
      res.on('close', () => aborted.abort());
      void readBody(req)
        .then((body) => this.dataPlane.send({ kind: 'host', node: this.dataPlane.controlPlaneNode }, backend.ip, backend.port, { method: req.method ?? 'GET', path: req.url ?? '/', headers: forwardableHeaders(req.headers), body }, aborted.signal))
        .then((r) => writeVirtualResponse(res, r))
        .catch(() => req.socket.destroy());
    });
    server.keepAliveTimeout = 5_000;
    const listenOn = (p: number): Promise<void> => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    try {
      await listenOn(nodePort ?? 0);
    } catch (err) {
      if (!nodePort) throw err;
      await listenOn(0);
    }
    return { server, servicePort: port.port, localPort: (server.address() as AddressInfo).port };
  }

  private close(l: Listener): Promise<void> {
    return new Promise((resolve) => {
      l.server.close(() => resolve());
      l.server.closeAllConnections();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.off();
    await this.settled();
    const all = [...this.listeners.values()].flat();
    this.listeners.clear();
    await Promise.all(all.map((l) => this.close(l)));
  }
}
