import type { z } from 'zod';
import type { Permission } from '../cluster/rbac.js';
import type { ClusterTarget } from '../cluster/target.js';
import type { Sample } from '../core/sample.js';

/**
 * A probe kind, registered under its YAML key (`http`, `pdb`, `browser`…). A started probe emits
 * samples until it is stopped; the engine stamps them with the probe's name and journals them.
 */
export interface ProbePlugin<Params = unknown> {
  readonly kind: string;
  readonly summary: string;
  readonly params: z.ZodType<Params>;
  /**
   * What it reads and writes through the Kubernetes API for these params, as RBAC grants it (`gameday rbac`).
   * `experimentDir` resolves the files params name (a manifest the probe sends). Absent: nothing.
   */
  permissions?(params: Params, experimentDir?: string): readonly Permission[];
  /**
   * What is wrong with the target a check names for this kind's implicit probe, beyond its shape:
   * a file it reads that is missing or malformed, each message naming file:line:column and field.
   * Checked when the experiment is loaded, so a bad target is invalid input (exit 2), not a run's failure.
   */
  targetProblems?(target: string, experimentDir: string): readonly string[];
  start(ctx: ProbeContext, params: Params): Promise<RunningProbe>;
  /**
   * Deletes what this probe made in the cluster during run `runId` and a killed run left behind
   * (it never stopped); `gameday recover` calls it for each probe the run's plan journaled.
   * Returns what it deleted. Absent: the probe leaves nothing in the cluster.
   */
  deleteLeftovers?(cluster: ClusterTarget, params: Params, runId: string): Promise<readonly string[]>;
}

export interface ProbeContext {
  readonly name: string;
  /** The run's id: what a probe creates in the cluster carries it, so `gameday recover` finds it after a crash. Absent in contexts built by hand in tests. */
  readonly runId?: string;
  readonly cluster: ClusterTarget;
  /** Directory of the experiment file: relative paths in params resolve against it. */
  readonly experimentDir: string;
  /** Where the probe may write artifacts (screenshots…): inside the run's report directory. */
  readonly artifactsDir: string;
  readonly signal: AbortSignal;
  emit(sample: Omit<Sample, 'probe'>): void;
  log(message: string): void;
  /**
   * The probe cannot go on (its process died, its browser crashed): the run records it, reverts
   * and ends in `error`. Bad observations are samples, not failures. Optional so that contexts
   * built by hand in tests need not provide it.
   */
  fail?(error: unknown): void;
  /**
   * Every sample the run's probes emit, as they emit them, so one probe can judge another's
   * observations (readiness attributes failed requests to unready pods). Optional: contexts built
   * by hand in tests, and runners that do not share samples, leave it out.
   */
  readonly feed?: SampleFeed;
}

/** A read-only feed of the run's samples, each stamped with its probe's name. */
export interface SampleFeed {
  /** Calls the listener with every sample emitted from now on; returns the unsubscribe. */
  subscribe(listener: (sample: Sample, origin: SampleOrigin) => void): () => void;
}

/** The probe a sample came from, as the experiment declared it. */
export interface SampleOrigin {
  readonly kind: string;
  readonly params: unknown;
}

export interface RunningProbe {
  /** Stops taking samples; waits for in-flight observations to finish or time out. */
  stop(): Promise<void>;
}
