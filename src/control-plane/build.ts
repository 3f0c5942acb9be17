import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessError, UsageError } from '../core/errors.js';
import { COMPONENTS, CONTROL_PLANE_VERSION, ETCD_TOOLS } from './components.js';
import { cacheDirectory, etcdToolsDirectory } from './locate.js';

/** The Go module (control-plane/ at the package root) that pins k8s.io/kubernetes and etcd. */
export const GO_MODULE_DIR = fileURLToPath(new URL('../../control-plane/', import.meta.url));

/** Measured on a 2-core machine with empty Go caches: module download plus compile and link. */
export const COLD_BUILD_ESTIMATE = 'about 12 minutes on 2 cores with empty Go caches (measured: 11 min 11 s), a minute or two when Go\'s build cache is warm';

export interface BuildOptions {
  /** @default CONTROL_PLANE_VERSION */
  readonly version?: string;
  /** Rebuild even when the cache holds a finished build. @default false */
  readonly force?: boolean;
  /** Progress lines for a person watching. @default nothing */
  readonly progress?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

export interface BuildResult {
  readonly directory: string;
  readonly reused: boolean;
  readonly seconds: number;
}

interface BuildRecord {
  readonly version: string;
  readonly go: string;
  readonly seconds: number;
  readonly builtAt: string;
}

const RECORD = 'build.json';

/**
 * Builds kube-apiserver, kube-controller-manager, kube-scheduler and etcd into the cache. A
 * finished build is recorded last, so a build cut short is never mistaken for one.
 */
export async function buildControlPlane(options: BuildOptions = {}): Promise<BuildResult> {
  const version = options.version ?? CONTROL_PLANE_VERSION;
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((): void => {});
  if (version !== CONTROL_PLANE_VERSION) {
    // The Go module pins one version with its replace directives; another needs its own module.
    throw new UsageError(`--version ${version}: this gameday builds Kubernetes ${CONTROL_PLANE_VERSION} only (control-plane/go.mod pins it); leave --version out, or use binaries you have through $GAMEDAY_CONTROL_PLANE_DIR`);
  }
  const directory = cacheDirectory(version, env);
  if (!options.force && (await finishedBuild(directory))) {
    progress(`Kubernetes ${version} control plane already built in ${directory}`);
    await buildEtcdTools(options);
    return { directory, reused: true, seconds: 0 };
  }
  const go = await goVersion(env);
  progress(`building Kubernetes ${version} (kube-apiserver, kube-controller-manager, kube-scheduler) and etcd with ${go}: ${COLD_BUILD_ESTIMATE}`);
  const partial = `${directory}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const started = Date.now();
  const ticker = setInterval(() => progress(`  still building… ${Math.round((Date.now() - started) / 60_000)} min`), 60_000);
  try {
    await runGo(buildArguments(version, partial), env);
  } finally {
    clearInterval(ticker);
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const record: BuildRecord = { version, go, seconds, builtAt: new Date().toISOString() };
  await writeFile(path.join(partial, RECORD), `${JSON.stringify(record, null, 2)}\n`);
  await rm(directory, { recursive: true, force: true });
  await rename(partial, directory);
  progress(`built in ${formatSeconds(seconds)}: ${directory}`);
  await buildEtcdTools(options);
  return { directory, reused: false, seconds };
}

/**
 * Builds etcdctl and etcdutl from the same Go module, so they are the etcd release the control
 * plane's etcd is (go.etcd.io/etcd v3.6.x); about 30 s once the control plane's build has warmed
 * Go's caches. Recorded last, like the control plane's build.
 */
export async function buildEtcdTools(options: BuildOptions = {}): Promise<BuildResult> {
  const version = options.version ?? CONTROL_PLANE_VERSION;
  const env = options.env ?? process.env;
  const progress = options.progress ?? ((): void => {});
  const directory = etcdToolsDirectory(version, env);
  if (!options.force && (await finishedTools(directory, version))) {
    progress(`etcdctl and etcdutl already built in ${directory}`);
    return { directory, reused: true, seconds: 0 };
  }
  const go = await goVersion(env);
  progress(`building etcdctl and etcdutl with ${go}`);
  const partial = `${directory}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const started = Date.now();
  await runGo(['build', '-trimpath', '-ldflags', '-s -w', '-o', `${partial}${path.sep}`, ...ETCD_TOOLS.map((t) => `go.etcd.io/etcd/${t}/v3`)], env);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const record: BuildRecord = { version, go, seconds, builtAt: new Date().toISOString() };
  await writeFile(path.join(partial, RECORD), `${JSON.stringify(record, null, 2)}\n`);
  await rm(directory, { recursive: true, force: true });
  await rename(partial, directory);
  progress(`etcdctl and etcdutl built in ${formatSeconds(seconds)}: ${directory}`);
  return { directory, reused: false, seconds };
}

async function finishedTools(directory: string, version: string): Promise<boolean> {
  if (!ETCD_TOOLS.every((t) => existsSync(path.join(directory, t)))) return false;
  try {
    return (JSON.parse(await readFile(path.join(directory, RECORD), 'utf8')) as BuildRecord).version === version;
  } catch {
    return false;
  }
}

export function buildArguments(version: string, outDir: string): string[] {
  const minor = /^v1\.(\d+)\./.exec(version)?.[1] ?? '';
  // kube-apiserver reports this version at /version; kubectl's skew warnings and the
  // controllers' feature gates read it, so a build without it claims to be v0.0.0-master.
  const ldflags = [
    '-s',
    '-w',
    `-X k8s.io/component-base/version.gitVersion=${version}`,
    '-X k8s.io/component-base/version.gitMajor=1',
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
  ].join(' ');
  return [
    'build',
    '-trimpath',
    '-ldflags',
    ldflags,
    '-o',
    `${outDir}${path.sep}`,
    './cmd/etcd',
    ...COMPONENTS.filter((c) => c !== 'etcd').map((c) => `k8s.io/kubernetes/cmd/${c}`),
  ];
}

async function finishedBuild(directory: string): Promise<boolean> {
  if (!COMPONENTS.every((c) => existsSync(path.join(directory, c)))) return false;
  try {
    const record = JSON.parse(await readFile(path.join(directory, RECORD), 'utf8')) as BuildRecord;
    return record.version === path.basename(directory);
  } catch {
    return false;
  }
}

async function goVersion(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const out = await runGo(['version'], env);
    return out.trim().replace(/^go version /, '');
  } catch (err) {
    if (err instanceof GoMissingError) throw new UsageError('`gameday control-plane build` needs Go ≥ 1.24 on PATH (https://go.dev/dl, or `apt-get install golang-go` where it is new enough)');
    throw err;
  }
}

class GoMissingError extends Error {}

function runGo(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    // GOTOOLCHAIN=local: never fetch another Go toolchain behind the user's back.
    const child = spawn('go', args, { cwd: GO_MODULE_DIR, env: { ...env, GOTOOLCHAIN: env.GOTOOLCHAIN ?? 'local', GOFLAGS: env.GOFLAGS ?? '-mod=readonly' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new GoMissingError('go not found') : e));
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new HarnessError(`\`go ${args[0]}\` in ${GO_MODULE_DIR} exited ${code}:\n${err.trim().split('\n').slice(-20).join('\n')}`));
    });
  });
}

function formatSeconds(s: number): string {
  return s >= 120 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s} s`;
}
