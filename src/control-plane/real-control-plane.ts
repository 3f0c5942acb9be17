import { request } from 'node:https';
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HarnessError } from '../core/errors.js';
import { writeFileWhole } from '../core/write-file-whole.js';
import type { ControlPlaneBinaries, EtcdTools } from './components.js';
import { ComponentProcess, logTail, type ComponentExit } from './component-process.js';
import { CONTROL_PLANE_NODE_IP, createClusterNetwork, ownerAlive, POD_RANGE, SERVICE_RANGE, sweepStaleNetworks, type ClusterNetwork } from './cluster-network.js';
import { createCredentials, tokenKubeconfig, type Credentials, type TokenUser } from './credentials.js';
import { locateControlPlane } from './locate.js';

export interface RealControlPlaneOptions {
  /** @default locateControlPlane() */
  readonly binaries?: ControlPlaneBinaries;
  /** Names of the nodes that will join; each gets a `system:node:<name>` token. @default kind's three-node names */
  readonly nodeNames?: readonly string[];
  readonly progress?: (line: string) => void;
  /** Give up waiting for a component after this long. @default 90 s */
  readonly startTimeoutMs?: number;
  /** Flags added to kube-apiserver's own, e.g. to shrink its watch cache or compaction interval. @default none */
  readonly apiServerArgs?: readonly string[];
  /** Flags added to kube-controller-manager's own, e.g. a shorter node-monitor-grace-period. @default none */
  readonly controllerManagerArgs?: readonly string[];
  /** Keep the state directory (logs, etcd data, certificates) after stop. @default false */
  readonly keepState?: boolean;
}

export interface RealControlPlane {
  /** `https://<namespace address>:6443`, reachable from the host. */
  readonly url: string;
  readonly network: ClusterNetwork;
  readonly credentials: Credentials;
  readonly binaries: ControlPlaneBinaries;
  readonly stateDir: string;
  /** Resolves when a component exits without being asked to. */
  readonly crashed: Promise<ComponentExit>;
  /** A kubeconfig (context `gameday-sim`) for `user`, by default the cluster admin. */
  kubeconfigYaml(user?: TokenUser): string;
  writeKubeconfig(file: string, user?: TokenUser): Promise<void>;
  /** `etcdctl snapshot save` inside the cluster's namespace: etcd's whole keyspace at one revision, into `file`. */
  saveEtcdSnapshot(file: string, tools: EtcdTools): Promise<void>;
  /**
   * Disaster recovery as etcd's and Kubernetes' docs give it: the API server and etcd stopped, the
   * snapshot restored into a fresh data directory (`etcdutl snapshot restore`, the revision bumped
   * and marked compacted so every watcher relists instead of waiting for revisions that will not
   * come), etcd and the API server started on it. Resolves once /readyz answers ok; the controllers
   * and nodes, which kept running, reconnect on their own.
   */
  restoreEtcdSnapshot(file: string, tools: EtcdTools): Promise<{ readonly dataDir: string }>;
  /** Stops every component, removes the namespace and its veth pair; safe to call twice. */
  stop(): Promise<void>;
}


const API_PORT = 6443;
const STATE_PREFIX = 'gameday-cp-';
const DEFAULT_NODES = ['gameday-control-plane', 'gameday-worker', 'gameday-worker2', 'gameday-worker3'];
const ETCD_CLIENT_URL = 'http://127.0.0.1:2379';
const ETCD_PEER_URL = 'http://127.0.0.1:2380';
/** How long the API server may take to exit before a restore kills it. */
const RESTORE_STOP_GRACE_MS = 1000;
/** What Kubernetes' etcd restore guide suggests: far beyond any revision a watcher may hold. */
const RESTORE_REVISION_BUMP = 1_000_000_000;

/**
 * Upstream etcd, kube-apiserver, kube-controller-manager and kube-scheduler as child processes in
 * a network namespace of their own, configured as kubeadm would: TLS, the Node and RBAC
 * authorizers, NodeRestriction and Pod Security admission, service-account tokens.
 */
