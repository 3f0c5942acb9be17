import type { DiskUsage } from '../../nodes/node-access.js';

/** Rounding of df and of the filesystem's blocks: a fill within this of its target has landed. */
export const SLACK_PERCENT = 1;

/** A filesystem's usage as df reports it for a path, and where that filesystem is mounted. */
export interface MountedUsage extends DiskUsage {
  readonly mountedOn: string;
}

/**
 * Reads the last row of `df -B1 --output=size,used,avail,target <path>` (GNU coreutils) or of
 * `df -P -k <path>` (POSIX, what busybox understands). Undefined when the text is neither.
 */
export function parseDfOutput(stdout: string): MountedUsage | undefined {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0];
  const row = lines.at(-1);
  if (lines.length < 2 || header === undefined || row === undefined) return undefined;
  if (/^\s*Filesystem\b/.test(header)) {
    const block = Number(/\b(\d+)-blocks\b/.exec(header)?.[1] ?? 1024);
    const m = /^.*?\s+(\d+)\s+(\d+)\s+(\d+)\s+(?:\d+%|-)\s+(\/.*)$/.exec(row);
    if (!m) return undefined;
    return { capacityBytes: Number(m[1]) * block, usedBytes: Number(m[2]) * block, availableBytes: Number(m[3]) * block, mountedOn: m[4]! };
  }
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\/.*)$/.exec(row);
  if (!m) return undefined;
  return { capacityBytes: Number(m[1]), usedBytes: Number(m[2]), availableBytes: Number(m[3]), mountedOn: m[4]! };
}

/** df's Use%: used / (used + available), which leaves out the blocks reserved for root. */
export function usedShare(usage: DiskUsage): number {
  return (100 * usage.usedBytes) / Math.max(1, usage.usedBytes + usage.availableBytes);
}
