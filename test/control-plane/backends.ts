import * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';
import { rawRequest, type RawResponse } from '../../src/cluster/raw-request.js';
import { startEmbeddedCluster } from '../../src/sim/index.js';
import { FAST_TIMINGS } from '../sim/sim-fixture.js';
import { realControlPlaneUnavailable, startRealCluster, type RealCluster } from './real-cluster.js';

/**
 * The two clusters a differential test compares: gameday's embedded cluster and upstream
 * Kubernetes. A scenario runs against each through the same HTTP calls; what a client observes
 * (status codes, Status bodies, watch events, Table columns) is normalised only where the two
 * legitimately differ (names, UIDs, timestamps, resource versions) and then compared.
 */
export interface Backend {
  readonly name: 'embedded' | 'real';
  readonly kubeConfig: k8s.KubeConfig;
  request(path: string, options?: { method?: string; body?: unknown; contentType?: string; accept?: string; headers?: Record<string, string> }): Promise<{ status: number; body: unknown; raw: RawResponse }>;
  /** The node's kubelet goes silent: no status, no Lease renewals. */
  silenceNode(node: string): Promise<void>;
  stop(): Promise<void>;
}

function backend(name: Backend['name'], kubeConfig: k8s.KubeConfig, silenceNode: (node: string) => Promise<void>, stop: () => Promise<void>): Backend {
  return {
    name,
    kubeConfig,
    silenceNode,
    async request(path, options = {}) {
      const raw = await rawRequest(kubeConfig, path, {
        method: options.method,
        body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
        contentType: options.contentType,
        headers: { ...(options.accept ? { accept: options.accept } : {}), ...options.headers },
      });
      let body: unknown = raw.body;
      try {
        body = JSON.parse(raw.body);
      } catch {
        // Not JSON: keep the text, which is itself a finding.
      }
      return { status: raw.status, body, raw };
    },
    stop,
  };
}

/** The embedded cluster keeps as few changes for watches as upstream's watch cache starts with. */
export const WATCH_HISTORY = 100;

/** Both clusters' clocks: FAST_TIMINGS, and an HPA that acts within a second instead of 15. */
const TIMINGS = { ...FAST_TIMINGS, hpaSyncPeriodMs: 1000 };

export async function startEmbeddedBackend(): Promise<Backend> {
  const cluster = await startEmbeddedCluster({ timings: TIMINGS, watchHistory: WATCH_HISTORY });
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfigYaml());
  return backend('embedded', kubeConfig, async (node) => void cluster.nodeFaults.inject(node, { type: 'kubelet-stop' }), () => cluster.stop());
}

/** Undefined (with the reason logged) when the real control plane is not available here. */
export async function startRealBackend(): Promise<Backend | undefined> {
  const why = await realControlPlaneUnavailable();
  if (why) {
    console.log(`      real control plane skipped: ${why}`);
    return undefined;
  }
  // gameday's own nodes on both, on the same clocks: the node lifecycle controller's grace period
  // and the default tolerations become upstream's flags, so a silent node's pods go within
  // seconds on both. Config maps bypass the watch cache, and etcd compacts every 2 s: so a watch
  // from an old resource version meets etcd's own 410 within seconds, as on a busy cluster after minutes.
  const cluster: RealCluster = await startRealCluster({
    timings: TIMINGS as Record<string, number>,
    apiServerArgs: ['--watch-cache-sizes=configmaps#0', '--etcd-compaction-interval=2s'],
  });
  // The node fault endpoint through the API server's node proxy, as gameday's sim node access reaches it.
  const kubeletStop = async (node: string): Promise<void> => {
    const r = await rawRequest(cluster.kubeConfig, `/api/v1/nodes/http:${node}:10260/proxy/gameday/v1/nodes/${node}/faults`, { method: 'POST', body: JSON.stringify({ type: 'kubelet-stop' }) });
    if (r.status !== 201) throw new Error(`kubelet-stop on ${node}: HTTP ${r.status} ${r.body}`);
  };
  return backend('real', cluster.kubeConfig, kubeletStop, () => cluster.stop());
}

/** A GET whose body stays bytes (a protobuf), with the backend's credentials, and its ETag. */
export async function getBytes(b: Backend, path: string, accept: string): Promise<{ etag: string | undefined; body: Buffer }> {
  const server = new URL(b.kubeConfig.getCurrentCluster()!.server);
  const options: https.RequestOptions = { headers: {} };
  await b.kubeConfig.applyToHTTPSOptions(options);
  const url = new URL(server.pathname.replace(/\/$/, '') + path, server);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { ...options, agent: undefined, headers: { ...(options.headers as object), accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve({ etag: res.headers.etag, body: Buffer.concat(chunks) }) : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const VOLATILE = new Set(['uid', 'resourceVersion', 'creationTimestamp', 'generateName', 'managedFields', 'selfLink', 'time', 'lastTransitionTime', 'lastHeartbeatTime', 'lastProbeTime', 'startTime', 'deletionTimestamp', 'renewTime', 'acquireTime']);

/** Replaces what legitimately differs between clusters: ids, versions, times and generated names. */
export function normalise(value: unknown, names: ReadonlyMap<string, string> = new Map()): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, names));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = VOLATILE.has(k) ? '<volatile>' : normalise(v, names);
    return out;
  }
  if (typeof value === 'string') {
    let s = value;
    for (const [from, to] of names) s = s.split(from).join(to);
    return s;
  }
  return value;
}
