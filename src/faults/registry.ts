import { Registry } from '../core/registry.js';
import type { FaultPlugin } from './fault.js';

/** A registry of fault kinds, keyed by their YAML key. Built-ins are added by src/faults/builtin.ts. */
export function createFaultRegistry(): Registry<FaultPlugin> {
  return new Registry<FaultPlugin>('fault');
}
