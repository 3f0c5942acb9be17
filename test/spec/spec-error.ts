import { expect } from 'chai';
import { builtinRegistries } from '../../src/cli/registries.js';
import { SpecError } from '../../src/core/errors.js';
import { loadExperimentText } from '../../src/spec/load.js';

/** The message of the SpecError that loading `yaml` (as `drill.yaml`, with the built-in kinds) must throw. */
export function specError(yaml: string): string {
  try {
    loadExperimentText(yaml, 'drill.yaml', builtinRegistries());
  } catch (err) {
    expect(err).to.be.instanceOf(SpecError);
    return (err as Error).message;
  }
  expect.fail('expected a SpecError');
}
