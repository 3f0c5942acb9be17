import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError } from '../core/errors.js';
import { ComponentProcess, logTail, type ComponentExit } from './component-process.js';
import { CONTROL_PLANE_NODE_IP } from './cluster-network.js';
import { createServingCertificate } from './credentials.js';
import { METRICS_SERVER_PORT, METRICS_SERVICE_DNS, registerMetricsApis, type AdminCall } from './metrics-apis.js';
import { componentRequest, startRealControlPlane, type RealControlPlane, type RealControlPlaneOptions } from './real-control-plane.js';

/**
 * Where each node serves the node fault endpoint, on its own address: the API server's node proxy
 * (`/api/v1/nodes/http:<node>:10260/proxy/…`) reaches it; its service proxy would not, as it
 * proxies only to pods.
 */
export const NODE_FAULTS_PORT = 10260;

/** The cluster's clocks that the real components also take as flags (the embedded cluster's names). */
export interface RealClusterTimings {
  readonly nodeMonitorGracePeriodMs?: number;
  readonly nodeMonitorPeriodMs?: number;
  readonly defaultTolerationSeconds?: number;
  readonly hpaSyncPeriodMs?: number;
  readonly hpaDownscaleStabilizationMs?: number;
  readonly hpaCpuInitializationPeriodMs?: number;
  readonly hpaInitialReadinessDelayMs?: number;
  readonly [other: string]: number | undefined;
}

export interface RealClusterOptions extends Omit<RealControlPlaneOptions, 'nodeNames'> {
  /** @default 'gameday' */
  readonly name?: string;
  /** @default 3 */
  readonly workers?: number;
  /** @default ['a', 'b', 'c'] */
  readonly zones?: readonly string[];
  /** The embedded cluster's timings: the node side takes them all, the real components the ones above. */
  readonly timings?: RealClusterTimings;
  /**
   * NodePorts also served on the host's 127.0.0.1, as kind's extraPortMappings do
   * (kind-config.yaml maps 30080). A port already taken on the host is skipped with a warning.
   * @default [30080]
   */
  readonly hostPorts?: readonly number[];
}

export interface RealCluster extends RealControlPlane {
  readonly nodeNames: readonly string[];
  /** The node side's log: kubelets, runtime, data plane. */
  readonly nodeSideLog: string;
}

/** kind's node names, as src/sim/kubelet/node-registrations.ts gives them (which this module may not import): the tokens are made before the node side starts. */
function nodeNames(name: string, workers: number): string[] {
  return [`${name}-control-plane`, ...Array.from({ length: workers }, (_, i) => `${name}-worker${i === 0 ? '' : i + 1}`)];
}

/** The node side's entry point, beside this module in the build (dist/) or the sources (tsx). */
function nodeSideEntry(): { file: string; args: string[] } {
  const self = fileURLToPath(import.meta.url);
  const here = path.dirname(self);
  if (path.extname(self) === '.js') return { file: process.execPath, args: [path.join(here, '..', 'sim', 'node-side', 'main.js')] };
  return { file: process.execPath, args: ['--import', 'tsx', path.join(here, '..', 'sim', 'node-side', 'main.ts')] };
}

/**
 * The real control plane with gameday's own nodes joined: upstream etcd, API server, controller
 * manager and scheduler, and the node side (kubelets, container runtime, data plane) as one more
 * child process in the same network namespace, talking to the API server as a privileged client.
 * Node faults are reached through the API server's node proxy, like any API call.
 */
