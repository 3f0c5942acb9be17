import type { ServerResponse } from 'node:http';
import { CUSTOM_POD_METRICS, resourceUsage, type PodUsageSource } from '../dataplane/pod-metrics.js';
import type { UsageSnapshot } from '../dataplane/usage-meter.js';
import type { ObjectStore, StoredObject } from '../store.js';
import { ApiError } from './api-error.js';
import { sendJson } from './http-exchange.js';
import { parseLabelSelector } from './label-selector.js';

/**
 * The aggregated metrics APIs, served by the embedded API server itself where a real cluster has
 * metrics-server (`metrics.k8s.io/v1beta1`: PodMetrics and NodeMetrics, for `kubectl top` and the
 * HPA's resource metrics) and a custom metrics adapter (`custom.metrics.k8s.io/v1beta2`: per-pod
 * metrics the data plane measures, for the HPA's Pods metrics). Responses have the shapes those
 * servers write: usage as `<n>n` nanocores and `<n>Ki`, metric values as milli-quantities.
 */
export interface AggregatedApi {
  readonly group: string;
  readonly version: string;
  readonly resources: readonly Record<string, unknown>[];
}

export const AGGREGATED_APIS: readonly AggregatedApi[] = [
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  },
  {
    group: 'custom.metrics.k8s.io',
    version: 'v1beta2',
    resources: Object.keys(CUSTOM_POD_METRICS).map((m) => ({ name: `pods/${m}`, singularName: '', namespaced: true, kind: 'MetricValueList', verbs: ['get'] })),
  },
];

const METRICS_PREFIX = '/apis/metrics.k8s.io/v1beta1/';
const CUSTOM_PREFIX = '/apis/custom.metrics.k8s.io/v1beta2/';

export class MetricsApi {
  constructor(
    private readonly store: ObjectStore,
    private readonly source: PodUsageSource | undefined,
  ) {}

