import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { eventually } from './eventually.js';
import { freePort } from './free-port.js';

/** Debian's `prometheus` package puts the server here (.ci/run installs it). */
const DEBIAN_BINARY = '/usr/bin/prometheus';

/** The server binary: `$PROMETHEUS_BIN`, else Debian's, else undefined. */
export function prometheusBinary(): string | undefined {
  return executable(process.env.PROMETHEUS_BIN, DEBIAN_BINARY);
}

/** `promtool`, which ships beside the server: the one next to it, else undefined. */
export function promtoolBinary(): string | undefined {
  const server = prometheusBinary();
  return server ? executable(path.join(path.dirname(server), 'promtool')) : undefined;
}

function executable(...candidates: (string | undefined)[]): string | undefined {
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Why a real Prometheus cannot run here, or undefined. Locally a missing server only skips the
 * tests that need it; in CI, where .ci/run installs it, it is a failure.
 */
export function prometheusUnavailable(): string | undefined {
  const why = prometheusBinary() && promtoolBinary() ? undefined : `no Prometheus server and promtool at ${DEBIAN_BINARY} or $PROMETHEUS_BIN (apt-get install prometheus)`;
  if (why && process.env.CI === 'true') throw new Error(`the real Prometheus must run in CI: ${why}`);
  return why;
}

export interface PrometheusOptions {
  /** `scrape_configs` entries, as Prometheus's configuration file writes them. */
  readonly scrapeConfigs: readonly object[];
  /** @default 1s */
  readonly scrapeInterval?: string;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>`, its HTTP API and UI. */
  readonly url: string;
  /** What it wrote to stderr so far: its log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts the real Prometheus server as a child process with a generated configuration, its TSDB
 * in a temporary directory, listening on a free loopback port; resolves once `/-/ready` answers.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const binary = prometheusBinary();
  if (!binary) throw new Error(prometheusUnavailable() ?? 'no Prometheus server');
  const dir = mkdtempSync(path.join(tmpdir(), 'gameday-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  const interval = options.scrapeInterval ?? '1s';
  writeFileSync(config, stringify({ global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval }, scrape_configs: options.scrapeConfigs }));
  // Prometheus takes a fixed address: pick a free port, then hand it over.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = eventually(`Prometheus at ${url} to answer /-/ready`, async () => (await fetch(`${url}/-/ready`)).status === 200, 15_000);
  const diedEarly = exited.then(() => {
    throw new Error(`prometheus exited before it was ready (status ${child.exitCode ?? child.signalCode}):\n${stderr}`);
  });
  try {
    await Promise.race([ready, diedEarly]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    diedEarly.catch(() => undefined);
  }
  return { url, log: () => stderr, stop };
}

/** How Prometheus proves itself to an API server that wants it (the real control plane's). */
export interface ApiServerAuth {
  /** A bearer token allowed to `get pods/proxy`. */
  readonly token: string;
  /** The cluster's CA certificate, a PEM file. */
  readonly caFile: string;
}

export interface PodTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
}

/**
 * A scrape job for the given pods through the API server's pod proxy,
 * `/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/metrics`: the one path from outside a cluster
 * to every pod, on any cluster. Each series gets `namespace` and `pod` labels. The pods are listed
 * by hand because Debian builds Prometheus without Kubernetes service discovery.
 */
export function podsThroughApiServer(job: string, apiServer: string, pods: readonly PodTarget[], auth?: ApiServerAuth): object {
  const api = new URL(apiServer);
  return {
    job_name: job,
    scheme: api.protocol.replace(':', ''),
    ...(auth ? { authorization: { credentials: auth.token }, tls_config: { ca_file: auth.caFile } } : {}),
    static_configs: pods.map((p) => ({
      targets: [api.host],
      labels: { __metrics_path__: `/api/v1/namespaces/${p.namespace}/pods/${p.name}:${p.port}/proxy/metrics`, namespace: p.namespace, pod: p.name },
    })),
  };
}
