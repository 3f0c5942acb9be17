import type { Sample } from '../../core/sample.js';
import type { ProbeContext } from '../probe.js';
import { repeatEvery, type RepeatingTask } from './repeat-every.js';

/** One observation, before the engine stamps it with its probe's name. */
export type Observation = Omit<Sample, 'probe' | 't'>;

/**
 * Asks now and then every `everyMs`, and emits an observation only when it differs from the last
 * one, as the watch-based probes report changes. The first answer is in before this returns, so
 * the run judges its steady state on it. `observe` turns its own failures into failed observations.
 */
export async function sampleOnChange(ctx: ProbeContext, everyMs: number, observe: () => Promise<Observation>): Promise<RepeatingTask> {
  let last = '';
  const once = async (): Promise<void> => {
    const t = Date.now();
    const observation = await observe();
    const key = JSON.stringify(observation);
    if (key === last) return;
    last = key;
    ctx.emit({ t, ...observation });
  };
  await once();
  return repeatEvery(everyMs, once, (err) => ctx.fail?.(err));
}
