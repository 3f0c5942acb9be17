import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { UsageError, errorMessage } from '../core/errors.js';
import { isNotFound } from './api-errors.js';
import { recordEvent } from './fault-events.js';
import type { Permission } from './rbac.js';

/** The ConfigMap `gameday run --publish <namespace>/<name>` writes the last result to. */
export interface PublishTarget {
  readonly namespace: string;
  readonly name: string;
}

/** What a finished `gameday run` publishes. */
export interface PublishedResult {
  readonly outcome: string;
  readonly exitCode: number;
  readonly finishedAt: string;
  readonly runs: readonly { readonly experiment: string; readonly outcome: string; readonly reason: string; readonly runId: string }[];
}

/** The pod running gameday, when it runs in one: its name is the pod's `HOSTNAME`, its namespace the service account's. */
export interface OwnPod {
  readonly namespace: string;
  readonly name: string;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function parsePublishTarget(text: string): PublishTarget {
  const [namespace, name, ...rest] = text.split('/');
  if (rest.length > 0 || !namespace || !name || !NAME.test(namespace) || !NAME.test(name)) {
    throw new UsageError(`--publish ${text}: give the ConfigMap as namespace/name, like gameday/gameday-last-result`);
  }
  return { namespace, name };
}

/** Core v1 Events carry at most this much message; the rest is in the ConfigMap. */
const MAX_EVENT_MESSAGE = 1000;

/**
 * What publishResult does: write the ConfigMap (create it once, then read and replace only it),
 * and, from a pod, read that pod for its Job and record an Event on the Job in the pod's namespace.
 */
export function publishPermissions(target: PublishTarget, podNamespace?: string): Permission[] {
  return [
    { why: `--publish: create ConfigMap ${target.namespace}/${target.name} the first time`, verbs: ['create'], resource: 'configmaps', namespace: target.namespace },
    { why: `--publish: read and replace ConfigMap ${target.namespace}/${target.name} with the last result`, verbs: ['get', 'update'], resource: 'configmaps', namespace: target.namespace, names: [target.name] },
    ...(podNamespace === undefined
      ? []
      : [
          { why: "--publish: read gameday's own pod, to find the Job running it", verbs: ['get' as const], resource: 'pods', namespace: podNamespace },
          { why: '--publish: record the result as an Event on that Job', verbs: ['create' as const], resource: 'events', namespace: podNamespace },
        ]),
  ];
}

/**
 * Shows the result where `kubectl` shows things: the ConfigMap holds it (`outcome`, `exit-code`,
 * `finished-at`, one line per experiment, and `result.json`), and an Event on the Job that runs
 * gameday says it in one line. Each step that fails is a warning through `log`; publishing never
 * fails the run, whose reports are already written.
 */
export async function publishResult(kubeConfig: KubeConfig, target: PublishTarget, result: PublishedResult, options: { readonly ownPod?: OwnPod; readonly log: (warning: string) => void }): Promise<void> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  try {
    await writeConfigMap(api, target, result);
  } catch (err) {
    options.log(`could not write the result to ConfigMap ${target.namespace}/${target.name}: ${errorMessage(err)}`);
  }
  if (!options.ownPod) return;
  const { namespace, name } = options.ownPod;
  try {
    const pod = await api.readNamespacedPod({ namespace, name });
    const job = pod.metadata?.ownerReferences?.find((r) => r.kind === 'Job');
    if (!job) {
      options.log(`pod ${namespace}/${name} belongs to no Job: no Event recorded`);
      return;
    }
    const passed = result.outcome === 'passed';
    await recordEvent(kubeConfig, namespace, { apiVersion: job.apiVersion, kind: 'Job', name: job.name, namespace, uid: job.uid }, {
      type: passed ? 'Normal' : 'Warning',
      reason: `GamedayRun${result.outcome[0]!.toUpperCase()}${result.outcome.slice(1)}`,
      message: eventMessage(result, target),
    });
  } catch (err) {
    options.log(`could not record the result as an Event on the Job of pod ${namespace}/${name}: ${errorMessage(err)}`);
  }
}

async function writeConfigMap(api: CoreV1Api, target: PublishTarget, result: PublishedResult): Promise<void> {
  const body: V1ConfigMap = {
    metadata: { name: target.name, namespace: target.namespace, labels: { 'app.kubernetes.io/managed-by': 'gameday' } },
    data: {
      outcome: result.outcome,
      'exit-code': String(result.exitCode),
      'finished-at': result.finishedAt,
      experiments: result.runs.map((r) => `${r.experiment}: ${r.outcome}${r.outcome === 'passed' ? '' : ` (${r.reason})`}\n`).join(''),
      'result.json': `${JSON.stringify(result, null, 2)}\n`,
    },
  };
  let resourceVersion: string | undefined;
  try {
    resourceVersion = (await api.readNamespacedConfigMap(target)).metadata?.resourceVersion;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (resourceVersion === undefined) await api.createNamespacedConfigMap({ namespace: target.namespace, body });
  else await api.replaceNamespacedConfigMap({ ...target, body: { ...body, metadata: { ...body.metadata, resourceVersion } } });
}

/** `failed (exit 1): 5 of 6 experiments passed; failed: slow-zone-shows-in-p99. ConfigMap gameday/… holds the result.` */
function eventMessage(result: PublishedResult, target: PublishTarget): string {
  const passed = result.runs.filter((r) => r.outcome === 'passed').length;
  const others = result.runs.filter((r) => r.outcome !== 'passed').map((r) => `${r.experiment} ${r.outcome}`);
  const text = `gameday run ${result.outcome} (exit ${result.exitCode}): ${passed} of ${result.runs.length} experiment${result.runs.length === 1 ? '' : 's'} passed${others.length > 0 ? `; ${others.join(', ')}` : ''}. ConfigMap ${target.namespace}/${target.name} holds the result.`;
  return text.length > MAX_EVENT_MESSAGE ? `${text.slice(0, MAX_EVENT_MESSAGE - 1)}…` : text;
}
