import { z } from 'zod';
import { buildExperimentSchema, showKindParamsPlainly } from './experiment-schema.js';
import type { SpecRegistries } from './registries.js';

/**
 * The experiment schema as JSON Schema (draft 2020-12) for editors. Generated from the zod
 * schema the loader uses, so the two cannot drift; `io: 'input'` describes what is written in
 * YAML (`30s`) rather than what it parses to (a Duration).
 */
export function experimentJsonSchema(registries: SpecRegistries): object {
  return z.toJSONSchema(buildExperimentSchema(registries), {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => showKindParamsPlainly(ctx as { zodSchema: unknown; jsonSchema: Record<string, unknown> }),
  });
}

/** The checked-in file's exact text: stable key order, two-space indent, final newline. */
export function experimentJsonSchemaText(registries: SpecRegistries): string {
  return `${JSON.stringify(experimentJsonSchema(registries), null, 2)}\n`;
}
