import { createServer, type Server } from 'node:http';
import { dataPlaneUsage } from '../dataplane/pod-metrics.js';
import { ClusterPodNetwork } from '../dataplane/pod-network.js';
import { KvReplicas } from '../dataplane/kv-app.js';
import { ServiceListeners } from '../dataplane/service-listeners.js';
import { ServiceRouter } from '../dataplane/service-router.js';
import { EventRecorder } from '../event-recorder.js';
import { Informers } from '../informer.js';
import { KubeletFleet } from '../kubelet/kubelet-fleet.js';
import { KubeletServer } from '../kubelet/kubelet-server.js';
import { kindNodeRegistrations, type ClusterShape } from '../kubelet/node-registrations.js';
import { createNodeFaultRoute } from '../node-fault-route.js';
import { NodeFaults } from '../node-faults.js';
import { resolveTimings, type SimTimings } from '../timings.js';
import { ApiConnection, type ApiEndpoint } from './api-connection.js';
import { ApiMirror } from './api-mirror.js';
import { DelegatedAuthorizer } from './delegated-authorizer.js';
import type { FrontProxyTrust } from './front-proxy-authenticator.js';
import { KubeletEndpoint } from './kubelet-endpoint.js';
import { MetricsServer } from './metrics-server.js';
import { SocketDataPlane } from './pod-sockets.js';

export interface NodeSideOptions {
  readonly api: ApiEndpoint;
  readonly shape: ClusterShape;
  readonly timings?: Partial<SimTimings>;
  /** Each node serves the node fault endpoint (plain HTTP) on its own address at this port. */
  readonly faultEndpointPort: number;
  /** The kubelets' serving certificate and key (PEM), for exec and logs on port 10250. */
  readonly kubeletTls: { readonly certPem: string; readonly keyPem: string };
  /** Serve the metrics APIs as an aggregated API server (metrics-server's place) at this address. @default not served */
  readonly metricsServer?: MetricsServerListen;
  /** A write the API server refused, for the log. */
  readonly onRefused?: (what: string, answer: string) => void;
}

export interface MetricsServerListen {
  readonly address: string;
  readonly port: number;
  /** The serving certificate and key (PEM) the APIServices' caBundle verifies. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly frontProxy: FrontProxyTrust;
}

export interface NodeSide {
  readonly nodes: readonly string[];
  readonly dataPlane: SocketDataPlane;
  readonly mirror: ApiMirror;
  stop(): Promise<void>;
}

/**
 * gameday's nodes joined to any API server: the kubelets, the container runtime and the data
 * plane of the embedded cluster, reading a mirror of the API server (list and watch) and writing
 * their status back through it, the way kwok's fake kubelets work. Each node serves the node
 * fault endpoint on its own address, which the API server's node proxy reaches.
 */
export async function startNodeSide(options: NodeSideOptions): Promise<NodeSide> {
  const timings = resolveTimings(options.timings);
  const registrations = kindNodeRegistrations(options.shape).map((r) => ({ ...r, faultEndpointPort: options.faultEndpointPort }));
  const connection = new ApiConnection(options.api);
  // The kubelets come after the mirror's first lists; until then none of them can publish.
  const started: { fleet?: KubeletFleet } = {};
  const mirror = new ApiMirror({
    connection,
    ownNodes: new Set(registrations.map((r) => r.name)),
    mayPublish: (resource, o) => started.fleet?.get(resource === 'nodes' ? o.metadata.name : ((o.spec as { nodeName?: string }).nodeName ?? ''))?.canPublish() ?? false,
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
  });
  await mirror.start();
  const store = mirror.store;
  const informers = new Informers(store);
  const recorder = new EventRecorder(store, timings.maxEvents);
  const dataPlane = new SocketDataPlane(informers, timings, registrations[0]!.name);
  const router = new ServiceRouter(informers, timings);
  const podNetwork = (pod: { ip: string; namespace: string }) => new ClusterPodNetwork(informers, router, dataPlane, pod);
  const fleet = new KubeletFleet({ store, recorder, timings, dataPlane, kvReplicas: new KvReplicas(), podNetwork }, informers);
  started.fleet = fleet;
  const faults = new NodeFaults(fleet, dataPlane);
  // Listening before any kubelet starts: once the nodes are Ready, the APIServices can be checked.
  let metricsServer: MetricsServer | undefined;
  if (options.metricsServer) {
    const { address, port, ...tls } = options.metricsServer;
    metricsServer = new MetricsServer({ store, usage: dataPlaneUsage(dataPlane), authorizer: new DelegatedAuthorizer(connection), ...tls });
    await metricsServer.listen(address, port);
  }
  for (const r of registrations) fleet.add(r).start();
  // kube-proxy's NodePorts (and a port per Service), on every address of the namespace.
  const listeners = new ServiceListeners('0.0.0.0', store, informers, router, dataPlane);

  const kubeletEndpoint = new KubeletEndpoint({ store, kubelets: new KubeletServer(fleet), ...options.kubeletTls });
  for (const r of registrations) await kubeletEndpoint.listen(r.internalIP);

  const route = createNodeFaultRoute(faults);
  const servers: Server[] = [];
  for (const r of registrations) {
    const server = createServer((req, res) => {
      void route(req, res, new URL(req.url ?? '/', 'http://node-side')).then((handled) => {
        if (handled) return;
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      });
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.faultEndpointPort, r.internalIP, resolve);
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    nodes: registrations.map((r) => r.name),
    dataPlane,
    mirror,
    stop() {
      stopping ??= (async () => {
        fleet.stop();
        router.stop();
        await listeners.stop();
        dataPlane.closeAll();
        await metricsServer?.stop();
        await kubeletEndpoint.stop();
        for (const server of servers) server.closeAllConnections();
        await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
        mirror.stop();
        informers.stop();
        connection.close();
      })();
      return stopping;
    },
  };
}
