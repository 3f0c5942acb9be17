import type { Registry } from '../core/registry.js';
import type { FaultPlugin } from '../faults/fault.js';
import type { ProbePlugin } from '../probes/probe.js';

/**
 * The fault and probe kinds an experiment may use. Passed in rather than imported, so the schema
 * follows whatever the CLI (or a test, or a `--plugin`) registered.
 */
export interface SpecRegistries {
  readonly faults: Registry<FaultPlugin>;
  readonly probes: Registry<ProbePlugin>;
}
