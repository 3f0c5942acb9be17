import { z } from 'zod';
import type { Duration } from '../core/duration.js';
import type { Registry } from '../core/registry.js';
import type { CheckExpr } from '../slo/ast.js';
import { checkFunctionProblem } from '../slo/functions.js';
import { CheckSyntaxError, parseCheck } from '../slo/parse.js';
import type { SpecRegistries } from './registries.js';
import { labelsSchema } from './selector-schemas.js';
import { stepListSchema, type StepDocument } from './step-schema.js';
import { durationSchema, positiveDurationSchema, unlessMissing } from './value-schemas.js';

/** The experiment document as the schema outputs it, before normalization (src/spec/normalize.ts). */
export interface ExperimentDocument {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: 'Experiment';
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string>; readonly description?: string };
  readonly spec: {
    readonly workloads?: string[];
    readonly duration: Duration;
    readonly blastRadius?: { readonly maxNodes?: number; readonly maxPodPercent?: number; readonly allowZoneOutage?: boolean; readonly allowDeleteIn?: string[] };
    readonly steadyState?: { readonly checks?: CheckExpr[]; readonly recoverWithin?: Duration; readonly timeout?: Duration };
    readonly probes?: Record<string, KindedValue>;
    readonly faults?: FaultDocument[];
    readonly steps?: StepDocument[];
    readonly slos?: CheckExpr[];
    readonly abort?: CheckExpr[];
  };
}

/** A `{ <kind>: params }` entry once its one kind key has been found. */
export interface KindedValue {
  readonly kind: string;
  readonly params: unknown;
}

export interface FaultDocument extends KindedValue {
  readonly at: Duration;
  readonly for?: Duration;
  readonly name?: string;
}

export const API_VERSION = 'gameday/v1';

/** Keys a fault entry has besides its kind key; a fault kind may not take one of these names. */
export const FAULT_FIELDS = ['at', 'for', 'name'] as const;

/** Marks the issue for an entry without a kind key, so it can be dropped when an unknown key (a misspelt kind) explains it. */
export const MISSING_KIND = 'missing-kind';

/** A probe name is used inside checks (`availability(web)`), so it must read as one word there. */
const PROBE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const EXPERIMENT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks are parsed here, so their syntax errors come with the file's other schema errors. */
const checkSchema = z
  .string({ error: unlessMissing(() => 'a check is text, like "availability(web) >= 99.5%" or "pdb(shop/web) holds"') })
  .transform((text, ctx) => {
    let expr: CheckExpr;
    try {
      expr = parseCheck(text);
    } catch (err) {
      if (!(err instanceof CheckSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message, params: { offset: err.offset } });
      return z.NEVER;
    }
    const problem = checkFunctionProblem(expr);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    return expr;
  })
  .meta({ description: 'A check: fn(arg) (>= | > | <= | < | == | !=) threshold [over window], or fn(arg) holds. Like availability(web) >= 99.5%, p99(web) < 300ms, pdb(shop/web) holds.' });

const checkList = (description: string) => z.array(checkSchema).meta({ description });

/**
 * The strict schema of an experiment file, built from the registered fault and probe kinds.
 * It is also the source of the JSON Schema editors use (src/spec/json-schema.ts).
 */
export function buildExperimentSchema(registries: SpecRegistries): z.ZodType<ExperimentDocument> {
  const metadata = z
    .strictObject({
      name: z
        .string({ error: unlessMissing(() => 'a name is text, like drain-a-worker-keeps-web-up') })
        .max(63, { error: 'a name is at most 63 characters' })
        .regex(EXPERIMENT_NAME, { error: (iss) => `"${String(iss.input)}" is not a valid name: use lowercase letters, digits and "-", starting and ending with a letter or digit, like drain-a-worker` })
        .meta({ description: 'The experiment\'s name: lowercase letters, digits and "-".' }),
      labels: labelsSchema.optional().meta({ description: 'Labels to group experiments, like suite: nightly.' }),
      description: z.string().optional().meta({ description: 'What the experiment shows, in a sentence or two.' }),
    })
    .meta({ description: 'Name and labels of the experiment.' });

  const probes = z
    .record(
      z.string().regex(PROBE_NAME, { error: (iss) => `"${String(iss.input)}" cannot name a probe: use letters, digits, "_" and "-", starting with a letter` }),
      kindedSchema(registries.probes, {}),
    )
    .meta({ description: 'Probes by name; each is { <probe kind>: parameters }.' });

  const fault = kindedSchema(registries.faults, {
    at: durationSchema.meta({ description: 'When the fault is injected, from the start of the run.' }),
    for: positiveDurationSchema.optional().meta({ description: 'How long the fault is held before it is reverted. Default: until the end of the run.' }),
    name: z.string().min(1).optional().meta({ description: 'A name for reports. Default: <kind>#<index>.' }),
  });

  const spec = z
    .strictObject({
      workloads: z.array(z.string().min(1).regex(/^[^\0]*$/, { error: 'a file path cannot contain a NUL character' })).optional().meta({ description: 'Manifest files applied before the run and removed after, relative to this file.' }),
      duration: positiveDurationSchema.meta({ description: 'How long the run lasts, from the first probe sample to the end of the faults.' }),
      blastRadius: z
        .strictObject({
          maxNodes: z.int().min(0).optional().meta({ description: 'Most distinct nodes all faults together may touch. Default: 1.' }),
          maxPodPercent: z.number().min(0).max(100).optional().meta({ description: 'Most pods of one workload all faults together may touch, in percent (0-100). Default: 50.' }),
          allowZoneOutage: z
            .boolean()
            .optional()
            .meta({ description: 'Lets a zoneOutage take every node of a zone out together; those nodes then do not count against maxNodes. Default: false.' }),
          allowDeleteIn: z.array(z.string().min(1)).optional().meta({ description: 'Namespaces delete steps may delete in (or, for kind Namespace, delete). Default: none.' }),
        })
        .optional()
        .meta({ description: 'Limits the plan enforces on what the faults touch.' }),
      steadyState: z
        .strictObject({
          checks: checkList('Checks that must hold before the first fault and again after the faults.').optional(),
          recoverWithin: positiveDurationSchema.optional().meta({ description: 'How long the steady state may take to return after the faults. Default: 60s.' }),
          timeout: positiveDurationSchema.optional().meta({ description: 'How long to wait for the steady state before the faults. Default: 60s.' }),
        })
        .optional()
        .meta({ description: 'The state the system must be in before and after the faults.' }),
      probes: probes.optional(),
      faults: z.array(fault).optional().meta({ description: 'Faults in time order; each is { at, for?, name?, <fault kind>: parameters }.' }),
      steps: stepListSchema(checkSchema).optional(),
      slos: checkList('Checks evaluated over the whole run.').optional(),
      abort: checkList('Checks that stop the run early (reverting every fault) when they become true.').optional(),
    })
    .meta({ description: 'What the experiment does and what must hold.' });

  return z
    .strictObject({
      apiVersion: z.literal(API_VERSION, { error: unlessMissing(() => `apiVersion must be "${API_VERSION}"`) }),
      kind: z.literal('Experiment', { error: unlessMissing(() => 'kind must be "Experiment"') }),
      metadata,
      spec,
    })
    .meta({ title: 'gameday experiment', description: 'A gameday resilience experiment: faults to inject and the checks that must hold.' });
}

