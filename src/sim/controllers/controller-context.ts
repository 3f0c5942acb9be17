import type { EventRecorder } from '../event-recorder.js';
import type { Informers } from '../informer.js';
import type { ObjectStore } from '../store.js';
import type { SimTimings } from '../timings.js';

/** What every in-process controller is started with. */
export interface ControllerContext {
  readonly store: ObjectStore;
  readonly informers: Informers;
  readonly recorder: EventRecorder;
  readonly timings: SimTimings;
}

export interface RunningController {
  stop(): void;
}
