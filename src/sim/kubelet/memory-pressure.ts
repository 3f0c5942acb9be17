import type { ContainerResources } from './pod-worker.js';

/** The kubelet's default hard eviction threshold for memory: `memory.available<100Mi`. */
export const MEMORY_AVAILABLE_THRESHOLD_BYTES = 100 * 2 ** 20;

/** A pod the eviction manager may choose under memory pressure. */
export interface MemoryEvictionCandidate {
  readonly priority: number;
  readonly containers: readonly ContainerResources[];
}

const podUsage = (p: MemoryEvictionCandidate): number => p.containers.reduce((sum, c) => sum + c.memoryBytes, 0);
const podRequest = (p: MemoryEvictionCandidate): number => p.containers.reduce((sum, c) => sum + c.memoryRequestBytes, 0);

/**
 * Upstream's rankMemoryPressure (pkg/kubelet/eviction/helpers.go): pods whose usage exceeds their
 * requests first, then lower priority first, then the most usage above requests first. QoS is
 * not a key: a BestEffort pod (no requests) using anything exceeds them, and a Guaranteed pod
 * can only exceed them by going over its limit, where the OOM killer gets it first.
 */
export function rankMemoryPressure<T extends MemoryEvictionCandidate>(pods: readonly T[]): T[] {
  const exceeds = (p: T): number => (podUsage(p) > podRequest(p) ? 0 : 1);
  return [...pods].sort((a, b) => exceeds(a) - exceeds(b) || a.priority - b.priority || podUsage(b) - podRequest(b) - (podUsage(a) - podRequest(a)));
}

/**
 * resource.Quantity's canonical binary-SI text for a byte count, as Quantity.String() prints
 * `resource.NewQuantity(n, resource.BinarySI)`: the largest of Ki, Mi, Gi, Ti that divides it
 * exactly, else plain bytes.
 */
export function binaryQuantity(bytes: number): string {
  const n = Math.round(bytes);
  if (n === 0) return '0';
  for (const [suffix, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) if (n % size === 0) return `${n / size}${suffix}`;
  return String(n);
}

/**
 * The eviction message upstream's evictionMessage writes for memory: the node line, the
 * threshold met, and each container using more than its request.
 */
export function memoryEvictionMessage(pod: MemoryEvictionCandidate, availableBytes: number): string {
  let message = `The node was low on resource: memory. Threshold quantity: ${binaryQuantity(MEMORY_AVAILABLE_THRESHOLD_BYTES)}, available: ${binaryQuantity(Math.max(0, availableBytes))}. `;
  for (const c of pod.containers) {
    if (c.memoryBytes > c.memoryRequestBytes) message += `Container ${c.name} was using ${binaryQuantity(c.memoryBytes)}, request is ${binaryQuantity(c.memoryRequestBytes)}, has larger consumption of memory. `;
  }
  return message;
}

/** CFS's default period: a throttled container waits out the rest of it. */
const CFS_PERIOD_MS = 100;

/**
 * What CPU throttling adds to a request: a container that wants `demand` millicores but may have
 * `allowed` runs for allowed/demand of each CFS period and waits out the rest.
 */
export function throttleDelayMs(demandMillicores: number, allowedMillicores: number): number {
  if (demandMillicores <= allowedMillicores || demandMillicores <= 0) return 0;
  return Math.round(CFS_PERIOD_MS * (1 - allowedMillicores / demandMillicores));
}
