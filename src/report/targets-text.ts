/**
 * A fault's targets in one short line. Targets are whatever the fault's plan chose (plain data
 * of the fault's own shape), so this reads the common shapes and falls back to compact JSON.
 */
const MAX_LENGTH = 160;

export function describeTargets(targets: unknown): string {
  const text = describe(targets);
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(describe).join(', ');
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '-';
    const name = namedObject(value as Record<string, unknown>);
    if (name) return name;
    return entries.map(([key, v]) => `${key}: ${describe(v)}`).join('; ');
  }
  return JSON.stringify(value) ?? '-';
}

/** `{ namespace: 'shop', name: 'web-1' }` reads as `shop/web-1`. */
function namedObject(o: Record<string, unknown>): string | undefined {
  if (typeof o.name !== 'string') return undefined;
  const keys = Object.keys(o).filter((k) => k !== 'name' && k !== 'namespace');
  if (keys.length > 0) return undefined;
  return typeof o.namespace === 'string' ? `${o.namespace}/${o.name}` : o.name;
}
