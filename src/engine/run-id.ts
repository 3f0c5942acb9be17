import { randomBytes } from 'node:crypto';

/**
 * `20261124-101500-drain-a-worker-4f2a`: sorts by start time (UTC), names the experiment, and
 * stays unique when two runs start in the same second.
 */
export function newRunId(experimentName: string, now: Date | number = Date.now()): string {
  const d = new Date(now);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const date = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  const name =
    experimentName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48)
      .replace(/-+$/, '') || 'experiment';
  return `${date}-${time}-${name}-${randomBytes(2).toString('hex')}`;
}
