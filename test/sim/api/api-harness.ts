import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import * as k8s from '@kubernetes/client-node';
import { ApiServer, type ApiServerOptions } from '../../../src/sim/api/server.js';
import { ObjectStore, type StoredObject } from '../../../src/sim/store.js';

/** An ApiServer on a fresh store, and a client-node KubeConfig pointing at it. */
export interface ApiHarness {
  readonly store: ObjectStore;
  readonly server: ApiServer;
  readonly url: string;
  readonly kc: k8s.KubeConfig;
  stop(): Promise<void>;
}

export async function startApi(options: Partial<ApiServerOptions> = {}): Promise<ApiHarness> {
  const store = options.store ?? new ObjectStore();
  const server = new ApiServer({ ...options, store });
  const url = await server.start();
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sim', server: url, skipTLSVerify: true }],
    users: [{ name: 'sim' }],
    contexts: [{ name: 'sim', cluster: 'sim', user: 'sim' }],
    currentContext: 'sim',
  });
  return { store, server, url, kc, stop: () => server.stop() };
}

/** The raw HTTP exchange, for byte-level assertions on Status bodies. */
export async function rawRequest(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: LooseJson; headers: Headers }> {
  const res = await fetch(url + path, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: LooseJson;
  try {
    json = JSON.parse(text);
  } catch {
    json = {};
  }
  return { status: res.status, text, json, headers: res.headers };
}

export function pod(name: string, labels: Record<string, string> = {}, extra: { nodeName?: string; namespace?: string } = {}): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: extra.namespace ?? 'default', labels },
    spec: { ...(extra.nodeName ? { nodeName: extra.nodeName } : {}), containers: [{ name: 'app', image: 'registry.k8s.io/echoserver:2.5', ports: [{ containerPort: 8080 }] }] },
  };
}

/** Marks a stored pod Running and Ready, as a kubelet would (the API server alone has none). */
export function makeReady(store: ObjectStore, namespace: string, name: string, ready = true): StoredObject | undefined {
  return store.mutate('pods', namespace, name, (o) => {
    const p = o as LooseJson;
    p.status = {
      ...p.status,
      phase: 'Running',
      podIP: '10.244.0.10',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'app', ready, restartCount: 0, image: p.spec.containers[0].image, imageID: '', started: true, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } }],
    };
  });
}

export function node(name: string, ready = true): StoredObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      nodeInfo: { kubeletVersion: 'v1.31.4', osImage: 'gameday sim', kernelVersion: '6.1.0', containerRuntimeVersion: 'sim://1.0' },
    },
  } as unknown as StoredObject;
}
