import { HarnessError } from '../core/errors.js';

/** Where gameday's metrics server stands in the cluster: a selector-less Service, as metrics-server's own manifests name theirs. */
export const METRICS_SERVICE = { namespace: 'kube-system', name: 'gameday-metrics' } as const;
/** metrics-server's container port; the Service's port is 443, as metrics-server's is. */
export const METRICS_SERVER_PORT = 4443;

/** The DNS name the API server's proxy verifies the metrics server's certificate for. */
export const METRICS_SERVICE_DNS = `${METRICS_SERVICE.name}.${METRICS_SERVICE.namespace}.svc`;

/**
 * The APIServices gameday's metrics server backs: metrics-server's (`v1beta1.metrics.k8s.io`,
 * group priority 100, version priority 100) and a custom metrics adapter's
 * (`v1beta2.custom.metrics.k8s.io`, 100 and 200, as custom-metrics-apiserver's manifests have it).
 */
const API_SERVICES = [
  { group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100 },
  { group: 'custom.metrics.k8s.io', version: 'v1beta2', groupPriorityMinimum: 100, versionPriority: 200 },
] as const;

export type AdminCall = (method: string, path: string, body?: unknown) => Promise<string>;

/**
 * Registers the metrics APIs with the API server's aggregation layer, as installing metrics-server
 * does: a Service without a selector, an EndpointSlice naming the server's address (on the
 * control-plane node, like a host-network pod), and one APIService per group version, whose
 * caBundle is the CA that signed the server's certificate. Then waits for every APIService to be
 * Available, which is when the aggregator reached the server's discovery document.
 */
export async function registerMetricsApis(admin: AdminCall, options: { readonly address: string; readonly nodeName: string; readonly caCertPem: string; readonly timeoutMs: number }): Promise<void> {
  const { namespace, name } = METRICS_SERVICE;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'gameday' };
  await admin('POST', `/api/v1/namespaces/${namespace}/services`, {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace, labels },
    spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: METRICS_SERVER_PORT }] },
  });
  await admin('POST', `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`, {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    // Not the endpoint slice controller's (it manages only Services with a selector).
    metadata: { name, namespace, labels: { ...labels, 'kubernetes.io/service-name': name, 'endpointslice.kubernetes.io/managed-by': 'gameday.dev' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [options.address], conditions: { ready: true }, nodeName: options.nodeName }],
    ports: [{ name: 'https', port: METRICS_SERVER_PORT, protocol: 'TCP' }],
  });
  for (const api of API_SERVICES) {
    await admin('POST', '/apis/apiregistration.k8s.io/v1/apiservices', {
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService',
      metadata: { name: `${api.version}.${api.group}`, labels },
      spec: {
        group: api.group, version: api.version,
        groupPriorityMinimum: api.groupPriorityMinimum, versionPriority: api.versionPriority,
        service: { namespace, name, port: 443 },
        caBundle: Buffer.from(options.caCertPem).toString('base64'),
      },
    });
  }
  await waitAvailable(admin, API_SERVICES.map((a) => `${a.version}.${a.group}`), options.timeoutMs);
}

interface ApiServiceStatus {
  readonly status?: { readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[] };
}

async function waitAvailable(admin: AdminCall, names: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const conditions = await Promise.all(names.map(async (n) => {
      const available = (JSON.parse(await admin('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${n}`)) as ApiServiceStatus).status?.conditions?.find((c) => c.type === 'Available');
      return { name: n, available };
    }));
    const waiting = conditions.filter((c) => c.available?.status !== 'True');
    if (!waiting.length) return;
    if (Date.now() > deadline) {
      const why = waiting.map((c) => `${c.name}: ${c.available ? `${c.available.reason ?? ''} ${c.available.message ?? ''}`.trim() : 'no Available condition yet'}`);
      throw new HarnessError(`the metrics APIs did not become Available after ${timeoutMs / 1000} s: ${why.join('; ')}`);
    }
    // The aggregator checks a new APIService at once; its answer lands within a few polls.
    await new Promise((r) => setTimeout(r, 50));
  }
}
