import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { ClusterTarget } from '../../../src/cluster/target.js';
import { Duration } from '../../../src/core/duration.js';
import type { ClusterRef, RunEvent } from '../../../src/journal/events.js';
import type { RunObserver } from '../../../src/journal/observer.js';
import { Registry } from '../../../src/core/registry.js';
import type { FaultPlugin } from '../../../src/faults/fault.js';
import type { Plan, PlannedFault } from '../../../src/plan/model.js';
import type { ProbePlugin } from '../../../src/probes/probe.js';
import { parseCheck } from '../../../src/slo/parse.js';
import type { CheckSpec, ExperimentSpec, FaultSpec, ProbeSpec } from '../../../src/spec/model.js';
import { register } from '../../fixtures/plugins/test-plugins.js';
import type { TestFaultParams, TestProbeParams } from '../../fixtures/plugins/test-plugins.js';

/** A test experiment, written the short way; everything else gets a sensible default. */
export interface TestExperiment {
  readonly name?: string;
  readonly durationMs: number;
  readonly probes?: Readonly<Record<string, TestProbeParams>>;
  readonly faults?: readonly { readonly atMs: number; readonly forMs?: number; readonly params: TestFaultParams }[];
  readonly steadyState?: readonly string[];
  readonly steadyStateTimeoutMs?: number;
  readonly recoverWithinMs?: number;
  readonly slos?: readonly string[];
  readonly abort?: readonly string[];
  readonly cluster?: ClusterRef['kind'];
}

const checks = (texts: readonly string[] | undefined, path: string): CheckSpec[] =>
  (texts ?? []).map((text, i) => ({ path: `${path}[${i}]`, expr: parseCheck(text) }));

/** The spec and plan a loader and planner would make of the experiment, built by hand. */
export function buildExperiment(e: TestExperiment): { spec: ExperimentSpec; plan: Plan } {
  const name = e.name ?? 'engine-test';
  const probes: ProbeSpec[] = Object.entries(e.probes ?? {}).map(([probeName, params]) => ({
    name: probeName,
    kind: 'testProbe',
    params,
    path: `spec.probes.${probeName}`,
  }));
  const faultSpecs: FaultSpec[] = (e.faults ?? []).map((f, index) => ({
    id: `f${index}`,
    index,
    kind: 'testFault',
    name: `testFault#${index}`,
    at: Duration.millis(f.atMs),
    ...(f.forMs !== undefined ? { for: Duration.millis(f.forMs) } : {}),
    params: f.params,
    path: `spec.faults[${index}]`,
  }));
  const spec: ExperimentSpec = {
    file: 'experiments/engine-test.yaml',
    dir: 'experiments',
    name,
    labels: {},
    workloads: [],
    duration: Duration.millis(e.durationMs),
    steadyState: {
      checks: checks(e.steadyState, 'spec.steadyState.checks'),
      recoverWithin: Duration.millis(e.recoverWithinMs ?? 2000),
      timeout: Duration.millis(e.steadyStateTimeoutMs ?? 2000),
    },
    probes,
    faults: faultSpecs,
    steps: [],
    slos: checks(e.slos, 'spec.slos'),
    abort: checks(e.abort, 'spec.abort'),
    blastRadius: { maxNodes: 1, maxPodPercent: 50, allowZoneOutage: false, allowDeleteIn: [] },
    locate: () => ({ line: 1, column: 1 }),
  };
  const faults: PlannedFault[] = faultSpecs.map((f) => ({
    id: f.id,
    kind: f.kind,
    name: f.name,
    atMs: f.at.ms,
    ...(f.for ? { forMs: f.for.ms } : {}),
    params: f.params,
    targets: { marker: (f.params as TestFaultParams).marker },
    touches: { nodes: [], pods: [] },
    description: `create ${(f.params as TestFaultParams).marker}`,
    spec: f,
  }));
  const plan: Plan = {
    experiment: name,
    file: spec.file,
    seed: 7,
    cluster: clusterRef(e.cluster ?? 'kubeconfig'),
    durationMs: e.durationMs,
    faults,
    probes,
    touches: { nodes: [], pods: [] },
    warnings: [],
  };
  return { spec, plan };
}

function clusterRef(kind: ClusterRef['kind']): ClusterRef {
  return kind === 'embedded' ? { kind, name: 'embedded' } : { kind, name: 'test', context: 'test' };
}

/** A cluster target the test plug-ins never use: they touch only files. */
export function stubCluster(kind: ClusterRef['kind'] = 'kubeconfig'): ClusterTarget {
  return {
    ref: clusterRef(kind),
    kubeConfig: new KubeConfig(),
    snapshot: async () => ({ takenAt: Date.now(), nodes: [], pods: [] }),
    close: async () => undefined,
  };
}

/** A kubeconfig whose API server refuses every connection: for what must survive a cluster it cannot reach. */
export function unreachableKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'gone', server: 'http://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'gone', cluster: 'gone', user: 'u' }],
    currentContext: 'gone',
  });
  return kubeConfig;
}

export function testRegistries(): { faults: Registry<FaultPlugin>; probes: Registry<ProbePlugin> } {
  const registries = { faults: new Registry<FaultPlugin>('fault'), probes: new Registry<ProbePlugin>('probe') };
  register(registries);
  return registries;
}

/** Keeps every event, and can mirror fault steps into a shared log to show their order against the effects. */
export class CapturingObserver implements RunObserver {
  readonly events: RunEvent[] = [];
  ended = false;

  constructor(private readonly onEach?: (event: RunEvent) => void) {}

  onEvent(event: RunEvent): void {
    this.events.push(event);
    this.onEach?.(event);
  }

  async onRunEnd(): Promise<void> {
    this.ended = true;
  }

  ofType<T extends RunEvent['type']>(type: T): (RunEvent & { type: T })[] {
    return this.events.filter((e): e is RunEvent & { type: T } => e.type === type);
  }
}

export function tempDir(prefix = 'gameday-engine-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
