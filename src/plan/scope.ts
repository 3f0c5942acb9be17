import path from 'node:path';
import { everyNamespace, inNamespaces, type NamespaceScope } from '../cluster/namespace-scope.js';
import type { Permission } from '../cluster/rbac.js';
import { workloadNeeds } from '../cluster/workloads.js';
import type { Registry } from '../core/registry.js';
import type { ProbePlugin } from '../probes/probe.js';
import type { ExperimentSpec, FaultSpec, StepSpec } from '../spec/model.js';
import type { ApplyParams, DeleteParams, ExecParams, RolloutRestartParams, ScaleParams } from '../spec/step-schema.js';
import { implicitProbes } from './implicit-probes.js';

/** Why a fault on nodes widens the scope; one sentence for every kind, so merged roles say it once. */
const NODE_FAULT = 'a fault acts on nodes, and the pods on a node may be in any namespace';

/**
 * The namespaces a run of this experiment reads pods (for the plan) and Warning Events (for the
 * cluster watch) in, the one answer both the run and `gameday rbac` use. Every namespace as soon
 * as a fault acts on nodes, since whatever runs on a node may be in any namespace (kubectl drain
 * lists the node's pods in all of them). Otherwise the namespaces the experiment names: its pod
 * faults' `pods.namespace`, where its probes and checks act (the namespaces their permissions
 * name: `shop` for `service: shop/web:80` or `ready(deployment/shop/web)`), its workloads' and
 * its steps' objects. Reads the workload and apply-step files, nothing of the cluster.
 */
export async function experimentScope(spec: ExperimentSpec, probes: Registry<ProbePlugin>): Promise<NamespaceScope> {
  const namespaces: string[] = [];
  for (const fault of spec.faults) {
    const namespace = podNamespaceOf(fault);
    if (namespace === undefined) return everyNamespace(NODE_FAULT);
    namespaces.push(namespace);
  }
  for (const probe of [...spec.probes, ...implicitProbes(spec, probes)]) {
    namespaces.push(...namespacesOf(probes.get(probe.kind)?.permissions?.(probe.params, path.dirname(spec.file)) ?? []));
  }
  namespaces.push(...namespacesOf((await workloadNeeds(spec.workloads)).permissions));
  for (const step of spec.steps) namespaces.push(...(await stepNamespaces(step, spec.dir)));
  return inNamespaces(namespaces);
}

/**
 * The namespace of the pods a fault acts on, when it names them with the shared `pods:` selector;
 * a fault on nodes has none.
 */
export function podNamespaceOf(fault: FaultSpec): string | undefined {
  const pods = (fault.params as { readonly pods?: { readonly namespace?: unknown } } | undefined)?.pods;
  return typeof pods?.namespace === 'string' ? pods.namespace : undefined;
}

function namespacesOf(permissions: readonly Permission[]): string[] {
  return permissions.flatMap((p) => (p.namespace === undefined ? [] : [p.namespace]));
}

async function stepNamespaces(step: StepSpec, experimentDir: string): Promise<string[]> {
  switch (step.kind) {
    case 'exec':
      return [(step.params as ExecParams).pod.namespace];
    case 'scale':
      return [(step.params as ScaleParams).namespace];
    case 'rolloutRestart':
      return [(step.params as RolloutRestartParams).namespace];
    case 'delete': {
      const p = step.params as DeleteParams;
      return [p.kind === 'Namespace' ? p.name : p.namespace!];
    }
    case 'apply':
      return namespacesOf((await workloadNeeds([path.resolve(experimentDir, (step.params as ApplyParams).file)])).permissions);
    case 'command':
    case 'waitFor':
    case 'etcdSnapshot':
    case 'etcdRestore': // it reads back what the delete steps took, in their namespaces
      return [];
  }
}
