import type { NodeRegistration } from './kubelet.js';

export interface ClusterShape {
  /** Nodes are named like kind's: `<name>-control-plane`, `<name>-worker`, `<name>-worker2`… */
  readonly name: string;
  readonly workers: number;
  /** Worker i gets `topology.kubernetes.io/zone=zones[i % n]`. */
  readonly zones: readonly string[];
}

/** A kind node's address on kind's docker network: the control plane is 172.18.0.2. */
export function nodeIp(index: number): string {
  const n = index + 2;
  return `172.18.${Math.floor(n / 256)}.${n % 256}`;
}

function podNetwork(index: number): string {
  return `10.${244 + Math.floor(index / 256)}.${index % 256}`;
}

/** The nodes of a kind cluster of this shape, the control plane first; the same on both backends. */
export function kindNodeRegistrations(shape: ClusterShape): NodeRegistration[] {
  const registrations: NodeRegistration[] = [];
  for (let i = 0; i <= shape.workers; i++) {
    const controlPlane = i === 0;
    registrations.push({
      name: controlPlane ? `${shape.name}-control-plane` : `${shape.name}-worker${i === 1 ? '' : i}`,
      clusterName: shape.name,
      controlPlane,
      zone: controlPlane ? undefined : shape.zones[(i - 1) % shape.zones.length],
      internalIP: nodeIp(i),
      podNetwork: podNetwork(i),
      cpu: '8',
      memory: `${16 * 1024 * 1024}Ki`,
      filesystemBytes: 100 * 1024 ** 3,
    });
  }
  return registrations;
}
