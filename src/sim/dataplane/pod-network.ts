import type { Informer, Informers } from '../informer.js';
import type { StoredObject } from '../store.js';
import type { DataPlane } from './data-plane.js';
import type { ServiceRouter } from './service-router.js';
import { ConnectionError, type VirtualRequest, type VirtualResponse } from './traffic.js';

/** A name the cluster DNS answered: the address and the fully qualified name it found. */
export interface ResolvedName {
  readonly address: string;
  readonly name: string;
}

/** What a pod's processes (wget, curl, nslookup, nc) reach the network through. */
export interface PodNetwork {
  /** The DNS server in the pod's resolv.conf. */
  readonly nameserver: string;
  /** The pod's namespace: the first search domain. */
  readonly namespace: string;
  /** An IP as itself; a Service's names (`web`, `web.ns`, `web.ns.svc.cluster.local`) as its cluster IP; undefined when nothing has the name. */
  resolve(host: string): ResolvedName | undefined;
  /** One HTTP exchange from the pod; a refused, unreachable or dropped connection rejects with a ConnectionError. */
  request(address: string, port: number, request: VirtualRequest, signal: AbortSignal): Promise<VirtualResponse>;
  /** Only opens the connection. */
  connect(address: string, port: number, signal: AbortSignal): Promise<void>;
}

const CLUSTER_DOMAIN = 'cluster.local';
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

interface ServiceSpec {
  clusterIP?: string;
  ports?: { name?: string; port: number }[];
}

/**
 * A pod's view of the cluster network, as CoreDNS and kube-proxy give it: Service and pod names
 * resolve, a cluster IP forwards to one ready endpoint (refused when there is none), and the
 * data plane carries the connection from the pod's own IP, so NetworkPolicy and partitions apply.
 */
export class ClusterPodNetwork implements PodNetwork {
  readonly nameserver = '10.96.0.10';
  private readonly services: Informer;
  private readonly pods: Informer;
  readonly namespace: string;

  constructor(
    informers: Informers,
    private readonly router: ServiceRouter,
    private readonly dataPlane: DataPlane,
    private readonly pod: { readonly ip: string; readonly namespace: string },
  ) {
    this.services = informers.for('services').addIndex('clusterIP', (s) => {
      const ip = (s.spec as ServiceSpec | undefined)?.clusterIP;
      return ip && ip !== 'None' ? [ip] : [];
    });
    this.pods = informers.for('pods');
    this.namespace = pod.namespace;
  }

  resolve(host: string): ResolvedName | undefined {
    const name = host.replace(/\.$/, '').toLowerCase();
    if (IPV4.test(name)) return { address: name, name };
    if (name === 'localhost') return { address: '127.0.0.1', name };
    const labels = name.split('.');
    const fqdn = labels.slice(-3).join('.') === `svc.${CLUSTER_DOMAIN}` ? labels.slice(0, -3) : labels.at(-1) === 'svc' ? labels.slice(0, -1) : labels;
    // Search domains: <ns>.svc.cluster.local first, then svc.cluster.local.
    const [first, second, third] = fqdn;
    if (fqdn.length === 1) return this.service(this.pod.namespace, first!);
    if (fqdn.length === 2) return this.service(second!, first!);
    if (fqdn.length === 3) return this.podOfService(third!, second!, first!);
    return undefined;
  }

  private service(namespace: string, name: string): ResolvedName | undefined {
    const svc = this.services.get(namespace, name);
    if (!svc) return undefined;
    const fqdn = `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
    const ip = (svc.spec as ServiceSpec | undefined)?.clusterIP;
    if (ip && ip !== 'None') return { address: ip, name: fqdn };
    // A headless Service answers with its ready endpoints.
    const ports = (svc.spec as ServiceSpec | undefined)?.ports ?? [];
    const backend = ports.map((p) => this.router.readyBackends(namespace, name, p.name ?? '')[0]).find((b) => b);
    return backend ? { address: backend.ip, name: fqdn } : undefined;
  }

  /** `<hostname>.<subdomain>.<ns>`: a StatefulSet pod's stable name. */
  private podOfService(namespace: string, subdomain: string, hostname: string): ResolvedName | undefined {
    for (const p of this.pods.list()) {
      const spec = p.spec as { hostname?: string; subdomain?: string } | undefined;
      const ip = (p.status as { podIP?: string } | undefined)?.podIP;
      if (p.metadata.namespace === namespace && spec?.hostname === hostname && spec.subdomain === subdomain && ip) {
        return { address: ip, name: `${hostname}.${subdomain}.${namespace}.svc.${CLUSTER_DOMAIN}` };
      }
    }
    return undefined;
  }

  /** Where a connection to address:port lands: through kube-proxy for a cluster IP. */
  private async target(address: string, port: number): Promise<{ ip: string; port: number }> {
    if (address === '127.0.0.1') return { ip: this.pod.ip, port };
    const [svc] = this.services.byIndex('clusterIP', address);
    if (!svc) return { ip: address, port };
    const servicePort = (svc.spec as ServiceSpec).ports?.find((p) => p.port === port);
    const backend = servicePort && this.router.pick(svc.metadata.namespace!, svc.metadata.name, servicePort.name ?? '');
    if (!backend) throw new ConnectionError('ECONNREFUSED', `dial tcp ${address}:${port}: connect: connection refused`);
    return backend;
  }

  async request(address: string, port: number, request: VirtualRequest, signal: AbortSignal): Promise<VirtualResponse> {
    const t = await this.target(address, port);
    return this.dataPlane.send({ kind: 'pod', ip: this.pod.ip }, t.ip, t.port, request, signal);
  }

  async connect(address: string, port: number, signal: AbortSignal): Promise<void> {
    const t = await this.target(address, port);
    await this.dataPlane.dial({ kind: 'pod', ip: this.pod.ip }, t.ip, t.port, signal);
  }
}

/** Whether a pod runs in its node's network namespace: its IP is then the node's, not one of the pod network's. */
export function usesHostNetwork(pod: StoredObject): boolean {
  return (pod.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true;
}