export async function startRealControlPlane(options: RealControlPlaneOptions = {}): Promise<RealControlPlane> {
  const binaries = options.binaries ?? locateControlPlane();
  const progress = options.progress ?? ((): void => {});
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  await sweepLeftovers();
  const stateDir = await mkdtemp(path.join(tmpdir(), `${STATE_PREFIX}${process.pid}-`));
  const dir = (name: string): string => path.join(stateDir, name);
  await Promise.all(['pki', 'etcd', 'logs'].map((d) => mkdir(dir(d), { recursive: true })));

  const network = await createClusterNetwork();
  const processes: ComponentProcess[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const p of [...processes].reverse()) await p.stop();
    await network.destroy();
    if (!options.keepState) await rm(stateDir, { recursive: true, force: true });
  };

  let crashedResolve: (e: ComponentExit) => void = () => {};
  const crashed = new Promise<ComponentExit>((resolve) => (crashedResolve = resolve));
  const launch = (name: keyof ControlPlaneBinaries['paths'], args: string[]): ComponentProcess => {
    const p = new ComponentProcess(name, network.execPrefix, binaries.paths[name], args, dir(`logs/${name}.log`));
    processes.push(p);
    void p.exited.then((exit) => {
      if (!p.stopRequested) crashedResolve(exit);
    });
    return p;
  };

  try {
    const credentials = await createCredentials({ dir: dir('pki'), serverIPs: [network.apiAddress, CONTROL_PLANE_NODE_IP, '10.96.0.1'], nodeNames: options.nodeNames ?? DEFAULT_NODES });
    const inside = `https://127.0.0.1:${API_PORT}`;
    for (const [name, user] of [['controller-manager', credentials.controllerManager], ['scheduler', credentials.scheduler]] as const) {
      await writeFile(dir(`${name}.kubeconfig`), tokenKubeconfig({ server: inside, caCertPem: credentials.caCertPem, user, context: name }), { mode: 0o600 });
    }

    progress(`starting the real control plane (Kubernetes from ${binaries.source}) in network namespace ${network.namespace}`);
    const etcdArgs = (dataDir: string): string[] => [
      '--name=gameday', `--data-dir=${dataDir}`,
      `--listen-client-urls=${ETCD_CLIENT_URL}`, `--advertise-client-urls=${ETCD_CLIENT_URL}`,
      `--listen-peer-urls=${ETCD_PEER_URL}`, `--initial-advertise-peer-urls=${ETCD_PEER_URL}`,
      `--initial-cluster=gameday=${ETCD_PEER_URL}`, '--listen-metrics-urls=http://127.0.0.1:2381',
      // A throwaway cluster: durability across power loss is not worth the fsync latency.
      '--unsafe-no-fsync', '--log-level=warn',
    ];
    let etcd = launch('etcd', etcdArgs(dir('etcd')));
    const apiServerArgs = [
      `--etcd-servers=${ETCD_CLIENT_URL}`,
      '--bind-address=0.0.0.0', `--secure-port=${API_PORT}`, `--advertise-address=${CONTROL_PLANE_NODE_IP}`,
      `--service-cluster-ip-range=${SERVICE_RANGE}`,
      `--tls-cert-file=${credentials.serverCert}`, `--tls-private-key-file=${credentials.serverKey}`,
      `--client-ca-file=${credentials.caCert}`, `--token-auth-file=${credentials.tokenFile}`,
      '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${credentials.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${credentials.serviceAccountKey}`,
      '--kubelet-preferred-address-types=InternalIP',
      // The aggregation layer, as kubeadm sets it up: the API server proxies to aggregated API
      // servers (gameday's metrics APIs) with the front proxy's client certificate and the
      // caller in X-Remote-* headers, straight to the Service's endpoint address.
      `--requestheader-client-ca-file=${credentials.frontProxy.caCert}`,
      `--requestheader-allowed-names=${credentials.frontProxy.clientName}`,
      '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${credentials.frontProxy.clientCert}`, `--proxy-client-key-file=${credentials.frontProxy.clientKey}`,
      '--enable-aggregator-routing=true',
      '--profiling=false', '--v=1',
      ...(options.apiServerArgs ?? []),
    ];
    let apiserver = launch('kube-apiserver', apiServerArgs);
    const url = `https://${network.apiAddress}:${API_PORT}`;
    await waitHealthy(url, '/readyz', credentials, [etcd, apiserver], timeoutMs);
    progress(`  kube-apiserver ready at ${url}`);

    const kcm = launch('kube-controller-manager', [
      `--kubeconfig=${dir('controller-manager.kubeconfig')}`,
      `--authentication-kubeconfig=${dir('controller-manager.kubeconfig')}`,
      `--authorization-kubeconfig=${dir('controller-manager.kubeconfig')}`,
      `--bind-address=${network.apiAddress}`, '--secure-port=10257',
      '--leader-elect=false', '--use-service-account-credentials=true',
      `--service-account-private-key-file=${credentials.serviceAccountKey}`, `--root-ca-file=${credentials.caCert}`,
      '--allocate-node-cidrs=true', `--cluster-cidr=${POD_RANGE}`, `--service-cluster-ip-range=${SERVICE_RANGE}`,
      '--profiling=false', '--v=1',
      ...(options.controllerManagerArgs ?? []),
    ]);
    const scheduler = launch('kube-scheduler', [
      `--kubeconfig=${dir('scheduler.kubeconfig')}`,
      `--authentication-kubeconfig=${dir('scheduler.kubeconfig')}`,
      `--authorization-kubeconfig=${dir('scheduler.kubeconfig')}`,
      `--bind-address=${network.apiAddress}`, '--secure-port=10259',
      '--leader-elect=false', '--profiling=false', '--v=1',
    ]);
    await Promise.all([
      waitHealthy(`https://${network.apiAddress}:10257`, '/healthz', undefined, [kcm], timeoutMs),
      waitHealthy(`https://${network.apiAddress}:10259`, '/healthz', undefined, [scheduler], timeoutMs),
    ]);
    progress('  kube-controller-manager and kube-scheduler healthy');

    const kubeconfigYaml = (user: TokenUser = credentials.admin): string => tokenKubeconfig({ server: url, caCertPem: credentials.caCertPem, user });
    let restores = 0;
    return {
      async saveEtcdSnapshot(file, tools) {
        const r = await execa(network.execPrefix[0]!, [...network.execPrefix.slice(1), tools.etcdctl, `--endpoints=${ETCD_CLIENT_URL}`, 'snapshot', 'save', file], { reject: false, all: true });
        if (r.exitCode !== 0) throw new HarnessError(`etcdctl snapshot save ${file} exited ${r.exitCode}: ${r.all?.trim()}`);
      },
      async restoreEtcdSnapshot(file, tools) {
        const dataDir = dir(`etcd-restored-${++restores}`);
        // Its graceful shutdown would drain requests into an etcd about to be replaced, which here
        // took the whole 10 s grace (measured): the restore starts by taking the API server down.
        await apiserver.stop(RESTORE_STOP_GRACE_MS);
        await etcd.stop();
        const r = await execa(tools.etcdutl, [
          'snapshot', 'restore', file, `--data-dir=${dataDir}`, '--name=gameday',
          `--initial-cluster=gameday=${ETCD_PEER_URL}`, `--initial-advertise-peer-urls=${ETCD_PEER_URL}`,
          `--bump-revision=${RESTORE_REVISION_BUMP}`, '--mark-compacted',
        ], { reject: false, all: true });
        if (r.exitCode !== 0) throw new HarnessError(`etcdutl snapshot restore ${file} exited ${r.exitCode}: ${r.all?.trim()}`);
        etcd = launch('etcd', etcdArgs(dataDir));
        apiserver = launch('kube-apiserver', apiServerArgs);
        await waitHealthy(url, '/readyz', credentials, [etcd, apiserver], timeoutMs);
        return { dataDir };
      },
      url,
      network,
      credentials,
      binaries,
      stateDir,
      crashed,
      kubeconfigYaml,
      writeKubeconfig: async (file, user) => {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFileWhole(file, kubeconfigYaml(user), 0o600);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Polls `path` until it answers 200. A component that exits first fails the start with the tail
 * of its log, which is where etcd and the API server say why.
 */
async function waitHealthy(base: string, endpoint: string, credentials: Credentials | undefined, watched: readonly ComponentProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  const exit = Promise.race(watched.map((p) => p.exited));
  let exited: ComponentExit | undefined;
  void exit.then((e) => (exited = e));
  while (Date.now() < deadline) {
    if (exited) {
      throw new HarnessError(`${exited.component} exited (${exited.signal ?? `code ${exited.code}`}) while starting; the end of ${exited.logFile}:\n${await logTail(exited.logFile)}`);
    }
    last = await componentRequest(`${base}${endpoint}`, credentials).then(
      (r) => (r.status === 200 ? r.body.trim() : `HTTP ${r.status}: ${r.body.trim().slice(0, 200)}`),
      (err: Error) => err.message,
    );
    if (last === 'ok') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const logs = await Promise.all(watched.map(async (p) => `  ${p.component} (${p.logFile}):\n${await logTail(p.logFile)}`));
  throw new HarnessError(`${base}${endpoint} was not healthy after ${timeoutMs / 1000} s (last answer: ${last});\n${logs.join('\n')}`);
}

/**
 * One request to a component, as the cluster admin when `credentials` are given (verifying the
 * cluster's CA), else anonymously and unverified (a health check before anything is trusted).
 */
export function componentRequest(url: string, credentials: Credentials | undefined, method = 'GET', body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        timeout: 2000,
        // Before the API server is trusted there is nothing to protect; its CA is ours anyway.
        ...(credentials
          ? { ca: credentials.caCertPem, headers: { authorization: `Bearer ${credentials.admin.token}`, ...(payload ? { 'content-type': 'application/json' } : {}) } }
          : { rejectUnauthorized: false }),
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}


/**
 * What a gameday killed outright left behind: its namespace (its components died with it) and its
 * state directory. Only leftovers of processes that no longer run are touched.
 */
export async function sweepLeftovers(): Promise<string[]> {
  const removed = await sweepStaleNetworks();
  for (const entry of await readdir(tmpdir())) {
    const owner = new RegExp(`^${STATE_PREFIX}(\\d+)-`).exec(entry)?.[1];
    if (owner === undefined || ownerAlive(Number(owner))) continue;
    await rm(path.join(tmpdir(), entry), { recursive: true, force: true });
    removed.push(path.join(tmpdir(), entry));
  }
  return removed;
}
