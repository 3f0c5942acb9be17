import { writeFileWhole } from '../core/write-file-whole.js';
import type { ApiFaultKind, ApiFaultSettings } from './api/api-faults.js';
import { ApiServer } from './api/server.js';
import { TokenAuthority } from './api/auth/token-authority.js';
import { managedStore } from './api/field-manager/managed-store.js';
import type { RunningController } from './controllers/controller-context.js';
import { startCronJobController } from './controllers/cronjob.js';
import { startDaemonSetController } from './controllers/daemonset.js';
import { startDeploymentController } from './controllers/deployment.js';
import { startDisruptionController } from './controllers/disruption.js';
import { startEndpointsController } from './controllers/endpoints.js';
import { startGarbageCollector } from './controllers/garbage-collector.js';
import { startHpaController } from './controllers/hpa.js';
import { startJobController } from './controllers/job.js';
import { startLocalPathProvisioner } from './controllers/local-path-provisioner.js';
import { startNodeLifecycleController } from './controllers/node-lifecycle.js';
import { startPersistentVolumeBinder } from './controllers/persistent-volume-binder.js';
import { startReplicaSetController } from './controllers/replicaset.js';
import { startServiceAccountController } from './controllers/serviceaccount.js';
import { startResourceQuotaController } from './controllers/resource-quota.js';
import { startStatefulSetController } from './controllers/statefulset.js';
import { startStorageProtection } from './controllers/storage-protection.js';
import { DataPlane } from './dataplane/data-plane.js';
import { KvReplicas } from './dataplane/kv-app.js';
import { dataPlaneUsage } from './dataplane/pod-metrics.js';
import { createPodPortForward } from './dataplane/pod-port-forward.js';
import { createPodProxy } from './dataplane/pod-proxy.js';
import { createServiceProxy } from './dataplane/service-proxy.js';
import { ServiceListeners } from './dataplane/service-listeners.js';
import { ClusterPodNetwork } from './dataplane/pod-network.js';
import { ServiceRouter } from './dataplane/service-router.js';
import { EventRecorder } from './event-recorder.js';
import { Informers } from './informer.js';
import { KubeletFleet } from './kubelet/kubelet-fleet.js';
import { kindNodeRegistrations, nodeIp } from './kubelet/node-registrations.js';
import { KubeletServer } from './kubelet/kubelet-server.js';
import { createNodeFaultRoute } from './node-fault-route.js';
import { NodeFaults } from './node-faults.js';
import { findCondition } from './pod-state.js';
import { startScheduler } from './scheduler.js';
import { installKindSystem } from './kube-system.js';
import { createStandardStorageClass } from './storage-class.js';
import { ObjectStore, type StoredObject } from './store.js';
import { resolveTimings, type SimTimings } from './timings.js';

export interface EmbeddedClusterOptions {
  /** Cluster name; nodes are named like kind's: `<name>-control-plane`, `<name>-worker`, `<name>-worker2`… @default 'gameday' */
  readonly name?: string;
  /** @default 3 */
  readonly workers?: number;
  /** Worker i gets `topology.kubernetes.io/zone=zones[i % n]`. @default ['a', 'b', 'c'] */
  readonly zones?: readonly string[];
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** API server port. @default 0 (any free port) */
  readonly port?: number;
  readonly timings?: Partial<SimTimings>;
  /** Changes kept for watches to resume from; older resource versions get 410 Expired. @default 20000 */
  readonly watchHistory?: number;
  /**
   * `ignore`: NetworkPolicies are accepted and stored but the network does not enforce them, as on
   * clusters whose CNI lacks policy support (kindnet before v0.24, flannel). @default 'enforce'
   */
  readonly networkPolicy?: 'enforce' | 'ignore';
  /**
   * Fail a share of API clients' requests on purpose (500, 503, 429, timeouts, resets, ended
   * watches, 410 on re-watch: `api/api-faults.ts`). The cluster's own controllers and kubelets
   * work on the store and never meet them. @default none
   */
  readonly apiFaults?: ApiFaultSettings;
  /** Run what kind runs in kube-system (CoreDNS, kube-proxy, kindnet, static control-plane pods, the local-path provisioner). @default true */
  readonly kubeSystem?: boolean;
}

