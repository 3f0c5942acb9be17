import type { Informer, Informers } from '../informer.js';
import type { SimTimings } from '../timings.js';

interface SliceView {
  ports?: { name?: string; port?: number }[];
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
}

export interface Backend {
  readonly ip: string;
  readonly port: number;
}

/**
 * kube-proxy: the ready endpoints of each Service port, taken from its EndpointSlices a
 * propagation delay after they change, handed out round-robin.
 */
export class ServiceRouter {
  private readonly table = new Map<string, Map<string, Backend[]>>();
  private readonly cursor = new Map<string, number>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly slices: Informer;
  private readonly off: () => void;

  constructor(informers: Informers, private readonly timings: SimTimings) {
    this.slices = informers.for('endpointslices.discovery.k8s.io').addIndex('service', (s) => {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      return svc ? [`${s.metadata.namespace}/${svc}`] : [];
    });
    this.off = this.slices.onChange((_t, slice, old) => {
      for (const s of [slice, old]) {
        const svc = s?.metadata.labels?.['kubernetes.io/service-name'];
        if (svc) this.schedule(`${s!.metadata.namespace}/${svc}`);
      }
    });
    for (const s of this.slices.list()) {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      if (svc) this.refresh(`${s.metadata.namespace}/${svc}`);
    }
  }

  private schedule(serviceKey: string): void {
    if (this.pending.has(serviceKey)) return;
    const t = setTimeout(() => {
      this.pending.delete(serviceKey);
      this.refresh(serviceKey);
    }, this.timings.endpointPropagationMs);
    t.unref();
    this.pending.set(serviceKey, t);
  }

  private refresh(serviceKey: string): void {
    const ports = new Map<string, Backend[]>();
    for (const slice of this.slices.byIndex('service', serviceKey)) {
      const view = slice as unknown as SliceView;
      for (const p of view.ports ?? []) {
        if (p.port === undefined) continue;
        const list = ports.get(p.name ?? '') ?? [];
        for (const e of view.endpoints ?? []) if (e.conditions?.ready) for (const ip of e.addresses) list.push({ ip, port: p.port });
        ports.set(p.name ?? '', list);
      }
    }
    if (ports.size) this.table.set(serviceKey, ports);
    else this.table.delete(serviceKey);
  }

  /** The next ready backend of a Service port (by the port's name, '' when unnamed). */
  pick(namespace: string, service: string, portName: string): Backend | undefined {
    const key = `${namespace}/${service}`;
    const list = this.table.get(key)?.get(portName);
    if (!list?.length) return undefined;
    const cursorKey = `${key}:${portName}`;
    const i = (this.cursor.get(cursorKey) ?? 0) % list.length;
    this.cursor.set(cursorKey, i + 1);
    return list[i];
  }

  readyBackends(namespace: string, service: string, portName: string): readonly Backend[] {
    return this.table.get(`${namespace}/${service}`)?.get(portName) ?? [];
  }

  stop(): void {
    this.off();
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }
}
