import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SpecError } from '../../src/core/errors.js';
import { SeededRandom } from '../../src/core/rng.js';
import { loadExperimentText } from '../../src/spec/load.js';
import { mutateExperiment } from './mutations.js';
import { testRegistries } from './test-registries.js';

const FILE = join(resolve(import.meta.dirname, '../fixtures/spec'), 'valid.yaml');
const VALID = readFileSync(FILE, 'utf8');
const RUNS = 1500;

describe('loading mutated experiments (fuzz)', () => {
  it(`either loads or throws a SpecError with located issues, for ${RUNS} seeded mutations`, () => {
    const registries = testRegistries();
    const rng = new SeededRandom(20_240_601);
    const outcomes = { loaded: 0, rejected: 0 };
    for (let run = 0; run < RUNS; run++) {
      const { text, applied } = mutateExperiment(VALID, rng);
      const context = `run ${run} (${applied.join(', ')}):\n${text}`;
      try {
        const spec = loadExperimentText(text, FILE, registries);
        expect(spec.name, context).to.be.a('string');
        outcomes.loaded++;
      } catch (err) {
        if (!(err instanceof SpecError)) throw new Error(`${context}\n\nthrew ${err instanceof Error ? err.stack : String(err)}`);
        expect(err.issues, context).to.have.length.greaterThan(0);
        for (const issue of err.issues) {
          expect(issue.file, context).to.equal(FILE);
          expect(issue.line, context).to.be.a('number').and.at.least(1);
          expect(issue.column, context).to.be.a('number').and.at.least(1);
          expect(issue.message, context).to.be.a('string').and.not.equal('');
        }
        outcomes.rejected++;
      }
    }
    // Both sides must be exercised, or the mutations are too gentle or too harsh to test anything.
    expect(outcomes.loaded, 'mutations that still load').to.be.greaterThan(RUNS / 20);
    expect(outcomes.rejected, 'mutations that are rejected').to.be.greaterThan(RUNS / 2);
  });
});