export async function startRealCluster(options: RealClusterOptions = {}): Promise<RealCluster> {
  const name = options.name ?? 'gameday';
  const workers = options.workers ?? 3;
  const zones = options.zones ?? ['a', 'b', 'c'];
  const timings = options.timings ?? {};
  const names = nodeNames(name, workers);
  const progress = options.progress ?? ((): void => {});
  const seconds = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : `${Math.max(1, Math.round(ms / 1000))}s`);
  const grace = seconds(timings.nodeMonitorGracePeriodMs);
  const period = seconds(timings.nodeMonitorPeriodMs);
  const tolerations = timings.defaultTolerationSeconds;
  // The HPA controller's clocks, to the millisecond (Go durations take `ms`).
  const hpaFlags = ([
    ['hpaSyncPeriodMs', 'sync-period'],
    ['hpaDownscaleStabilizationMs', 'downscale-stabilization'],
    ['hpaCpuInitializationPeriodMs', 'cpu-initialization-period'],
    ['hpaInitialReadinessDelayMs', 'initial-readiness-delay'],
  ] as const).flatMap(([timing, flag]) => (timings[timing] === undefined ? [] : [`--horizontal-pod-autoscaler-${flag}=${timings[timing]}ms`]));
  const cp = await startRealControlPlane({
    ...options,
    nodeNames: names,
    apiServerArgs: [
      ...(tolerations !== undefined ? [`--default-not-ready-toleration-seconds=${tolerations}`, `--default-unreachable-toleration-seconds=${tolerations}`] : []),
      ...(options.apiServerArgs ?? []),
    ],
    controllerManagerArgs: [
      ...(grace ? [`--node-monitor-grace-period=${grace}`] : []),
      ...(period ? [`--node-monitor-period=${period}`] : []),
      ...hpaFlags,
      ...(options.controllerManagerArgs ?? []),
    ],
  });
  try {
    const configFile = path.join(cp.stateDir, 'node-side.json');
    await writeFile(configFile, JSON.stringify({
      api: { server: `https://${CONTROL_PLANE_NODE_IP}:6443`, caCertPem: cp.credentials.caCertPem, token: cp.credentials.admin.token },
      shape: { name, workers, zones },
      timings: Object.fromEntries(Object.entries(timings).filter(([, v]) => v !== undefined)),
      faultEndpointPort: NODE_FAULTS_PORT,
      // The API server does not verify kubelets here (no --kubelet-certificate-authority), as on kind.
      kubeletTls: { certPem: await readFile(cp.credentials.serverCert, 'utf8'), keyPem: await readFile(cp.credentials.serverKey, 'utf8') },
      // metrics-server's place: on the control-plane node's address, behind the APIServices.
      metricsServer: {
        address: CONTROL_PLANE_NODE_IP,
        port: METRICS_SERVER_PORT,
        ...(await createServingCertificate(cp.credentials, 'metrics-server', [METRICS_SERVICE_DNS], [CONTROL_PLANE_NODE_IP])),
        frontProxy: { clientCaPem: cp.credentials.frontProxy.caCertPem, allowedNames: [cp.credentials.frontProxy.clientName] },
      },
    }), { mode: 0o600 });
    const entry = nodeSideEntry();
    const log = path.join(cp.stateDir, 'logs', 'node-side.log');
    const nodeSide = new ComponentProcess('node-side', cp.network.execPrefix, entry.file, [...entry.args, configFile], log);
    let nodeSideExit: ComponentExit | undefined;
    void nodeSide.exited.then((e) => (nodeSideExit = e));
    const admin = adminCall(cp);
    // The controller-manager makes every namespace's default ServiceAccount a few seconds after it
    // starts, and until then pods cannot be created in it. Making the same object for `default`
    // now saves those seconds; the controller then finds it there (it makes the others itself).
    await admin('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'default' } }).catch((err: Error) => {
      if (!/HTTP 409/.test(err.message)) throw err;
    });
    progress(`  gameday's nodes joining: ${names.join(', ')}`);
    const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
    for (;;) {
      if (nodeSideExit) throw new HarnessError(`gameday's node side exited (${nodeSideExit.signal ?? `code ${nodeSideExit.code}`}) while starting; the end of ${log}:\n${await logTail(log)}`);
      const nodes = JSON.parse(await admin('GET', '/api/v1/nodes')) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] };
      const ready = new Set(nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name));
      // Pods can be created once the service-account controller has made the default account.
      const account = await admin('GET', '/api/v1/namespaces/default/serviceaccounts/default').then(() => true, () => false);
      if (account && names.every((n) => ready.has(n))) break;
      if (Date.now() > deadline) throw new HarnessError(`nodes not Ready after ${(options.startTimeoutMs ?? 90_000) / 1000} s: ${names.filter((n) => !ready.has(n)).join(', ')}; the end of ${log}:\n${await logTail(log)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    progress('  nodes Ready');
    await registerMetricsApis(admin, { address: CONTROL_PLANE_NODE_IP, nodeName: names[0]!, caCertPem: cp.credentials.caCertPem, timeoutMs: options.startTimeoutMs ?? 90_000 });
    progress('  metrics APIs Available (metrics.k8s.io, custom.metrics.k8s.io)');
    const forwards = await forwardHostPorts(options.hostPorts ?? [30080], cp.network.apiAddress, progress);
    const stopControlPlane = cp.stop;
    return {
      ...cp,
      nodeNames: names,
      nodeSideLog: log,
      crashed: Promise.race([cp.crashed, nodeSide.exited.then((e) => (nodeSide.stopRequested ? new Promise<never>(() => {}) : e))]),
      stop: async () => {
        for (const f of forwards) f.close();
        await nodeSide.stop(5000);
        await stopControlPlane();
      },
    };
  } catch (err) {
    await cp.stop();
    throw err;
  }
}

/** Admin calls to the API server (node and account set-up), throwing on anything but 2xx. */
function adminCall(cp: RealControlPlane): AdminCall {
  return async (method, apiPath, body) => {
    const r = await componentRequest(new URL(apiPath, cp.url).toString(), cp.credentials, method, body);
    if (r.status >= 300) throw new HarnessError(`${method} ${apiPath}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    return r.body;
  };
}

/** 127.0.0.1:<port> on the host, piped to the same port in the cluster's namespace (kind's extraPortMappings). */
async function forwardHostPorts(ports: readonly number[], inside: string, progress: (line: string) => void): Promise<Server[]> {
  const servers: Server[] = [];
  for (const port of ports) {
    const server = createServer((client) => {
      const upstream = connect(port, inside);
      client.pipe(upstream).pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) servers.push(server);
    else progress(`  warning: 127.0.0.1:${port} is taken on this host; NodePort ${port} is reachable only inside the cluster's namespace`);
  }
  return servers;
}