  /** Serves a path under either API; false for any other path. */
  serve(method: string, path: string, query: URLSearchParams, res: ServerResponse): boolean {
    const prefix = path.startsWith(METRICS_PREFIX) ? METRICS_PREFIX : path.startsWith(CUSTOM_PREFIX) ? CUSTOM_PREFIX : undefined;
    if (!prefix) return false;
    if (method !== 'GET') throw ApiError.methodNotAllowed();
    // As an APIService whose backend is not running answers.
    if (!this.source) throw new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {});
    const segments = path.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    const body = prefix === METRICS_PREFIX ? this.resourceMetrics(this.source, segments, query) : this.customMetrics(this.source, segments, query);
    sendJson(res, 200, body);
    return true;
  }

  private resourceMetrics(source: PodUsageSource, segments: string[], query: URLSearchParams): unknown {
    const now = Date.now();
    const selector = parseLabelSelector(query.get('labelSelector'));
    const [first, second, third, fourth, ...rest] = segments;
    if (first === 'nodes' && third === undefined) {
      if (second !== undefined) return single('NodeMetrics', this.nodeMetrics(source, this.store.get('nodes', undefined, second) ?? notFound('nodes', second), now));
      const items = this.store.list('nodes').filter((n) => selector(n.metadata.labels)).map((n) => this.nodeMetrics(source, n, now));
      return list('NodeMetricsList', 'metrics.k8s.io/v1beta1', items);
    }
    const namespace = first === 'namespaces' && third === 'pods' ? second : first === 'pods' && second === undefined ? undefined : null;
    if (namespace === null || rest.length) throw ApiError.pathNotFound();
    if (fourth !== undefined) {
      const pod = this.store.get('pods', namespace, fourth);
      const usage = pod && source.usage(pod, now);
      if (!pod || !usage) notFound('pods', fourth);
      return single('PodMetrics', podMetrics(pod, usage, now));
    }
    const items = this.store
      .list('pods', namespace)
      .filter((p) => selector(p.metadata.labels))
      .flatMap((p) => {
        const usage = source.usage(p, now);
        return usage ? [podMetrics(p, usage, now)] : [];
      });
    return list('PodMetricsList', 'metrics.k8s.io/v1beta1', items);
  }

  private nodeMetrics(source: PodUsageSource, node: StoredObject, now: number): unknown {
    let cpu = 0;
    let memory = 0;
    let windowMs = 0;
    for (const pod of this.store.list('pods')) {
      if ((pod.spec as { nodeName?: string }).nodeName !== node.metadata.name) continue;
      const usage = source.usage(pod, now);
      if (!usage) continue;
      cpu += resourceUsage(usage, 'cpu')!;
      memory += resourceUsage(usage, 'memory')!;
      windowMs = Math.max(windowMs, ...usage.map((c) => c.windowMs));
    }
    return {
      metadata: { name: node.metadata.name, creationTimestamp: new Date(now).toISOString(), labels: node.metadata.labels ?? {} },
      timestamp: new Date(now).toISOString(),
      window: goSeconds(windowMs),
      usage: { cpu: nanocores(cpu), memory: kibibytes(memory) },
    };
  }

  private customMetrics(source: PodUsageSource, segments: string[], query: URLSearchParams): unknown {
    const [ns, namespace, kind, name, metric, ...rest] = segments;
    if (ns !== 'namespaces' || namespace === undefined || kind !== 'pods' || name === undefined || metric === undefined || rest.length) throw ApiError.pathNotFound();
    const value = CUSTOM_POD_METRICS[metric];
    // custom-metrics-apiserver's NewMetricNotFoundError.
    if (!value) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods`, { group: '', kind: 'pods', name: metric });
    const now = Date.now();
    const pods = name === '*' ? this.store.list('pods', namespace).filter((p) => parseLabelSelector(query.get('labelSelector'))(p.metadata.labels)) : [this.store.get('pods', namespace, name)].filter((p) => p !== undefined);
    const items = pods.flatMap((pod) => {
      const usage = source.usage(pod, now);
      if (!usage) return [];
      return [{
        describedObject: { kind: 'Pod', namespace, name: pod.metadata.name, apiVersion: '/v1' },
        metric: { name: metric },
        timestamp: new Date(now).toISOString(),
        windowSeconds: Math.round(Math.max(...usage.map((c) => c.windowMs), 0) / 1000),
        value: milliQuantity(value(usage)),
      }];
    });
    if (name !== '*' && !items.length) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods ${name}`, { group: '', kind: 'pods', name: metric });
    return list('MetricValueList', 'custom.metrics.k8s.io/v1beta2', items);
  }
}

function podMetrics(pod: StoredObject, usage: readonly UsageSnapshot[], now: number): unknown {
  return {
    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: new Date(now).toISOString(), labels: pod.metadata.labels ?? {} },
    timestamp: new Date(now).toISOString(),
    window: goSeconds(Math.max(...usage.map((c) => c.windowMs))),
    containers: usage.map((c) => ({ name: c.container, usage: { cpu: nanocores(c.cpuMillicores), memory: kibibytes(c.memoryBytes) } })),
  };
}

/** A single object carries its kind, which list items leave to the list. */
function single(kind: string, item: unknown): unknown {
  return { kind, apiVersion: 'metrics.k8s.io/v1beta1', ...(item as object) };
}

function list(kind: string, apiVersion: string, items: unknown[]): unknown {
  return { kind, apiVersion, metadata: {}, items };
}

/** metrics-server's NotFound: `pods.metrics.k8s.io "web-1" not found`. */
function notFound(resource: 'pods' | 'nodes', name: string): never {
  throw new ApiError(404, 'NotFound', `${resource}.metrics.k8s.io "${name}" not found`, { name, group: 'metrics.k8s.io', kind: resource });
}

function nanocores(millicores: number): string {
  return `${Math.round(millicores * 1e6)}n`;
}

function kibibytes(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
}

/** Go's time.Duration text for whole and fractional seconds: `15s`, `1.5s`. */
function goSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** resource.NewMilliQuantity(v·1000, DecimalSI) as text: `2`, `1500m`. */
export function milliQuantity(value: number): string {
  const milli = Math.round(value * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}
