/**
 * Playwright-style setup/teardown: every setup step pushes its undo, and unwinding runs them
 * newest first. Faults push their revert *before* they inject, so a half-done inject is undone too.
 */
export interface TeardownFailure {
  readonly label: string;
  readonly error: unknown;
}

export interface Teardown {
  readonly label: string;
  /** Runs this teardown now (at most once overall) and takes it off the stack. */
  run(): Promise<TeardownFailure | undefined>;
}

interface Entry {
  readonly label: string;
  readonly undo: () => Promise<void>;
  done: boolean;
}

export class TeardownStack {
  private readonly entries: Entry[] = [];

  push(label: string, undo: () => Promise<void>): Teardown {
    const entry: Entry = { label, undo, done: false };
    this.entries.push(entry);
    return { label, run: () => this.runEntry(entry) };
  }

  /** How many teardowns are pending; `unwind(depth)` later undoes only what was pushed after. */
  get depth(): number {
    return this.entries.length;
  }

  /** Runs every teardown above `depth`, newest first. One failing does not stop the others. */
  async unwind(depth = 0): Promise<TeardownFailure[]> {
    const failures: TeardownFailure[] = [];
    while (this.entries.length > depth) {
      const failure = await this.runEntry(this.entries[this.entries.length - 1]!);
      if (failure) failures.push(failure);
    }
    return failures;
  }

  private async runEntry(entry: Entry): Promise<TeardownFailure | undefined> {
    const at = this.entries.indexOf(entry);
    if (at >= 0) this.entries.splice(at, 1);
    if (entry.done) return undefined;
    entry.done = true;
    try {
      await entry.undo();
      return undefined;
    } catch (error) {
      return { label: entry.label, error };
    }
  }
}
