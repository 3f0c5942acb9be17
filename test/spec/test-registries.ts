import { z } from 'zod';
import { Registry } from '../../src/core/registry.js';
import type { FaultPlugin } from '../../src/faults/fault.js';
import type { ProbePlugin } from '../../src/probes/probe.js';
import type { SpecRegistries } from '../../src/spec/registries.js';
import { nodeSelectorSchema, podSelectorSchema } from '../../src/spec/selector-schemas.js';
import { durationSchema, quantityOrPercentSchema, rateSchema } from '../../src/spec/value-schemas.js';

/** Stand-in plug-ins: the loader is tested against these, never against the real fault and probe kinds. */
const unused = (): never => {
  throw new Error('the spec tests never run a plug-in');
};

function fault(kind: string, params: z.ZodType): FaultPlugin {
  return { kind, summary: `${kind} for tests`, params, plan: unused, inject: unused, verify: unused, revert: unused };
}

function probe(kind: string, params: z.ZodType): ProbePlugin {
  return { kind, summary: `${kind} for tests`, params, start: unused };
}

export function testRegistries(options: { withPdbProbe?: boolean } = {}): SpecRegistries {
  const faults = new Registry<FaultPlugin>('fault');
  faults.register(fault('testFault', z.strictObject({ nodes: nodeSelectorSchema, count: z.int().min(1), timeout: durationSchema.optional() })));
  faults.register(fault('fillFault', z.strictObject({ pods: podSelectorSchema, path: z.string(), fill: quantityOrPercentSchema })));
  const probes = new Registry<ProbePlugin>('probe');
  probes.register(probe('testProbe', z.strictObject({ service: z.string(), path: z.string().optional(), rate: rateSchema.optional(), timeout: durationSchema.optional() })));
  if (options.withPdbProbe ?? true) probes.register(probe('pdb', z.strictObject({ target: z.string() })));
  return { faults, probes };
}
