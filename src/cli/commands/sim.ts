import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { UsageError, errorMessage } from '../../core/errors.js';
import { writeFileWhole } from '../../core/write-file-whole.js';
import type { ApiFaultSettings } from '../../sim/index.js';

export interface SimServeOptions {
  readonly nodes?: string;
  readonly zones?: string;
  readonly port?: string;
  readonly kubeconfig?: string;
  readonly controlPlane?: string;
  readonly networkPolicy?: string;
  readonly apiFaults?: string;
}

/** `gameday sim serve`: the embedded cluster as a long-running server for kubectl and any client. */
export async function simServeCommand(options: SimServeOptions): Promise<number> {
  const workers = options.nodes === undefined ? 3 : Number(options.nodes);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1000) throw new UsageError(`--nodes ${options.nodes}: give a whole number of worker nodes from 1 to 1000`);
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${options.port}: give a TCP port from 0 to 65535`);
  const zones = options.zones ? options.zones.split(',').map((z) => z.trim()).filter(Boolean) : undefined;
  if (zones && zones.length === 0) throw new UsageError('--zones: give zone names separated by commas, like a,b,c');

  if (options.controlPlane !== undefined && options.controlPlane !== 'embedded' && options.controlPlane !== 'real') {
    throw new UsageError(`--control-plane ${options.controlPlane}: give embedded (the default) or real`);
  }
  const networkPolicy = options.networkPolicy ?? 'enforce';
  if (networkPolicy !== 'enforce' && networkPolicy !== 'ignore') {
    throw new UsageError(`--network-policy ${networkPolicy}: give enforce (the default) or ignore (a cluster whose network does not enforce NetworkPolicy)`);
  }
  if (options.controlPlane === 'real') {
    if (options.apiFaults !== undefined) throw new UsageError('--api-faults is a setting of the embedded cluster\'s API server; the real control plane\'s kube-apiserver cannot be made to fail on purpose');
    if (networkPolicy === 'ignore') throw new UsageError('--network-policy ignore is a setting of the embedded cluster; the real control plane\'s nodes always enforce NetworkPolicy');
    return serveRealControlPlane(options, workers, zones);
  }

  const { startEmbeddedCluster, parseApiFaults, API_FAULT_KINDS } = await import('../../sim/index.js');
  let apiFaults: ApiFaultSettings | undefined;
  try {
    if (options.apiFaults !== undefined) apiFaults = parseApiFaults(options.apiFaults);
  } catch (err) {
    throw new UsageError(`--api-faults ${options.apiFaults}: ${errorMessage(err)}`);
  }
  const cluster = await startEmbeddedCluster({ workers, zones, port, networkPolicy, ...(apiFaults ? { apiFaults } : {}) });
  const kubeconfig = path.resolve(options.kubeconfig ?? path.join('reports', 'sim-kubeconfig.yaml'));
  await mkdir(path.dirname(kubeconfig), { recursive: true });
  await writeFileWhole(kubeconfig, cluster.kubeconfigYaml(), 0o600);
  process.stdout.write(
    [
      `embedded cluster "${cluster.name}" serving at ${cluster.url} (1 control plane, ${workers} worker${workers === 1 ? '' : 's'})`,
      ...(networkPolicy === 'ignore' ? ['NetworkPolicies are stored but NOT enforced (--network-policy ignore)'] : []),
      ...(apiFaults ? [`API faults: ${Math.round(apiFaults.rate * 1000) / 10}% of API requests fail as ${apiFaults.kinds.join(', ')} (seed ${apiFaults.seed}; replay with seed=${apiFaults.seed})`] : []),
      `kubeconfig written to ${kubeconfig} (context gameday-sim)`,
      '',
      `  export KUBECONFIG=${kubeconfig}`,
      '  kubectl get nodes',
      `  gameday run experiments/ --kubeconfig ${kubeconfig}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const why = await untilSignal();
  process.stdout.write(`stopping the embedded cluster${why === 'parent-exited' ? ' (the process that started it has exited)' : ''}…\n`);
  const counts = cluster.apiFaultCounts();
  if (counts) process.stdout.write(`API faults answered: ${API_FAULT_KINDS.map((kind) => `${kind} ${counts[kind]}`).join(', ')}\n`);
  await cluster.stop();
  return 0;
}

/** How often the server checks that whoever started it is still there. */
const PARENT_CHECK_MS = 500;

/**
 * Until SIGINT or SIGTERM, or until the process that started the server goes away: a wrapper
 * such as `npx` does not pass `kill $!` on to its child, which is then reparented, and a server
 * left running with nobody to stop it is worse than one that stops.
 */
function untilSignal(): Promise<NodeJS.Signals | 'parent-exited'> {
  const parent = process.ppid;
  return new Promise((resolve) => {
    const done = (why: NodeJS.Signals | 'parent-exited') => {
      clearInterval(watch);
      resolve(why);
    };
    const watch = setInterval(() => {
      if (process.ppid !== parent) done('parent-exited');
    }, PARENT_CHECK_MS).unref();
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
}

/** The same, with upstream Kubernetes as the control plane and gameday's nodes joined, in its own network namespace. */
async function serveRealControlPlane(options: SimServeOptions, workers: number, zones: string[] | undefined): Promise<number> {
  const { startRealCluster } = await import('../../control-plane/real-cluster.js');
  const progress = (line: string): void => void process.stderr.write(`${line}\n`);
  const cluster = await startRealCluster({ workers, ...(zones ? { zones } : {}), progress });
  const kubeconfig = path.resolve(options.kubeconfig ?? path.join('reports', 'sim-kubeconfig.yaml'));
  await cluster.writeKubeconfig(kubeconfig);
  process.stdout.write(
    [
      `real control plane serving at ${cluster.url} (etcd, kube-apiserver, kube-controller-manager, kube-scheduler from ${cluster.binaries.source})`,
      `gameday's nodes joined: ${cluster.nodeNames.join(', ')}`,
      `network namespace ${cluster.network.namespace}; logs in ${cluster.stateDir}/logs`,
      `kubeconfig written to ${kubeconfig} (context gameday-sim, user kubernetes-admin in system:masters)`,
      '',
      `  export KUBECONFIG=${kubeconfig}`,
      '  kubectl get nodes',
      `  gameday run experiments/ --kubeconfig ${kubeconfig}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const ended = await Promise.race([untilSignal(), cluster.crashed]);
  if (typeof ended !== 'string') process.stderr.write(`${ended.component} exited (${ended.signal ?? `code ${ended.code}`}); see ${ended.logFile}\n`);
  process.stdout.write('stopping the real control plane…\n');
  await cluster.stop();
  return typeof ended === 'string' ? 0 : 4;
}
