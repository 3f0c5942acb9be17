import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { ClusterTarget } from '../../src/cluster/target.js';
import type { Sample } from '../../src/core/sample.js';
import type { ProbePlugin, RunningProbe } from '../../src/probes/probe.js';
import { httpService, namespace, webDeployment } from '../support/kube-objects.js';

export interface StartedProbe {
  readonly samples: Sample[];
  readonly logs: string[];
  readonly failures: unknown[];
  readonly running: RunningProbe;
  stop(): Promise<void>;
}

/** A probe started as the engine starts it: params through the plug-in's schema, samples collected. */
export async function startProbe<P>(
  plugin: ProbePlugin<P>,
  rawParams: unknown,
  kubeConfig: k8s.KubeConfig,
  options: { name?: string; experimentDir?: string } = {},
): Promise<StartedProbe> {
  const samples: Sample[] = [];
  const logs: string[] = [];
  const failures: unknown[] = [];
  const controller = new AbortController();
  const name = options.name ?? `${plugin.kind}-under-test`;
  const cluster = { kubeConfig, ref: { kind: 'kubeconfig', name: 'test' } } as unknown as ClusterTarget;
  const running = await plugin.start(
    {
      name,
      cluster,
      experimentDir: options.experimentDir ?? process.cwd(),
      artifactsDir: mkdtempSync(path.join(tmpdir(), 'gameday-probe-')),
      signal: controller.signal,
      emit: (s) => samples.push({ ...s, probe: name }),
      log: (m) => logs.push(m),
      fail: (e) => failures.push(e),
    },
    plugin.params.parse(rawParams),
  );
  return {
    samples,
    logs,
    failures,
    running,
    stop: async () => {
      controller.abort('stopped');
      await running.stop();
    },
  };
}

/** Creates each manifest through the generic object API, as `kubectl create` would. */
export async function createAll(kc: k8s.KubeConfig, objects: readonly k8s.KubernetesObject[]): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) await api.create(o);
}

/**
 * A namespace with a Deployment of gameday/web behind a Service of the same name. Pods go unready
 * at the first failed check and have no liveness probe: the probes under test see readiness
 * change as soon as the kubelet does.
 */
export function webApp(namespaceName: string, name: string, replicas: number): k8s.KubernetesObject[] {
  return [
    namespace(namespaceName),
    webDeployment(name, replicas, { namespace: namespaceName, grace: 1, readinessFailureThreshold: 1, liveness: false }),
    httpService(name, { namespace: namespaceName }),
  ];
}
