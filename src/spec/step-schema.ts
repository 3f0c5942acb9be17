import { z } from 'zod';
import type { Duration } from '../core/duration.js';
import type { CheckExpr } from '../slo/ast.js';
import { STEP_NAME } from '../slo/functions.js';
import { podSelectorSchema } from './selector-schemas.js';
import { durationSchema, positiveDurationSchema } from './value-schemas.js';

/**
 * Drill steps: actions in the timeline that run once and are never reverted (a backup, a
 * disaster, a restore, a wait for the service). Each is `{ at, name, <kind>: parameters }`.
 */

export const STEP_KINDS = ['exec', 'command', 'scale', 'rolloutRestart', 'apply', 'delete', 'waitFor', 'etcdSnapshot', 'etcdRestore'] as const;
/** Steps that act on the control plane's etcd itself: only when gameday runs the control plane (`--control-plane real`). */
export const CONTROL_PLANE_STEP_KINDS: readonly StepKind[] = ['etcdSnapshot', 'etcdRestore'];
export type StepKind = (typeof STEP_KINDS)[number];

// A step's name is used inside checks (`rto(disaster, back)`), so it must read as one word there: STEP_NAME.

const execSchema = z
  .strictObject({
    pod: podSelectorSchema.describe('the pod to run in: the first running match, by name'),
    container: z.string().min(1).optional().describe("the container. @default the pod's only container"),
    command: z.array(z.string()).min(1, { error: 'command is the argv to run, like [sh, -c, "tar czf /backup/data.tgz /data"]' }).describe('argv, run without a shell unless it names one'),
    timeout: positiveDurationSchema.optional().describe('how long the command may run. @default 60s'),
  })
  .describe('run a command in a pod; its exit code, stdout and stderr are kept as evidence; a non-zero exit fails the step');

const commandSchema = z
  .strictObject({
    run: z.array(z.string()).min(1, { error: 'run is the argv to run, like [./restore.sh, zone-b]' }).describe("argv, run on this machine in the experiment file's folder, without a shell unless it names one"),
    timeout: positiveDurationSchema.optional().describe('how long the command may run. @default 60s'),
  })
  .describe('run a command here (not in the cluster); its exit code and output are kept as evidence; a non-zero exit fails the step');

export const SCALABLE_KINDS = ['Deployment', 'StatefulSet', 'ReplicaSet'] as const;
const scaleSchema = z
  .strictObject({
    kind: z.enum(SCALABLE_KINDS, { error: `kind is ${SCALABLE_KINDS.join(', ')}` }),
    namespace: z.string().min(1),
    name: z.string().min(1),
    replicas: z.int().min(0),
  })
  .describe('set a workload\'s replicas through its scale subresource, as kubectl scale does');

export const RESTARTABLE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
const rolloutRestartSchema = z
  .strictObject({
    kind: z.enum(RESTARTABLE_KINDS, { error: `kind is ${RESTARTABLE_KINDS.join(', ')}` }),
    namespace: z.string().min(1),
    name: z.string().min(1),
  })
  .describe('restart every pod of a workload by a rollout, as kubectl rollout restart does (a kubectl.kubernetes.io/restartedAt annotation on the pod template)');

const applySchema = z
  .strictObject({
    file: z.string().min(1, { error: 'file is a manifest file, like workloads/db-restored.yaml' }).describe("a manifest file (YAML, one or more documents), relative to the experiment file"),
  })
  .describe('create every object in a manifest file, or replace what exists (a Namespace that exists is kept), as kubectl apply does; nothing is waited for (a waitFor step does) and nothing is removed afterwards');

export const DELETABLE_KINDS = ['Pod', 'PersistentVolumeClaim', 'Service', 'ConfigMap', 'Secret', 'Deployment', 'StatefulSet', 'Namespace'] as const;
const deleteSchema = z
  .strictObject({
    kind: z.enum(DELETABLE_KINDS, { error: `kind is ${DELETABLE_KINDS.join(', ')}` }),
    namespace: z.string().min(1).optional().describe('the namespace; not for kind Namespace'),
    name: z.string().min(1),
    wait: z.boolean().optional().describe('wait until the object is gone (finalizers done). @default true'),
    timeout: positiveDurationSchema.optional().describe('how long to wait for it to be gone. @default 60s'),
  })
  .superRefine((d, ctx) => {
    if (d.kind === 'Namespace' && d.namespace !== undefined) ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'a Namespace has no namespace: name it with name' });
    if (d.kind !== 'Namespace' && d.namespace === undefined) ctx.addIssue({ code: 'custom', path: ['namespace'], message: `a ${d.kind} is namespaced: give its namespace` });
  })
  .describe('delete one object, in a namespace the experiment\'s workloads create');

const etcdSnapshotSchema = z
  .strictObject({})
  .describe("save the control plane's etcd keyspace at one revision (etcdctl snapshot save), kept beside the control plane's state (it holds Secrets, so never in the reports); its file and size are the evidence. Needs --control-plane real");

