import { Quantity } from '../../core/quantity.js';
import { quantitySchema } from '../../spec/value-schemas.js';
import { stressFault } from './stress-fault.js';

/**
 * Holds memory in pods' containers or on nodes, as a leak or a noisy neighbour would: a
 * container over its limit is OOMKilled; a node short of memory evicts pods in the kubelet's order.
 */
export const memoryStress = stressFault<Quantity>({
  kind: 'memoryStress',
  summary: "hold memory in pods' containers or on nodes (OOMKills over a limit, evictions under node pressure)",
  amountKey: 'memory',
  amountSchema: quantitySchema.describe('how much memory the stress holds: 512Mi, 2Gi'),
  describe: (q) => `${q} of memory`,
  load: (q) => ({ memoryBytes: q.bytes }),
  size: (q) => q.bytes,
  used: (usage) => Quantity.tryParse(usage.memory ?? '0')?.bytes ?? 0,
});
