import type { Registry } from '../core/registry.js';
import { containerKill } from './container-kill.js';
import { diskFill } from './disk-fill/fault.js';
import type { FaultPlugin } from './fault.js';
import { networkLatency } from './network-latency.js';
import { networkPartition } from './network-partition/fault.js';
import { nodeCordon } from './node-cordon.js';
import { nodeDrain } from './node-drain.js';
import { nodeStop } from './node-stop.js';
import { nodeTaint } from './node-taint.js';
import { packetLoss } from './packet-loss.js';
import { podKill } from './pod-kill.js';
import { cpuStress } from './stress/cpu-stress.js';
import { memoryStress } from './stress/memory-stress.js';
import { zoneOutage } from './zone-outage.js';

/** Every fault kind gameday ships, under its YAML key. */
export function registerBuiltinFaults(registry: Registry<FaultPlugin>): void {
  registry.register(podKill as FaultPlugin);
  registry.register(nodeDrain as FaultPlugin);
  registry.register(nodeCordon as FaultPlugin);
  registry.register(nodeTaint as FaultPlugin);
  registry.register(networkPartition as FaultPlugin);
  registry.register(networkLatency as FaultPlugin);
  registry.register(packetLoss as FaultPlugin);
  registry.register(diskFill as FaultPlugin);
  registry.register(nodeStop as FaultPlugin);
  registry.register(containerKill as FaultPlugin);
  registry.register(memoryStress as FaultPlugin);
  registry.register(cpuStress as FaultPlugin);
  registry.register(zoneOutage as FaultPlugin);
}
