import { z } from 'zod';
import { Duration } from '../core/duration.js';
import { Percent, Quantity } from '../core/quantity.js';

/**
 * Schemas for the values experiments write as text — durations, sizes, percentages, rates — shared
 * by the experiment schema and by fault and probe plug-ins, so every plug-in reads `30s` the same
 * way and every bad value is answered with how to write it. Each parses to a value object.
 */

const DURATION_TEXT = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const QUANTITY_TEXT = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/;
const PERCENT_TEXT = /^\d+(\.\d+)?\s*%$/;
const RATE_TEXT = /^(\d+(\.\d+)?)\s*\/\s*(s|m)$/;

/**
 * A schema's own message for a wrong value; a missing key (input undefined) falls through to the
 * loader's "missing; this key is required".
 */
export function unlessMissing(message: (input: unknown) => string): (iss: { readonly input?: unknown }) => string | undefined {
  return (iss) => (iss.input === undefined ? undefined : message(iss.input));
}

const shown = (input: unknown): string => (typeof input === 'string' ? `"${input}"` : JSON.stringify(input) ?? String(input));

/** `500ms`, `30s`, `2m`, `1h`, `1m30s` → Duration. A bare number is refused: its unit would be a guess. */
export const durationSchema = z
  .string({
    error: unlessMissing((input) =>
      typeof input === 'number' ? `a duration needs a unit: write ${input}s or ${input}ms, not ${input}` : `expected a duration like 500ms, 30s, 2m or 1m30s, got ${shown(input)}`,
    ),
  })
  .regex(DURATION_TEXT, { error: (iss) => `${shown(iss.input)} is not a duration; write it like 500ms, 30s, 2m or 1m30s` })
  .transform((text) => Duration.parse(text))
  .meta({ description: 'A duration: 500ms, 30s, 2m, 1h or combined like 1m30s.' });

/** A duration longer than zero: for lengths of things (a run, a hold, a timeout), not for points in time. */
export const positiveDurationSchema = durationSchema.refine((d) => d.ms > 0, { error: 'must be longer than 0s' });

/** `512Mi`, `2Gi`, `1G`, `1048576` → Quantity (bytes). */
export const quantitySchema = z
  .union([z.string().regex(QUANTITY_TEXT, { error: (iss) => `${shown(iss.input)} is not a size; write it like 512Mi, 2Gi or 1000000` }), z.number().nonnegative()], {
    error: unlessMissing((input) => `expected a size like 512Mi, 2Gi or 1000000, got ${shown(input)}`),
  })
  .transform((v) => Quantity.parse(v))
  .meta({ description: 'A size in bytes: 512Mi, 2Gi (binary), 1G (decimal) or a plain number of bytes.' });

/** `95%` → Percent. */
export const percentSchema = z
  .string({
    error: unlessMissing((input) => (typeof input === 'number' ? `write a percentage with its % sign: ${input}%` : `expected a percentage like 95%, got ${shown(input)}`)),
  })
  .regex(PERCENT_TEXT, { error: (iss) => `${shown(iss.input)} is not a percentage; write it like 95%` })
  .refine((text) => Percent.tryParse(text) !== undefined, { error: 'a percentage is at most 100%' })
  .transform((text) => Percent.parse(text))
  .meta({ description: 'A percentage between 0% and 100%.' });

/** A size or a share: `512Mi` → Quantity, `95%` → Percent (how full to fill a disk, for example). */
export const quantityOrPercentSchema = z
  .union(
    [
      z
        .string()
        .regex(new RegExp(`${QUANTITY_TEXT.source}|${PERCENT_TEXT.source}`), { error: (iss) => `${shown(iss.input)} is neither a size nor a percentage; write it like 512Mi, 2Gi or 95%` }),
      z.number().nonnegative(),
    ],
    { error: unlessMissing((input) => `expected a size like 512Mi or a percentage like 95%, got ${shown(input)}`) },
  )
  .refine((v) => typeof v !== 'string' || !v.trim().endsWith('%') || Percent.tryParse(v) !== undefined, { error: 'a percentage is at most 100%' })
  .transform((v): Quantity | Percent => (typeof v === 'string' && v.trim().endsWith('%') ? Percent.parse(v) : Quantity.parse(v)))
  .meta({ description: 'A size (512Mi, 2Gi, bytes) or a percentage (95%).' });

/** `50/s`, `120/m` → events per second, as a number. */
export const rateSchema = z
  .string({
    error: unlessMissing((input) => (typeof input === 'number' ? `a rate needs its unit: write ${input}/s` : `expected a rate like 50/s or 120/m, got ${shown(input)}`)),
  })
  .regex(RATE_TEXT, { error: (iss) => `${shown(iss.input)} is not a rate; write it like 50/s (per second) or 120/m (per minute)` })
  .transform((text) => {
    const [, count, , unit] = RATE_TEXT.exec(text)!;
    return unit === 'm' ? Number(count) / 60 : Number(count);
  })
  .refine((perSecond) => perSecond > 0, { error: 'a rate must be more than 0' })
  .meta({ description: 'A rate: 50/s (per second) or 120/m (per minute).' });