export interface EmbeddedCluster {
  readonly url: string;
  readonly name: string;
  readonly store: ObjectStore;
  readonly timings: SimTimings;
  /** Context, cluster and user `gameday-sim`, plain http to `url`, with the admin's bearer token (user `kubernetes-admin` in `system:masters`). */
  kubeconfigYaml(): string;
  writeKubeconfig(path: string): Promise<void>;
  /** The node fault endpoint's operations, in-process. */
  readonly nodeFaults: NodeFaults;
  /** `http://127.0.0.1:<port>` of the local listener standing in for a Service port, once it listens. */
  localServiceUrl(namespace: string, name: string, port: number): string | undefined;
  /** How many requests each API fault kind has failed so far; undefined without `apiFaults`. */
  apiFaultCounts(): Readonly<Record<ApiFaultKind, number>> | undefined;
  /** Stops everything and closes every socket; safe to call more than once. */
  stop(): Promise<void>;
}

export const KUBECONFIG_CONTEXT = 'gameday-sim';

/**
 * Starts the embedded cluster: the store, the API server with its service proxy and node fault
 * routes, the controllers, the scheduler, a kubelet per node and the data plane. Resolves once
 * every node is Ready.
 */
export async function startEmbeddedCluster(options: EmbeddedClusterOptions = {}): Promise<EmbeddedCluster> {
  const name = options.name ?? 'gameday';
  const workers = options.workers ?? 3;
  const zones = options.zones?.length ? options.zones : ['a', 'b', 'c'];
  const host = options.host ?? '127.0.0.1';
  const timings = resolveTimings(options.timings);
  const store = new ObjectStore({ historySize: options.watchHistory });
  const informers = new Informers(store);
  const recorder = new EventRecorder(store, timings.maxEvents);
  const ctx = { store, informers, recorder, timings };
  // Each component's writes carry its name in managedFields, as its requests would through the API server.
  const controllerCtx = { ...ctx, store: managedStore(store, 'kube-controller-manager') };
  const controlPlane = `${name}-control-plane`;

  const controllers: RunningController[] = [startGarbageCollector(controllerCtx)];
  const dataPlane = new DataPlane(informers, timings, controlPlane, options.networkPolicy !== 'ignore');
  const router = new ServiceRouter(informers, timings);
  const networkOfPod = (pod: { ip: string; namespace: string }) => new ClusterPodNetwork(informers, router, dataPlane, pod);
  const tokens = new TokenAuthority(store);
  const serviceAccountToken = (pod: StoredObject) => podToken(store, tokens, pod);
  const fleet = new KubeletFleet({ store: managedStore(store, 'kubelet'), recorder, timings, dataPlane, kvReplicas: new KvReplicas(), podNetwork: networkOfPod, serviceAccountToken }, informers);
  const nodeFaults = new NodeFaults(fleet, dataPlane);
  const usage = dataPlaneUsage(dataPlane);
  const api = new ApiServer({
    store,
    host,
    ...(options.port !== undefined ? { port: options.port } : {}),
    defaultTolerationSeconds: timings.defaultTolerationSeconds,
    tokens,
    ...(options.apiFaults ? { apiFaults: options.apiFaults } : {}),
    hooks: {
      serviceProxy: createServiceProxy(store, router, dataPlane),
      podProxy: createPodProxy(store, dataPlane),
      portForward: createPodPortForward(store, dataPlane),
      kubelet: new KubeletServer(fleet),
      extraRoute: createNodeFaultRoute(nodeFaults),
      podUsage: usage,
    },
  });
  const url = await api.start();
  controllers.push(
    startServiceAccountController(controllerCtx),
    startDisruptionController(controllerCtx.store),
    startNodeLifecycleController(controllerCtx),
    startScheduler({ ...ctx, store: managedStore(store, 'kube-scheduler') }),
    startReplicaSetController(controllerCtx),
    startDeploymentController(controllerCtx),
    startStatefulSetController(controllerCtx),
    startDaemonSetController(controllerCtx),
    startJobController(controllerCtx),
    startCronJobController(controllerCtx),
    startResourceQuotaController(controllerCtx),
    startEndpointsController(controllerCtx),
    startPersistentVolumeBinder(controllerCtx),
    startLocalPathProvisioner(controllerCtx),
    startStorageProtection(controllerCtx),
    startHpaController(controllerCtx, usage),
  );
  const listeners = new ServiceListeners(host, store, informers, router, dataPlane);
  createKubernetesService(store, nodeIp(0));
  createStandardStorageClass(store);

  const registrations = kindNodeRegistrations({ name, workers, zones });
  for (const r of registrations) fleet.add(r).start();
  await waitForReadyNodes(store, registrations.map((r) => r.name));
  if (options.kubeSystem !== false) installKindSystem(store, controlPlane);

  let stopping: Promise<void> | undefined;
  return {
    url,
    name,
    store,
    timings,
    nodeFaults,
    kubeconfigYaml: () => kubeconfig(url, tokens.adminToken),
    writeKubeconfig: (path) => writeFileWhole(path, kubeconfig(url, tokens.adminToken), 0o600),
    apiFaultCounts: () => api.faults?.counts,
    localServiceUrl(namespace, svc, port) {
      const local = listeners.localPort(namespace, svc, port);
      return local === undefined ? undefined : `http://${host}:${local}`;
    },
    stop() {
      stopping ??= (async () => {
        for (const c of controllers) c.stop();
        fleet.stop();
        router.stop();
        await listeners.stop();
        await api.stop();
        informers.stop();
      })();
      return stopping;
    },
  };
}

