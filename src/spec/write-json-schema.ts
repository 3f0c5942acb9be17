import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { builtinRegistries } from '../cli/registries.js';
import { experimentJsonSchemaText } from './json-schema.js';

/**
 * `npm run schema`: regenerates experiments/experiment.schema.json from the fault and probe kinds
 * the CLI registers. test/spec/json-schema.test.ts fails when the checked-in file is stale.
 */
const target = fileURLToPath(new URL('../../experiments/experiment.schema.json', import.meta.url));
writeFileSync(target, experimentJsonSchemaText(builtinRegistries()));
console.log(`wrote ${target}`);
