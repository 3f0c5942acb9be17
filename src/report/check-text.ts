import type { CheckResult, EvidenceSample } from './result.js';
import { formatDuration } from './time-text.js';

/** A measured value as reports print it: whole numbers as they are, others to three decimals. */
export function formatValue(value: number | undefined): string {
  if (value === undefined) return '-';
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
}

/**
 * The evidence behind a verdict as plain lines, the same in JUnit failure bodies, summaries and
 * logs: what was measured, over which window, when it first broke, and the samples to look at.
 */
export function describeEvidence(check: CheckResult): string[] {
  const lines = [`${check.role} check "${check.check}": ${check.verdict}: ${check.message}`];
  if (check.value !== undefined) lines.push(`measured: ${formatValue(check.value)}`);
  const e = check.evidence;
  if (!e) return lines;
  lines.push(`window: ${e.from} .. ${e.to} (${formatDuration(e.toMs - e.fromMs)}), ${e.samples} samples`);
  if (e.firstViolationAt) lines.push(`first violation: ${e.firstViolationAt} (${e.firstViolationAtMs})`);
  if (e.note) lines.push(`note: ${e.note}`);
  if (e.worst?.length) {
    lines.push('worst samples:');
    for (const sample of e.worst) lines.push(`  ${describeSample(sample)}`);
  }
  return lines;
}

export function describeSample(s: EvidenceSample): string {
  const parts = [s.at, s.probe, s.ok ? 'ok' : 'failed'];
  if (s.latencyMs !== undefined) parts.push(`latency ${formatValue(s.latencyMs)}ms`);
  if (s.value !== undefined) parts.push(`value ${formatValue(s.value)}`);
  if (s.error) parts.push(`error ${s.error}`);
  if (s.detail && Object.keys(s.detail).length > 0) parts.push(JSON.stringify(s.detail));
  return parts.join(' ');
}
