import type { BlastRadiusMap } from '../core/blast-radius.js';
import type { RunEvent } from '../journal/events.js';

/** The last map of one blastRadius probe, for the report's blast radius section. */
export interface BlastRadiusSummary {
  /** `blastRadius(shop/frontend)`. */
  readonly probe: string;
  readonly map: BlastRadiusMap;
  /** When it was mapped, in ms since the run started. */
  readonly atMs: number;
}

/** Keeps the last good map of each blastRadius probe in a run's events (src/core/blast-radius.ts says what a map holds). */
export class BlastRadiusData {
  private readonly kinds = new Map<string, string>();
  private readonly last = new Map<string, { map: BlastRadiusMap; t: number }>();
  private startedAt = 0;

  add(event: RunEvent): void {
    if (event.type === 'run.start') this.startedAt = event.t;
    if (event.type === 'probe.start') this.kinds.set(event.probe, event.kind);
    // A probe's first sample is journaled before its probe.start (it is taken while starting): the kind is checked at the end.
    if (event.type !== 'sample' || !event.ok) return;
    const map = event.detail as unknown as BlastRadiusMap | undefined;
    if (map?.fields && Array.isArray(map.reached) && Array.isArray(map.access)) this.last.set(event.probe, { map, t: event.t });
  }

  build(): BlastRadiusSummary[] {
    return [...this.last].filter(([probe]) => this.kinds.get(probe) === 'blastRadius').map(([probe, { map, t }]) => ({ probe, map, atMs: t - this.startedAt }));
  }
}
