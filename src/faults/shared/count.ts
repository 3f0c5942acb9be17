import { z } from 'zod';
import { percentSchema } from '../../spec/value-schemas.js';

/** How many of the matching targets a fault acts on: a whole number, or a percentage rounded up. */
export const countSchema = z
  .union([z.number().int().min(1), percentSchema], { error: 'write a count as a whole number like 2 or a percentage like 30%' })
  .meta({ description: 'How many of the matching targets: a whole number, or a percentage (rounded up).', examples: [1, '30%'] });
