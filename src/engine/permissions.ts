import type { KubernetesObject } from '@kubernetes/client-node';
import path from 'node:path';
import { faultEventPermissions } from '../cluster/fault-events.js';
import type { Permission } from '../cluster/rbac.js';
import { RUN_LOCK_PERMISSIONS, STOP_PERMISSIONS } from '../cluster/run-lock.js';
import { snapshotPermissions } from '../cluster/snapshot-read.js';
import { workloadNeeds } from '../cluster/workloads.js';
import type { Registry } from '../core/registry.js';
import { needsNodeAccess, type FaultPlugin } from '../faults/fault.js';
import { nodeAccessPermissions } from '../nodes/choose-node-access.js';
import { LEFTOVER_HELPER_POD_PERMISSIONS } from '../nodes/pod-node-access.js';
import { implicitProbes } from '../plan/implicit-probes.js';
import { experimentScope, podNamespaceOf } from '../plan/scope.js';
import { applyStepPermissions, stepPermissions } from './drill-steps.js';
import type { ProbePlugin } from '../probes/probe.js';
import type { ExperimentSpec } from '../spec/model.js';
import { clusterWatchPermissions } from './cluster-watch.js';

export interface RunPermissionOptions {
  readonly registries: { readonly faults: Registry<FaultPlugin>; readonly probes: Registry<ProbePlugin> };
  /** How the run will reach inside nodes; node-level faults bring this provider's permissions. */
  readonly nodeAccess: 'kind' | 'pod' | 'sim' | 'none';
}

export interface RunNeeds {
  readonly permissions: readonly Permission[];
  /** The Namespaces the experiments' workloads declare (see workloadNeeds). */
  readonly namespaces: readonly KubernetesObject[];
  /** What the permissions cannot make work, for the person reading them. */
  readonly notes: readonly string[];
}

/**
 * What `gameday stop` and `gameday recover` do besides a run's own steps: stop patches the lock;
 * recover reverts the run's faults (their permissions are the run's), releases the lock (the
 * run's too) and looks for leftover helper pods in their namespace.
 */
const STOP_AND_RECOVER_PERMISSIONS: readonly Permission[] = [...STOP_PERMISSIONS, ...LEFTOVER_HELPER_POD_PERMISSIONS];

/**
 * Everything a `gameday run` of these experiments does through the Kubernetes API, as
 * permissions: the engine's own steps (the run lock, the plan's snapshot and the cluster watch
 * within the experiment's namespace scope, the workloads, an Event per fault step), and what each fault and probe declares for its params,
 * implicit probes (`pdb(shop/web) holds`) included, with node access for node-level faults; and
 * what `gameday stop` and `gameday recover` of such a run do.
 */
export async function runNeeds(specs: readonly ExperimentSpec[], options: RunPermissionOptions): Promise<RunNeeds> {
  const permissions: Permission[] = [...RUN_LOCK_PERMISSIONS, ...STOP_AND_RECOVER_PERMISSIONS];
  const namespaces = new Map<string, KubernetesObject>();
  const notes: string[] = [];
  for (const spec of specs) {
    const scope = await experimentScope(spec, options.registries.probes);
    permissions.push(...snapshotPermissions(scope), ...clusterWatchPermissions(scope));
    const workloads = await workloadNeeds(spec.workloads);
    permissions.push(...workloads.permissions);
    for (const ns of workloads.namespaces) if (!namespaces.has(ns.metadata!.name!)) namespaces.set(ns.metadata!.name!, ns);
    for (const fault of spec.faults) {
      const plugin = options.registries.faults.get(fault.kind);
      if (!plugin) continue;
      permissions.push(...(plugin.permissions?.(fault.params) ?? []), ...faultEventPermissions(podNamespaceOf(fault)));
      if (!needsNodeAccess(plugin, fault.params)) continue;
      if (options.nodeAccess === 'none') notes.push(`${spec.name}: ${fault.name} (${fault.kind}) needs node access, and a run with --node-access none refuses it`);
      else permissions.push(...nodeAccessPermissions(options.nodeAccess));
    }
    for (const step of spec.steps) permissions.push(...stepPermissions(step), ...(await applyStepPermissions(step, spec.dir)));
    for (const probe of [...spec.probes, ...implicitProbes(spec, options.registries.probes)]) {
      permissions.push(...(options.registries.probes.get(probe.kind)?.permissions?.(probe.params, path.dirname(spec.file)) ?? []));
    }
  }
  return { permissions, namespaces: [...namespaces.values()], notes: [...new Set(notes)] };
}
