import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { builtinRegistries } from '../../src/cli/registries.js';
import { experimentJsonSchema, experimentJsonSchemaText } from '../../src/spec/json-schema.js';
import { collectExperimentFiles, loadExperimentText } from '../../src/spec/load.js';
import { testRegistries } from './test-registries.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCHEMA_FILE = join(ROOT, 'experiments/experiment.schema.json');
const VALID = parse(readFileSync(join(ROOT, 'test/fixtures/spec/valid.yaml'), 'utf8')) as Record<string, unknown>;

/** A copy of the valid fixture with one change made to it. */
function variant(change: (doc: { spec: Record<string, unknown> & { faults: Array<Record<string, unknown>> } }) => void): unknown {
  const doc = structuredClone(VALID) as { spec: Record<string, unknown> & { faults: Array<Record<string, unknown>> } };
  change(doc);
  return doc;
}

describe('experiment JSON Schema', () => {
  it('experiments/experiment.schema.json matches the schema the built-in kinds generate', () => {
    const expected = experimentJsonSchemaText(builtinRegistries());
    const actual = readFileSync(SCHEMA_FILE, 'utf8');
    if (actual !== expected) expect.fail('experiments/experiment.schema.json is stale: run `npm run schema` and commit the result');
  });

  it('every experiment in experiments/ passes the checked-in schema and the loader', async () => {
    // zod writes `format: starts_with` next to the `pattern` that does the checking; editors ignore the format.
    const ajv = new Ajv2020({ strict: false, formats: { starts_with: true } });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
    // As gameday finds them: the workloads' manifests and the kustomization that mounts them are no experiments.
    for (const file of await collectExperimentFiles([join(ROOT, 'experiments')])) {
      const name = relative(ROOT, file);
      const text = readFileSync(file, 'utf8');
      expect(validate(parse(text)), `${name}: ${JSON.stringify(validate.errors)}`).to.equal(true);
      expect(() => loadExperimentText(text, file, builtinRegistries()), name).to.not.throw();
    }
  });

  describe('built from the registered kinds', () => {
    const schema = experimentJsonSchema(testRegistries());
    const validate = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);

    it('is draft 2020-12 and describes the input side of transforms', () => {
      expect(schema).to.include({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: 'gameday experiment' });
      const spec = (schema as { properties: { spec: { properties: { duration: object } } } }).properties.spec;
      expect(spec.properties.duration).to.include({ type: 'string' });
    });

    it('accepts the valid fixture', () => {
      expect(validate(VALID), JSON.stringify(validate.errors)).to.equal(true);
    });

    const rejected: Array<[string, unknown]> = [
      ['a misspelt key', variant((d) => (d.spec.faluts = []))],
      ['a missing duration', variant((d) => delete d.spec.duration)],
      ['a duration without a unit', variant((d) => (d.spec.duration = '3'))],
      ['an unknown fault kind', variant((d) => (d.spec.faults[0] = { at: '1s', nodeDrian: {} }))],
      ['a fault without a kind', variant((d) => (d.spec.faults[0] = { at: '1s' }))],
      ['a fault with two kinds', variant((d) => (d.spec.faults[0] = { ...d.spec.faults[0], ...d.spec.faults[1], at: '1s' }))],
      ['an unknown plug-in parameter', variant((d) => ((d.spec.faults[0]!.testFault as Record<string, unknown>).cuont = 1))],
    ];
    for (const [what, doc] of rejected) {
      it(`rejects ${what}`, () => {
        expect(validate(doc)).to.equal(false);
      });
    }
  });
});
