import type { Registry } from '../core/registry.js';
import { httpProbe } from './http.js';
import type { ProbePlugin } from './probe.js';

/** Every probe kind gameday ships, under its YAML key. */
export function registerBuiltinProbes(registry: Registry<ProbePlugin>): void {
  registry.register(httpProbe as ProbePlugin);
}