const etcdRestoreSchema = z
  .strictObject({
    snapshot: z
      .string()
      .regex(STEP_NAME, { error: 'snapshot names an etcdSnapshot step, like backup' })
      .optional()
      .describe('the etcdSnapshot step whose snapshot to restore. @default the latest etcdSnapshot step before this one'),
    timeout: positiveDurationSchema.optional().describe('how long the workloads among the deleted objects may take to be ready again in pods started after the restore. @default 60s'),
  })
  .describe(
    "restore a snapshot into a fresh etcd and restart the API server on it (etcdutl snapshot restore, the revision bumped so watchers relist). The step ends once the API server answers, every object the delete steps before it deleted is read (came back or not), and the Deployments and StatefulSets among those that came back are ready again in pods started after the restore. Needs --control-plane real",
  );

export interface WaitForParams {
  readonly check: CheckExpr;
  readonly timeout: Duration;
}

export type ExecParams = z.output<typeof execSchema>;
export type ScaleParams = z.output<typeof scaleSchema>;
export type CommandParams = z.output<typeof commandSchema>;
export type RolloutRestartParams = z.output<typeof rolloutRestartSchema>;
export type DeleteParams = z.output<typeof deleteSchema>;
export type ApplyParams = z.output<typeof applySchema>;
export type EtcdSnapshotParams = z.output<typeof etcdSnapshotSchema>;
export type EtcdRestoreParams = z.output<typeof etcdRestoreSchema>;

export interface StepDocument {
  readonly at: Duration;
  readonly name: string;
  readonly kind: StepKind;
  readonly params: ExecParams | CommandParams | ScaleParams | RolloutRestartParams | ApplyParams | DeleteParams | WaitForParams | EtcdSnapshotParams | EtcdRestoreParams;
}

/** One line for the journal and `gameday plan`: what the step will do. */
export function describeStep(step: Pick<StepDocument, 'kind' | 'params'>): string {
  switch (step.kind) {
    case 'exec': {
      const p = step.params as ExecParams;
      const which = p.pod.names ? p.pod.names.join(', ') : Object.entries(p.pod.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || 'any pod';
      return `exec in ${p.pod.namespace}/${which}: ${p.command.join(' ')}`;
    }
    case 'command':
      return `run here: ${(step.params as CommandParams).run.join(' ')}`;
    case 'scale': {
      const p = step.params as ScaleParams;
      return `scale ${p.kind} ${p.namespace}/${p.name} to ${p.replicas}`;
    }
    case 'rolloutRestart': {
      const p = step.params as RolloutRestartParams;
      return `restart ${p.kind} ${p.namespace}/${p.name} by a rollout`;
    }
    case 'apply':
      return `apply the manifests in ${(step.params as ApplyParams).file}`;
    case 'delete': {
      const p = step.params as DeleteParams;
      return `delete ${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`;
    }
    case 'waitFor': {
      const p = step.params as WaitForParams;
      return `wait up to ${p.timeout} for ${p.check.text}`;
    }
    case 'etcdSnapshot':
      return "save a snapshot of the control plane's etcd";
    case 'etcdRestore': {
      const p = step.params as EtcdRestoreParams;
      return `restore ${p.snapshot ? `the snapshot of step ${p.snapshot}` : 'the latest snapshot'} into a fresh etcd and restart the API server on it`;
    }
  }
}

/** The step list; `check` is the experiment's check schema, so a waitFor's check is parsed with the file's other checks. */
export function stepListSchema(check: z.ZodType<CheckExpr>): z.ZodType<StepDocument[]> {
  const waitForSchema = z
    .strictObject({
      check: check,
      timeout: positiveDurationSchema.describe('how long the check may take to come true; then the step, and the run, fail'),
    })
    .describe('wait until a check is true (evaluated on the latest samples, like an abort condition)');
  const step = z
    .strictObject({
      at: durationSchema.meta({ description: 'When the step starts, from the start of the fault phase; a step also waits for the one before it to end.' }),
      name: z
        .string()
        .regex(STEP_NAME, { error: (iss) => `"${String(iss.input)}" cannot name a step: use letters, digits, "_" and "-", starting with a letter` })
        .meta({ description: 'The step\'s name, for rto() and reports.' }),
      exec: execSchema.optional(),
      command: commandSchema.optional(),
      scale: scaleSchema.optional(),
      rolloutRestart: rolloutRestartSchema.optional(),
      apply: applySchema.optional(),
      delete: deleteSchema.optional(),
      waitFor: waitForSchema.optional(),
      etcdSnapshot: etcdSnapshotSchema.optional(),
      etcdRestore: etcdRestoreSchema.optional(),
    })
    .superRefine((s, ctx) => {
      const kinds = STEP_KINDS.filter((k) => s[k] !== undefined);
      if (kinds.length === 1) return;
      const message = kinds.length === 0 ? `a step does one thing: give one of ${STEP_KINDS.join(', ')}` : `a step does one thing, not ${kinds.join(' and ')}: split it into steps`;
      ctx.addIssue({ code: 'custom', message });
    })
    .transform((s): StepDocument => {
      const kind = STEP_KINDS.find((k) => s[k] !== undefined)!;
      return { at: s.at, name: s.name, kind, params: s[kind]! };
    });
  return z.array(step).meta({ description: 'Drill steps in time order: actions run once and never reverted; each is { at, name, <exec|command|scale|rolloutRestart|apply|delete|waitFor|etcdSnapshot|etcdRestore>: parameters }.' }) as unknown as z.ZodType<StepDocument[]>;
}
