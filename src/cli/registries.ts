import { registerBuiltinFaults } from '../faults/builtin.js';
import { createFaultRegistry } from '../faults/registry.js';
import { registerBuiltinProbes } from '../probes/builtin.js';
import { createProbeRegistry } from '../probes/registry.js';
import type { SpecRegistries } from '../spec/registries.js';

/** Fresh registries holding every built-in fault and probe; plug-in modules add to them. */
export function builtinRegistries(): SpecRegistries {
  const registries: SpecRegistries = { faults: createFaultRegistry(), probes: createProbeRegistry() };
  registerBuiltinFaults(registries.faults);
  registerBuiltinProbes(registries.probes);
  return registries;
}
