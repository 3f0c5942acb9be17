import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterTarget } from '../cluster/target.js';
import { errorMessage } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import type { Sample } from '../core/sample.js';
import type { ProbePlugin, SampleFeed, SampleOrigin } from '../probes/probe.js';
import type { SampleIndex } from '../slo/sample-index.js';
import type { ProbeSpec } from '../spec/model.js';
import type { RunRecorder } from './recorder.js';
import type { TeardownStack } from './teardown-stack.js';

export interface StartProbesOptions {
  readonly probes: readonly ProbeSpec[];
  readonly registry: Registry<ProbePlugin>;
  readonly cluster: ClusterTarget;
  readonly experimentDir: string;
  readonly runDir: string;
  readonly runId: string;
  readonly samples: SampleIndex;
  readonly recorder: RunRecorder;
  /** Each started probe pushes its stop here. */
  readonly teardown: TeardownStack;
  /** Aborted when the run is interrupted; passed on to every probe. */
  readonly signal: AbortSignal;
  /** A probe could not start, or failed while running: the run must end in `error`. */
  readonly onFailure: (reason: string) => void;
}

/**
 * Starts every planned probe (declared and implicit). Each sample is stamped with its probe's
 * name, indexed for the checks and journaled. Returns false when a probe could not start; the
 * ones already started are stopped by the teardown stack.
 */
export async function startProbes(options: StartProbesOptions): Promise<boolean> {
  const artifactsDir = join(options.runDir, 'artifacts');
  mkdirSync(artifactsDir, { recursive: true });
  const feed = new ProbeSampleFeed(options.recorder);
  for (const spec of options.probes) {
    if (!(await startProbe(options, spec, artifactsDir, feed))) return false;
  }
  return true;
}

/** Hands every recorded sample to the probes that listen; one listener's error never reaches the emitter. */
class ProbeSampleFeed implements SampleFeed {
  private readonly listeners = new Set<(sample: Sample, origin: SampleOrigin) => void>();

  constructor(private readonly recorder: RunRecorder) {}

  subscribe(listener: (sample: Sample, origin: SampleOrigin) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(sample: Sample, origin: SampleOrigin): void {
    for (const listener of this.listeners) {
      try {
        listener(sample, origin);
      } catch (err) {
        this.recorder.log('warn', `a sample listener failed on a sample of probe ${sample.probe}: ${errorMessage(err)}`);
      }
    }
  }
}

async function startProbe(options: StartProbesOptions, spec: ProbeSpec, artifactsDir: string, feed: ProbeSampleFeed): Promise<boolean> {
  const { recorder } = options;
  const fail = (message: string): void => {
    recorder.record({ type: 'probe.error', t: Date.now(), probe: spec.name, kind: spec.kind, message });
    options.onFailure(`probe ${spec.name} (${spec.kind}) failed: ${message}`);
  };
  const plugin = options.registry.get(spec.kind);
  if (!plugin) {
    fail(options.registry.unknownMessage(spec.kind));
    return false;
  }
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  let stopped = false;
  let failed = false;
  const origin: SampleOrigin = { kind: spec.kind, params: spec.params };
  try {
    const running = await plugin.start(
      {
        name: spec.name,
        runId: options.runId,
        cluster: options.cluster,
        experimentDir: options.experimentDir,
        artifactsDir,
        signal: controller.signal,
        feed,
        emit: (observation: Omit<Sample, 'probe'>) => {
          if (stopped) return;
          const sample: Sample = { ...observation, probe: spec.name };
          options.samples.add(sample);
          recorder.record({ type: 'sample', ...sample });
          feed.publish(sample, origin);
        },
        log: (message) => recorder.log('info', `probe ${spec.name}: ${message}`),
        fail: (error) => {
          if (stopped || failed) return;
          failed = true;
          fail(errorMessage(error));
        },
      },
      spec.params,
    );
    recorder.record({ type: 'probe.start', t: Date.now(), probe: spec.name, kind: spec.kind });
    options.teardown.push(`stop probe ${spec.name}`, async () => {
      options.signal.removeEventListener('abort', onAbort);
      controller.abort('stopped');
      try {
        await running.stop();
      } finally {
        stopped = true;
        recorder.record({ type: 'probe.stop', t: Date.now(), probe: spec.name, kind: spec.kind });
      }
    });
    return true;
  } catch (err) {
    options.signal.removeEventListener('abort', onAbort);
    stopped = true;
    fail(errorMessage(err));
    return false;
  }
}
