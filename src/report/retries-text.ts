import type { ApiRetries } from './result.js';

/** A run's API retries in one line: `12 (HTTP 503 ×7, connection reset ×3, re-list after 410 ×2)`, or `none`. */
export function apiRetriesText(retries: ApiRetries): string {
  if (retries.total === 0) return 'none';
  return `${retries.total} (${Object.entries(retries.byCause).map(([cause, n]) => `${cause} ×${n}`).join(', ')})`;
}
