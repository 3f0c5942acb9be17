/** A loop started by `repeatEvery`. */
export interface RepeatingTask {
  /** Ends the loop: the run in progress finishes, no new one starts. */
  stop(): Promise<void>;
}

/**
 * Runs `once` now and then at every multiple of `everyMs` from the start. A run that overran
 * delays the next to the following slot: it never doubles up, and runs never overlap. A run
 * that throws ends the loop and goes to `failed` (the probe cannot go on).
 */
export function repeatEvery(everyMs: number, once: () => Promise<void>, failed: (err: unknown) => void): RepeatingTask {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = async (): Promise<void> => {
    const startedAt = Date.now();
    while (!stopped) {
      const began = Date.now();
      await once();
      const due = startedAt + (Math.floor((began - startedAt) / everyMs) + 1) * everyMs;
      const wait = due - Date.now();
      if (wait <= 0 || stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => (clearTimeout(timer), resolve());
      });
    }
  };
  const running = loop().catch(failed);
  return {
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
