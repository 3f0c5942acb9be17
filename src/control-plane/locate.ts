import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import { COMPONENTS, CONTROL_PLANE_VERSION, ETCD_TOOLS, type Component, type ControlPlaneBinaries, type EtcdTools } from './components.js';

/** Where `gameday control-plane build` keeps one version's binaries. */
export function cacheDirectory(version: string = CONTROL_PLANE_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.GAMEDAY_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'gameday');
  return path.join(base, 'control-plane', version);
}

/** Beside the control plane's build, not in it, so that a cache built before the tools existed stays valid. */
export function etcdToolsDirectory(version: string = CONTROL_PLANE_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  return `${cacheDirectory(version, env)}-etcd-tools`;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function inDirectory(dir: string): Partial<Record<Component, string>> {
  const found: Partial<Record<Component, string>> = {};
  for (const c of COMPONENTS) {
    const file = path.join(dir, c);
    if (executable(file)) found[c] = file;
  }
  return found;
}

function onPath(env: NodeJS.ProcessEnv): Partial<Record<Component, string>> {
  const found: Partial<Record<Component, string>> = {};
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const [c, file] of Object.entries(inDirectory(dir)) as [Component, string][]) found[c] ??= file;
  }
  return found;
}

function missing(found: Partial<Record<Component, string>>): Component[] {
  return COMPONENTS.filter((c) => !found[c]);
}

function complete(source: string, found: Partial<Record<Component, string>>): ControlPlaneBinaries | undefined {
  return missing(found).length === 0 ? { source, paths: found as Record<Component, string> } : undefined;
}

const HOW_TO_GET = `run \`gameday control-plane build\` (needs Go ≥ 1.24 and the Go module proxy; about 12 minutes cold on 2 cores), or point $GAMEDAY_CONTROL_PLANE_DIR at a directory holding ${COMPONENTS.join(', ')}`;

/**
 * Finds the real control plane's binaries, in the documented order: `$GAMEDAY_CONTROL_PLANE_DIR`,
 * `$KUBEBUILDER_ASSETS` (envtest's convention), gameday's build cache, then PATH. A directory
 * named explicitly must be complete: silently mixing binaries from two places would test a
 * Kubernetes nobody runs.
 */
export function locateControlPlane(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries {
  const explicit = env.GAMEDAY_CONTROL_PLANE_DIR;
  if (explicit) {
    const found = inDirectory(explicit);
    return complete(`$GAMEDAY_CONTROL_PLANE_DIR (${explicit})`, found) ?? fail(`$GAMEDAY_CONTROL_PLANE_DIR is ${explicit}, which lacks ${missing(found).join(', ')}`);
  }
  const assets = env.KUBEBUILDER_ASSETS;
  if (assets) {
    const found = inDirectory(assets);
    const result = complete(`$KUBEBUILDER_ASSETS (${assets})`, found);
    if (result) return result;
    // envtest ships kube-apiserver and etcd only: say what a full cluster still needs.
    return fail(`$KUBEBUILDER_ASSETS is ${assets}, which has ${COMPONENTS.filter((c) => found[c]).join(', ') || 'none of the binaries'} but lacks ${missing(found).join(', ')} (envtest ships no controller-manager or scheduler)`);
  }
  const cached = complete(`gameday's build cache (${cacheDirectory(undefined, env)})`, inDirectory(cacheDirectory(undefined, env)));
  if (cached) return cached;
  const fromPath = complete('PATH', onPath(env));
  if (fromPath) return fromPath;
  return fail(`the real control plane's binaries were not found (looked in $GAMEDAY_CONTROL_PLANE_DIR, $KUBEBUILDER_ASSETS, ${cacheDirectory(undefined, env)} and PATH)`);
}

function fail(what: string): never {
  throw new ControlPlaneMissingError(`${what}; ${HOW_TO_GET}`);
}

/** The binaries are not here: a usage problem the user fixes by building or pointing at them. */
export class ControlPlaneMissingError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'ControlPlaneMissingError';
  }
}

/** Undefined when the binaries are here, else why not (for tests that skip). */
export function controlPlaneUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    locateControlPlane(env);
    return undefined;
  } catch (err) {
    if (err instanceof ControlPlaneMissingError) return err.message;
    throw err;
  }
}

/** etcdctl and etcdutl: `$GAMEDAY_ETCD_TOOLS_DIR`, gameday's build cache (built with the control plane), or PATH. */
export function locateEtcdTools(env: NodeJS.ProcessEnv = process.env): EtcdTools {
  const dirs = [env.GAMEDAY_ETCD_TOOLS_DIR, etcdToolsDirectory(undefined, env), ...(env.PATH ?? '').split(path.delimiter)].filter((d): d is string => !!d);
  const find = (tool: string): string | undefined => dirs.map((d) => path.join(d, tool)).find(executable);
  const [etcdctl, etcdutl] = ETCD_TOOLS.map(find);
  if (!etcdctl || !etcdutl) {
    throw new UsageError(`the etcd snapshot drill needs etcdctl and etcdutl (looked in $GAMEDAY_ETCD_TOOLS_DIR, ${etcdToolsDirectory(undefined, env)} and PATH); \`gameday control-plane build\` builds them`);
  }
  return { etcdctl, etcdutl };
}
