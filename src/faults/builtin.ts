import type { Registry } from '../core/registry.js';
import type { FaultPlugin } from './fault.js';
import { podKill } from './pod-kill.js';

/** Every fault kind gameday ships, under its YAML key. */
export function registerBuiltinFaults(registry: Registry<FaultPlugin>): void {
  registry.register(podKill as FaultPlugin);
}
