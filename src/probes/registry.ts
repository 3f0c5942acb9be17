import { Registry } from '../core/registry.js';
import type { ProbePlugin } from './probe.js';

/** A registry of probe kinds, keyed by their YAML key. Built-ins are added by src/probes/builtin.ts. */
export function createProbeRegistry(): Registry<ProbePlugin> {
  return new Registry<ProbePlugin>('probe');
}
