import type { Informer, Informers } from '../informer.js';
import { selectorMatches, type LabelSelector } from '../label-selector.js';
import { byNamespace, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';

interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface PolicyRule {
  ports?: PolicyPort[];
  from?: PolicyPeer[];
  to?: PolicyPeer[];
}

interface PolicySpec {
  podSelector?: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

/** One end of a connection, as policy sees it. Host traffic has an IP and no pod. */
export interface Endpoint {
  readonly ip: string;
  readonly pod?: StoredObject;
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const a = ipToInt(ip);
  const b = ipToInt(base ?? '');
  if (a === undefined || b === undefined) return false;
  const bits = Number(bitsText ?? 32);
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

function policyTypes(spec: PolicySpec): Set<string> {
  if (spec.policyTypes?.length) return new Set(spec.policyTypes);
  return new Set(spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

/**
 * networking.k8s.io/v1 NetworkPolicy, enforced on the in-process data plane: a pod selected by
 * any policy of a type is isolated for that direction, and then only traffic some rule allows gets
 * through. Host-originated traffic (kubelet probes, the API server's service proxy, the local
 * Service ports) carries the node's IP and no pod, so only rules without peers or with an ipBlock
 * covering that IP admit it once a pod is isolated for ingress — the behaviour of CNIs that do not
 * special-case host traffic (kubelet probes are exempt, as with every CNI).
 */
export class NetworkPolicyEngine {
  private readonly policies: Informer;
  private readonly namespaces: Informer;

  constructor(informers: Informers) {
    this.policies = informers.for('networkpolicies.networking.k8s.io').addIndex(INDEX.namespace, byNamespace);
    this.namespaces = informers.for('namespaces');
  }

  allows(source: Endpoint, target: Endpoint & { readonly pod: StoredObject }, port: number, namedPorts: ReadonlyMap<string, number>): boolean {
    if (!this.directionAllows('Ingress', target.pod, source, port, namedPorts)) return false;
    if (source.pod && !this.directionAllows('Egress', source.pod, target, port, namedPorts)) return false;
    return true;
  }

  private directionAllows(direction: 'Ingress' | 'Egress', subject: StoredObject, peer: Endpoint, port: number, namedPorts: ReadonlyMap<string, number>): boolean {
    let isolated = false;
    for (const policy of this.policies.byIndex(INDEX.namespace, subject.metadata.namespace!)) {
      const spec = policy.spec as PolicySpec;
      if (!policyTypes(spec).has(direction) || !selectorMatches(spec.podSelector ?? {}, subject.metadata.labels)) continue;
      isolated = true;
      const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
      for (const rule of rules) {
        const peers = direction === 'Ingress' ? rule.from : rule.to;
        if (this.portMatches(rule.ports, port, namedPorts) && (!peers?.length || peers.some((p) => this.peerMatches(p, peer, policy.metadata.namespace!)))) return true;
      }
    }
    return !isolated;
  }

  private portMatches(ports: PolicyPort[] | undefined, port: number, named: ReadonlyMap<string, number>): boolean {
    if (!ports?.length) return true;
    return ports.some((p) => {
      if ((p.protocol ?? 'TCP') !== 'TCP') return false;
      if (p.port === undefined) return true;
      const n = typeof p.port === 'number' ? p.port : /^\d+$/.test(p.port) ? Number(p.port) : named.get(p.port);
      if (n === undefined) return false;
      return p.endPort ? port >= n && port <= p.endPort : port === n;
    });
  }

  private peerMatches(peer: PolicyPeer, other: Endpoint, policyNamespace: string): boolean {
    if (peer.ipBlock) {
      return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
    }
    const pod = other.pod;
    if (!pod) return false;
    const ns = pod.metadata.namespace!;
    if (peer.namespaceSelector) {
      const nsObj = this.namespaces.get(undefined, ns);
      const labels = { ...(nsObj?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns };
      if (!selectorMatches(peer.namespaceSelector, labels)) return false;
    } else if (ns !== policyNamespace) {
      return false;
    }
    return peer.podSelector ? selectorMatches(peer.podSelector, pod.metadata.labels) : true;
  }
}