/**
 * `{ <kind>: params }` plus fixed fields (a fault's `at`, `for`, `name`): every registered kind is an
 * optional key, and exactly one must be present. The JSON Schema says the same with `oneOf`.
 */
function kindedSchema<Fixed extends z.ZodRawShape>(registry: Registry<{ readonly kind: string; readonly summary: string; readonly params: z.ZodType }>, fixed: Fixed) {
  const kinds = registry.kinds();
  const clash = kinds.find((k) => k in fixed);
  if (clash) throw new Error(`${registry.noun} kind "${clash}" has the name of a field every ${registry.noun} has`);
  const kindShape: Record<string, z.ZodType> = {};
  for (const plugin of registry.all()) kindShape[plugin.kind] = kindParams(plugin.params, plugin.summary);
  const oneKind = kinds.length > 0 ? { oneOf: kinds.map((k) => ({ required: [k] })) } : {};
  return z
    .strictObject({ ...fixed, ...kindShape })
    .superRefine((value, ctx) => {
      const present = kinds.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
      if (present.length === 0) {
        ctx.addIssue({
          code: 'custom',
          params: { reason: MISSING_KIND },
          message: kinds.length > 0 ? `needs a ${registry.noun} kind: one of ${kinds.join(', ')}` : `needs a ${registry.noun} kind, but no ${registry.noun} kinds are registered`,
        });
      } else if (present.length > 1) {
        ctx.addIssue({ code: 'custom', message: `has ${present.map((k) => `"${k}"`).join(' and ')}, but takes exactly one ${registry.noun} kind; split it into one ${registry.noun} each` });
      }
    })
    .transform((value) => {
      const record = value as Record<string, unknown>;
      const kind = kinds.find((k) => record[k] !== undefined)!;
      const out: Record<string, unknown> = { kind, params: record[kind] };
      for (const field of Object.keys(fixed)) if (record[field] !== undefined) out[field] = record[field];
      return out as unknown as KindedValue & z.output<z.ZodObject<Fixed>>;
    })
    .meta({ ...oneKind });
}

const ABSENT_STAYS_ABSENT = new WeakSet<z.ZodType>();

/**
 * A kind key's schema, optional. Parameters that accept a missing value (`.default({})`) would
 * otherwise fill in every absent kind key and make each entry look like it has all of them; for
 * those a missing value is matched first and stays missing.
 */
function kindParams(params: z.ZodType, description: string): z.ZodType {
  if (!params.safeParse(undefined).success) return params.optional().meta({ description });
  const wrapped = z.union([z.undefined(), params]).meta({ description });
  ABSENT_STAYS_ABSENT.add(wrapped);
  return wrapped;
}

/** For z.toJSONSchema: shows such a kind key as its parameters alone, since JSON has no `undefined`. */
export function showKindParamsPlainly(ctx: { readonly zodSchema: unknown; readonly jsonSchema: Record<string, unknown> }): void {
  if (!ABSENT_STAYS_ABSENT.has(ctx.zodSchema as z.ZodType)) return;
  const [, params] = ctx.jsonSchema.anyOf as [unknown, Record<string, unknown>];
  delete ctx.jsonSchema.anyOf;
  Object.assign(ctx.jsonSchema, params);
}