/** The token the kubelet mounts into a pod: its service account's, bound to the pod, for an hour (the kubelet renews it; ours is issued per container start). */
function podToken(store: ObjectStore, tokens: TokenAuthority, pod: StoredObject): string | undefined {
  const spec = pod.spec as { serviceAccountName?: string; automountServiceAccountToken?: boolean };
  const account = store.get('serviceaccounts', pod.metadata.namespace, spec.serviceAccountName || 'default');
  if (!account) return undefined;
  if (spec.automountServiceAccountToken === undefined && (account as { automountServiceAccountToken?: boolean }).automountServiceAccountToken === false) return undefined;
  return tokens.issue(account, { expirationSeconds: 3607, pod }).token;
}

function kubeconfig(url: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${KUBECONFIG_CONTEXT}`,
    '  cluster:',
    `    server: ${url}`,
    // client-node refuses plain http unless TLS verification is off; kubectl ignores it for http.
    '    insecure-skip-tls-verify: true',
    'contexts:',
    `- name: ${KUBECONFIG_CONTEXT}`,
    '  context:',
    `    cluster: ${KUBECONFIG_CONTEXT}`,
    `    user: ${KUBECONFIG_CONTEXT}`,
    '    namespace: default',
    `current-context: ${KUBECONFIG_CONTEXT}`,
    'preferences: {}',
    'users:',
    `- name: ${KUBECONFIG_CONTEXT}`,
    '  user:',
    `    token: ${token}`,
    '',
  ].join('\n');
}

/** The `default/kubernetes` Service every cluster has, pointing at the API server. */
function createKubernetesService(store: ObjectStore, apiServerIp: string): void {
  if (store.get('services', 'default', 'kubernetes')) return;
  const meta = { uid: '', resourceVersion: '', creationTimestamp: '' };
  store.create('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', ...meta, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP: '10.96.0.1',
      clusterIPs: ['10.96.0.1'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  });
  store.create('endpoints', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', ...meta, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: apiServerIp }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] }],
  });
}

async function waitForReadyNodes(store: ObjectStore, names: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = names.every((n) => {
      const node = store.get('nodes', undefined, n);
      return node && findCondition(node, 'Ready')?.status === 'True';
    });
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`embedded cluster: nodes not Ready after 30 s: ${names.join(', ')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
