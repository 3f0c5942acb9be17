/**
 * Kubernetes resource.Quantity, reduced to the two units the scheduler compares: CPU in
 * millicores (`100m`, `0.5`, `2`) and bytes (`512Mi`, `1G`, `1e9`).
 */
const SUFFIX: Readonly<Record<string, number>> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] !== undefined) return n * 10 ** Number(m[2]);
  return n * SUFFIX[m[3] ?? '']!;
}

export function cpuMillis(value: unknown): number {
  const q = parseQuantity(value);
  return q === undefined ? 0 : Math.ceil(q * 1000);
}

export function quantityBytes(value: unknown): number {
  const q = parseQuantity(value);
  return q === undefined ? 0 : Math.ceil(q);
}
