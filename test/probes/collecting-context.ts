import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectKubeconfig } from '../../src/cluster/connect.js';
import type { ClusterTarget } from '../../src/cluster/target.js';
import type { Sample } from '../../src/core/sample.js';
import type { ProbeContext, ProbePlugin, RunningProbe } from '../../src/probes/probe.js';
import type { EmbeddedCluster } from '../../src/sim/index.js';

/** A probe context that keeps what the probe emits, logs and fails with, as the engine would journal it. */
export interface CollectingContext extends ProbeContext {
  readonly samples: Sample[];
  readonly logs: string[];
  readonly failures: unknown[];
}

/** Stands in where a probe under test must not touch a cluster (url targets): any use throws. */
export const noCluster = new Proxy({} as ClusterTarget, {
  get(_target, key) {
    throw new Error(`this test has no cluster, yet the probe read cluster.${String(key)}`);
  },
});

export function collectingContext(options: { cluster?: ClusterTarget; artifactsDir?: string; experimentDir?: string; name?: string } = {}): CollectingContext {
  const samples: Sample[] = [];
  const logs: string[] = [];
  const failures: unknown[] = [];
  const name = options.name ?? 'probe';
  return {
    name,
    cluster: options.cluster ?? noCluster,
    experimentDir: options.experimentDir ?? process.cwd(),
    artifactsDir: options.artifactsDir ?? mkdtempSync(join(tmpdir(), 'gameday-probe-')),
    signal: new AbortController().signal,
    emit: (s) => samples.push({ ...s, probe: name }),
    log: (m) => logs.push(m),
    fail: (e) => failures.push(e),
    samples,
    logs,
    failures,
  };
}

/** Parses params as the experiment loader would, starts the probe, and stops it after `ms`. */
export async function runProbeFor<P, R extends RunningProbe>(
  plugin: { params: ProbePlugin<P>['params']; start(ctx: ProbeContext, p: P): Promise<R> },
  ctx: ProbeContext,
  raw: unknown,
  ms: number,
  during?: () => Promise<void>,
): Promise<R> {
  const running = await plugin.start(ctx, plugin.params.parse(raw));
  const wait = new Promise((r) => setTimeout(r, ms));
  await during?.();
  await wait;
  await running.stop();
  return running;
}

/** The embedded cluster as a ClusterTarget, connected through its kubeconfig like any cluster. */
export async function embeddedTarget(cluster: EmbeddedCluster): Promise<ClusterTarget> {
  const file = join(mkdtempSync(join(tmpdir(), 'gameday-kubeconfig-')), 'config');
  writeFileSync(file, cluster.kubeconfigYaml());
  return connectKubeconfig({ kubeconfig: file, context: 'gameday-sim' });
}

/** Samples whose scheduled start lies in the first `ms` of the run: what the schedule owed. */
export function withinSchedule(samples: readonly Sample[], ms: number): Sample[] {
  const start = Math.min(...samples.map((s) => s.t));
  return samples.filter((s) => s.t < start + ms);
}
