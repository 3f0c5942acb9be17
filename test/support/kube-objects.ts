import type * as k8s from '@kubernetes/client-node';

/**
 * Builders for the Kubernetes objects tests create over and over. Each object carries its
 * apiVersion and kind, so it can go through a typed client call or the generic object API alike,
 * and selects its pods by `app: <name>`.
 */

export interface WebPodOptions {
  /** @default none: the namespace the create call names */
  readonly namespace?: string;
  /** The container's environment, such as `{ GAMEDAY_LATENCY: '3s' }` (see src/sim/dataplane/behaviour-knobs.ts). @default none */
  readonly env?: Readonly<Record<string, string>>;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: k8s.V1Toleration[];
  /** @default gameday/web:1 */
  readonly image?: string;
  /** terminationGracePeriodSeconds. @default 2 */
  readonly grace?: number;
  /** Failed readiness checks (one a second) before the pod is not ready. @default 3, as Kubernetes */
  readonly readinessFailureThreshold?: number;
  /** A liveness probe on /healthz, which gameday/web fails while its GAMEDAY_STARTUP_DELAY runs. @default true */
  readonly liveness?: boolean;
}

/** One `web` container serving on the port named http (8080), ready once /readyz answers. */
export function webPodSpec(options: WebPodOptions = {}): k8s.V1PodSpec {
  const env = Object.entries(options.env ?? {}).map(([name, value]) => ({ name, value }));
  return {
    terminationGracePeriodSeconds: options.grace ?? 2,
    ...(options.nodeSelector ? { nodeSelector: options.nodeSelector } : {}),
    ...(options.tolerations ? { tolerations: options.tolerations } : {}),
    containers: [
      {
        name: 'web',
        image: options.image ?? 'gameday/web:1',
        ports: [{ name: 'http', containerPort: 8080 }],
        ...(env.length > 0 ? { env } : {}),
        readinessProbe: {
          httpGet: { path: '/readyz', port: 'http' },
          periodSeconds: 1,
          ...(options.readinessFailureThreshold !== undefined ? { failureThreshold: options.readinessFailureThreshold } : {}),
        },
        ...(options.liveness === false ? {} : { livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 } }),
      },
    ],
  };
}

function metadata(name: string, namespace: string | undefined, labels?: Record<string, string>): k8s.V1ObjectMeta {
  return { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) };
}

/** A bare pod, with no controller to replace it. */
export function webPod(name: string, options: WebPodOptions = {}): k8s.V1Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: metadata(name, options.namespace, { app: name }), spec: webPodSpec(options) };
}

export function webDeployment(name: string, replicas: number, options: WebPodOptions = {}): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(name, options.namespace),
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: webPodSpec(options) } },
  };
}

/** A Service whose port 80 (named http) reaches the pods' port named http. */
export function httpService(name: string, options: { readonly namespace?: string } = {}): k8s.V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: metadata(name, options.namespace), spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
}

/**
 * An autoscaling/v2 HPA for the Deployment `name`: 2 to 8 replicas at 10 requests per second a pod
 * (the data plane's `requests_per_second` custom metric), with the behavior given, if any.
 */
export function requestsPerSecondAutoscaler(name: string, behavior?: k8s.V2HorizontalPodAutoscalerBehavior): k8s.V2HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(name, undefined),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas: 8,
      metrics: [{ type: 'Pods', pods: { metric: { name: 'requests_per_second' }, target: { type: 'AverageValue', averageValue: '10' } } }],
      ...(behavior ? { behavior } : {}),
    },
  };
}

export interface KvStatefulSetOptions {
  readonly namespace?: string;
  /** @default 3 */
  readonly replicas?: number;
  /** @default OrderedReady, as Kubernetes */
  readonly podManagementPolicy?: 'OrderedReady' | 'Parallel';
}

/** gameday/kv members that elect a leader through the Lease `<name>-leader`; only the leader takes writes. */
export function kvStatefulSet(name: string, options: KvStatefulSetOptions = {}): k8s.V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(name, options.namespace),
    spec: {
      replicas: options.replicas ?? 3,
      serviceName: name,
      ...(options.podManagementPolicy ? { podManagementPolicy: options.podManagementPolicy } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'kv', image: 'gameday/kv:1', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 } }],
        },
      },
    },
  };
}

/** A budget over the pods labelled `app: <options.app ?? name>`. */
export function podDisruptionBudget(
  name: string,
  budget: Pick<k8s.V1PodDisruptionBudgetSpec, 'minAvailable' | 'maxUnavailable'>,
  options: { readonly namespace?: string; readonly app?: string } = {},
): k8s.V1PodDisruptionBudget {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: metadata(name, options.namespace), spec: { ...budget, selector: { matchLabels: { app: options.app ?? name } } } };
}

export function namespace(name: string): k8s.V1Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}
