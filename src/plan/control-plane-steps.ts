import { formatIssue } from '../core/errors.js';
import type { ExperimentSpec } from '../spec/model.js';
import { CONTROL_PLANE_STEP_KINDS } from '../spec/step-schema.js';

/**
 * Why the cluster cannot take the experiment's etcdSnapshot and etcdRestore steps, one issue per
 * step (`file:line:col path: …`), or none. Those steps stop and replace the control plane's etcd,
 * which gameday has in reach only when it runs the control plane itself; on any other cluster
 * (the embedded one has no etcd, a context's is someone else's) refusing in the plan means
 * `gameday plan` says so and `gameday run` stops before anything is applied or injected.
 */
export function controlPlaneStepRefusals(spec: ExperimentSpec, cluster: { readonly name: string; readonly controlPlane: boolean }): string[] {
  if (cluster.controlPlane) return [];
  return spec.steps
    .filter((step) => CONTROL_PLANE_STEP_KINDS.includes(step.kind))
    .map((step) => {
      const path = `${step.path}.${step.kind}`;
      const message =
        `step ${step.name} (${step.kind}) acts on the control plane's etcd, which gameday reaches only in a control plane it runs itself, ` +
        `and cluster ${cluster.name} is not one: run it with gameday run --control-plane real (without --context or --kubeconfig)`;
      return formatIssue({ file: spec.file, ...spec.locate(path), path, message });
    });
}
