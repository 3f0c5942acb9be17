import type { LocateOptions } from './yaml-source.js';

/** A problem found after the schema passed, before it is located in the file. */
export interface SpecProblem extends LocateOptions {
  /** Dotted path, e.g. `spec.faults[1].for`. */
  readonly path: string;
  readonly message: string;
}
