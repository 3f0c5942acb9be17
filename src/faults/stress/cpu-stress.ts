import { z } from 'zod';
import { stressFault } from './stress-fault.js';

const SCALE: Readonly<Record<string, number>> = { '': 1000, m: 1, u: 1e-3, n: 1e-6 };
const CPU_TEXT = /^(\d+(?:\.\d+)?)(m|u|n)?$/;

/** A CPU quantity in millicores: `500m`, `2`, `1.5`, and metrics' `1234567n`; undefined when it is not one. */
export function parseMillicores(value: string | number): number | undefined {
  const m = CPU_TEXT.exec(String(value).trim());
  return m ? Number(m[1]) * SCALE[m[2] ?? '']! : undefined;
}

const cpuSchema = z
  .union([z.string(), z.number().nonnegative()])
  .transform((v, ctx) => {
    const millicores = parseMillicores(v);
    if (millicores === undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a CPU amount; write it like 500m, 2 or 1.5` });
    return millicores ?? 0;
  })
  .describe('how much CPU the stress burns: 500m, 2 (cores)');

/**
 * Burns CPU in pods' containers or on nodes: a container wanting more than its CPU limit is
 * throttled, and a node whose CPU is oversubscribed shares it out; both show as latency.
 */
export const cpuStress = stressFault<number>({
  kind: 'cpuStress',
  summary: "burn CPU in pods' containers or on nodes (throttling over a limit shows as latency)",
  amountKey: 'cpu',
  amountSchema: cpuSchema,
  describe: (m) => `${m}m of CPU`,
  load: (m) => ({ cpuMillicores: m }),
  size: (m) => m,
  used: (usage) => parseMillicores(usage.cpu ?? '0') ?? 0,
});
