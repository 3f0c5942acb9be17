import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../../core/errors.js';

export interface SimServeOptions {
  readonly nodes?: string;
  readonly zones?: string;
  readonly port?: string;
  readonly kubeconfig?: string;
}

/** `gameday sim serve`: the embedded cluster as a long-running server for kubectl and any client. */
export async function simServeCommand(options: SimServeOptions): Promise<number> {
  const workers = options.nodes === undefined ? 3 : Number(options.nodes);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1000) throw new UsageError(`--nodes ${options.nodes}: give a whole number of worker nodes from 1 to 1000`);
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${options.port}: give a TCP port from 0 to 65535`);
  const zones = options.zones ? options.zones.split(',').map((z) => z.trim()).filter(Boolean) : undefined;
  if (zones && zones.length === 0) throw new UsageError('--zones: give zone names separated by commas, like a,b,c');

  const { startEmbeddedCluster } = await import('../../sim/index.js');
  const cluster = await startEmbeddedCluster({ workers, zones, port });
  const kubeconfig = path.resolve(options.kubeconfig ?? path.join('reports', 'sim-kubeconfig.yaml'));
  await mkdir(path.dirname(kubeconfig), { recursive: true });
  await writeFile(kubeconfig, cluster.kubeconfigYaml(), { mode: 0o600 });
  process.stdout.write(
    [
      `embedded cluster "${cluster.name}" serving at ${cluster.url} (1 control plane, ${workers} worker${workers === 1 ? '' : 's'})`,
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
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stdout.write('stopping the embedded cluster…\n');
  await cluster.stop();
  return 0;
}
