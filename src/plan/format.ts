import { Duration } from '../core/duration.js';
import type { ClusterRef } from '../journal/events.js';
import type { Plan } from './model.js';

/**
 * What `gameday plan` prints: everything the run would touch, in the order it would touch it.
 * Plain text without colour or terminal width, so it reads the same in CI logs and in tests.
 */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [
    `Experiment  ${plan.experiment} (${plan.file})`,
    `Cluster     ${formatCluster(plan.cluster)}`,
    `Seed        ${plan.seed} (gameday run --seed ${plan.seed} makes the same choices)`,
    `Duration    ${formatMs(plan.durationMs)}`,
    '',
    'Timeline',
    ...indent(timeline(plan)),
    '',
    'Probes',
    ...indent(probes(plan)),
    '',
    'Blast radius',
    ...indent(blastRadius(plan)),
  ];
  if (plan.warnings.length > 0) lines.push('', 'Warnings', ...indent(plan.warnings.map((w) => `- ${w}`)));
  lines.push('', 'Nothing was changed: this is a plan. `gameday run` would do the above.');
  return lines.join('\n') + '\n';
}

function formatCluster(ref: ClusterRef): string {
  if (ref.kind === 'embedded') return `embedded cluster ${ref.name}`;
  const where = [ref.server, ref.kubeconfig ? `kubeconfig ${ref.kubeconfig}` : undefined].filter(Boolean).join(', ');
  return `context ${ref.context ?? ref.name}${where ? ` (${where})` : ''}`;
}

function timeline(plan: Plan): string[] {
  const steps = plan.steps ?? [];
  if (plan.faults.length === 0 && steps.length === 0) return ['no faults'];
  const ordered = [...plan.faults].sort((a, b) => a.atMs - b.atMs || a.spec.index - b.spec.index);
  const rows = ordered.map((f) => [
    formatMs(f.atMs),
    f.forMs === undefined ? 'to the end' : formatMs(f.forMs),
    `${f.name} (${f.id})`,
    f.description,
  ]);
  const out = rows.length > 0 ? table(['AT', 'FOR', 'FAULT', 'TARGETS'], rows) : ['no faults'];
  if (steps.length === 0) return out;
  // Steps keep file order: each also waits for the one before it.
  const stepRows = steps.map((s) => [formatMs(s.atMs), `${s.name} (${s.id})`, s.kind, s.description]);
  return [...out, '', ...table(['AT', 'STEP', 'KIND', 'ACTION (once, not reverted)'], stepRows)];
}

function probes(plan: Plan): string[] {
  if (plan.probes.length === 0) return ['no probes'];
  const rows = plan.probes.map((p) => [p.name, p.kind, p.path.startsWith('spec.probes') ? p.path : `implicit, for the check at ${p.path}`]);
  return table(['NAME', 'KIND', 'FROM'], rows);
}

function blastRadius(plan: Plan): string[] {
  const nodes = plan.touches.nodes;
  const limits = plan.blastRadius;
  const zoned = new Set((limits?.zones ?? []).flatMap((z) => z.nodes));
  const counted = nodes.filter((n) => !zoned.has(n)).length;
  const nodeLimit = limits ? ` of at most ${limits.maxNodes}` : '';
  const withZones = zoned.size > 0 ? ` (and ${zoned.size} taken out with their zone)` : '';
  const out = [`nodes  ${counted}${nodeLimit}${withZones}${nodes.length > 0 ? `: ${nodes.join(', ')}` : ''}`];
  for (const z of limits?.zones ?? []) {
    out.push(`zone   ${z.zone} out whole, by ${z.fault} (allowed by spec.blastRadius.allowZoneOutage): ${z.nodes.join(', ')}`);
  }
  out.push(`pods   ${plan.touches.pods.length}${plan.touches.pods.length > 0 ? `: ${plan.touches.pods.join(', ')}` : ''}`);
  for (const share of limits?.owners ?? []) {
    out.push(`       ${share.owner} in ${share.namespace}: ${share.touched} of ${share.total} (${Math.round(share.percent)}%, at most ${limits!.maxPodPercent}%)`);
  }
  return out;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

function indent(lines: readonly string[]): string[] {
  return lines.map((l) => `  ${l}`);
}

function formatMs(ms: number): string {
  return Duration.millis(ms).toString();
}
