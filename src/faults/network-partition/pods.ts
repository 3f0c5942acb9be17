import { CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { isAlreadyExists, isNotFound } from '../../cluster/api-errors.js';
import { rawRequest, serviceProxyPath } from '../../cluster/raw-request.js';
import { Duration } from '../../core/duration.js';
import { HarnessError } from '../../core/errors.js';
import { chooseCount, selectPods } from '../../plan/select.js';
import { podSelectorSchema } from '../../spec/selector-schemas.js';
import { positiveDurationSchema } from '../../spec/value-schemas.js';
import type { FaultPlugin } from '../fault.js';
import { countSchema } from '../shared/count.js';

export const podPartitionParams = z.strictObject({
  pods: podSelectorSchema.describe('the pods to cut off'),
  count: countSchema.optional().describe('how many of the matching pods: a number or a percentage (rounded up). @default every matching pod'),
  direction: z
    .enum(['ingress', 'egress', 'both'], { error: 'direction is ingress, egress or both' })
    .optional()
    .describe(
      'which traffic to drop: ingress (to the pods), egress (from them) or both. Enforcement is proven by a request to the pods that must fail; for egress alone that proof briefly denies ingress too. @default both',
    ),
  verifyTimeout: positiveDurationSchema.optional().describe('how long to wait for the pods to be reachable before, and unreachable after, the policy. @default 15s'),
});
export type PodPartitionParams = z.output<typeof podPartitionParams>;

export interface PodPartitionTargets {
  /** Seeded, so `--seed` replays the same names; labels the pods and names the policy and probe Service. */
  readonly id: string;
  readonly namespace: string;
  readonly pods: readonly string[];
}

/** The connectivity proof: requests through the API server's service proxy to exactly the target pods. */
export interface EnforcementProof {
  readonly reachableBefore: boolean;
  readonly blockedAfter: boolean;
  /** The last few answers, as evidence: time, HTTP status or error, whether a pod answered. */
  readonly samples: readonly ProbeAnswer[];
}

export interface PodPartitionState {
  readonly policy: string;
  readonly labelled: readonly string[];
  readonly proof: EnforcementProof;
}

interface ProbeAnswer {
  readonly t: number;
  readonly phase: 'before' | 'after';
  readonly reached: boolean;
  readonly answer: string;
}

/** Marks what gameday created, so cleanup and recover can find it even without a journal. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'gameday' } as const;
export const PARTITION_LABEL = 'gameday.dev/partition';
const DEFAULT_VERIFY_TIMEOUT = Duration.seconds(15);
/** One request through the service proxy; a dropped packet would otherwise hang it for the proxy's dial timeout. */
const REQUEST_TIMEOUT_MS = 2000;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const resourceName = (id: string): string => `gameday-partition-${id}`;
const policyTypes = (direction: PodPartitionParams['direction']): ('Ingress' | 'Egress')[] =>
  direction === 'ingress' ? ['Ingress'] : direction === 'egress' ? ['Egress'] : ['Ingress', 'Egress'];

/**
 * The pod half of the `networkPartition` fault (src/faults/network-partition/fault.ts registers it):
 * a deny-all NetworkPolicy for the chosen pods, which are labelled so the policy selects exactly
 * them. A cluster whose network plugin ignores NetworkPolicy would accept the policy and drop
 * nothing, so the effect is proven with real requests to the pods — through a Service selecting
 * only them and the API server's service proxy — that answer before and fail after.
 */
export const podPartition: Pick<FaultPlugin<PodPartitionParams, PodPartitionTargets, PodPartitionState>, 'plan' | 'inject' | 'verify' | 'revert' | 'permissions'> = {
  permissions(p) {
    const namespace = p.pods.namespace;
    return [
      { why: 'networkPartition of pods: label the chosen pods so the policy selects them, and find them again on revert', verbs: ['list', 'patch'], resource: 'pods', namespace },
      { why: 'networkPartition of pods: the NetworkPolicy that cuts them off', verbs: ['create', 'get', 'delete', ...(p.direction === 'egress' ? (['patch'] as const) : [])], resource: 'networkpolicies', group: 'networking.k8s.io', namespace },
      { why: 'networkPartition of pods: a Service selecting only them, to prove the cut with real requests', verbs: ['create', 'delete'], resource: 'services', namespace },
      { why: 'networkPartition of pods: those requests, through the service proxy', verbs: ['get'], resource: 'services/proxy', namespace },
    ];
  },

  plan(p, { snapshot, rng }) {
    const matching = selectPods(snapshot, p.pods);
    const pods = (p.count === undefined ? matching : chooseCount(rng, matching, p.count)).map((pod) => pod.name);
    const id = Math.floor(rng.next() * 16 ** 6).toString(16).padStart(6, '0');
    const namespace = p.pods.namespace;
    return {
      targets: { id, namespace, pods },
      touches: { nodes: [], pods: pods.map((name) => `${namespace}/${name}`) },
      description: `partition pod${pods.length === 1 ? '' : 's'} ${pods.map((name) => `${namespace}/${name}`).join(', ')} (${p.direction ?? 'both'}) with NetworkPolicy ${resourceName(id)}`,
    };
  },

  async inject(ctx, p, t) {
    const kubeConfig = ctx.cluster.kubeConfig;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const networking = kubeConfig.makeApiClient(NetworkingV1Api);
    const timeout = p.verifyTimeout ?? DEFAULT_VERIFY_TIMEOUT;
    const name = resourceName(t.id);
    const labelled: string[] = [];
    let port: number | undefined;
    for (const pod of t.pods) {
      try {
        const patched = await core.patchNamespacedPod({ namespace: t.namespace, name: pod, body: { metadata: { labels: { [PARTITION_LABEL]: t.id } } } }, mergePatch);
        labelled.push(pod);
        port ??= patched.spec?.containers.flatMap((c) => c.ports ?? []).find((cp) => (cp.protocol ?? 'TCP') === 'TCP')?.containerPort;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        ctx.log(`pod ${t.namespace}/${pod} is gone; partitioning the rest`);
      }
    }
    const samples: ProbeAnswer[] = [];
    const record = (a: ProbeAnswer): void => {
      samples.push(a);
      if (samples.length > 20) samples.shift();
    };
    if (port === undefined) {
      ctx.log('the target pods declare no TCP container port: enforcement of the policy cannot be checked');
    } else {
      await createNew(() =>
        core.createNamespacedService({
          namespace: t.namespace,
          body: { metadata: { name, labels: { ...MANAGED_BY } }, spec: { selector: { [PARTITION_LABEL]: t.id }, ports: [{ name: 'probe', port: 80, targetPort: port }] } },
        }),
      );
    }
    const reachableBefore = port !== undefined && (await probeUntil(kubeConfig, t.namespace, name, 'before', true, 1, timeout, ctx.signal, record));
    if (port !== undefined && !reachableBefore) ctx.log(`the target pods never answered through Service ${t.namespace}/${name} within ${timeout}: enforcement cannot be proven`);

    // Egress cannot be observed from outside the pod: prove enforcement with ingress denied too, then narrow the policy.
    const proving = p.direction === 'egress' ? (['Ingress', 'Egress'] as const) : policyTypes(p.direction);
    await createNew(() =>
      networking.createNamespacedNetworkPolicy({
        namespace: t.namespace,
        body: { metadata: { name, labels: { ...MANAGED_BY } }, spec: { podSelector: { matchLabels: { [PARTITION_LABEL]: t.id } }, policyTypes: [...proving] } },
      }),
    );
    const needed = Math.max(3, 2 * labelled.length);
    const blockedAfter = reachableBefore && (await probeUntil(kubeConfig, t.namespace, name, 'after', false, needed, timeout, ctx.signal, record));
    if (p.direction === 'egress') {
      await networking.patchNamespacedNetworkPolicy({ namespace: t.namespace, name, body: { spec: { policyTypes: ['Egress'] } } }, mergePatch);
    }
    ctx.log(`NetworkPolicy ${t.namespace}/${name} denies ${p.direction ?? 'both'} for ${labelled.length} pod${labelled.length === 1 ? '' : 's'}`);
    return { policy: name, labelled, proof: { reachableBefore, blockedAfter, samples } };
  },

  async verify(ctx, p, t, state) {
    const networking = ctx.cluster.kubeConfig.makeApiClient(NetworkingV1Api);
    const evidence = state.proof;
    if (state.labelled.length === 0) return { landed: false, message: 'every target pod was gone before it could be partitioned', evidence };
    try {
      await networking.readNamespacedNetworkPolicy({ namespace: t.namespace, name: state.policy });
    } catch (err) {
      if (isNotFound(err)) return { landed: false, message: `NetworkPolicy ${t.namespace}/${state.policy} is missing`, evidence };
      throw err;
    }
    if (!state.proof.reachableBefore) {
      return { landed: false, message: 'cannot prove the partition: the target pods did not answer through the service proxy before the policy, so a failure after it would prove nothing', evidence };
    }
    if (!state.proof.blockedAfter) {
      return { landed: false, message: `the pods still answered ${p.verifyTimeout ?? DEFAULT_VERIFY_TIMEOUT} after the deny-all policy: the cluster does not enforce NetworkPolicy, or another policy allows this traffic`, evidence };
    }
    if (p.direction !== 'egress') {
      const recheck: ProbeAnswer[] = [];
      const still = await probeUntil(ctx.cluster.kubeConfig, t.namespace, state.policy, 'after', false, 2, Duration.seconds(5), ctx.signal, (a) => recheck.push(a));
      if (!still) return { landed: false, message: 'the pods answer again although the policy is in place', evidence: { ...evidence, recheck } };
    }
    return { landed: true, message: `${state.labelled.length} pod${state.labelled.length === 1 ? '' : 's'} unreachable behind NetworkPolicy ${t.namespace}/${state.policy} (${p.direction ?? 'both'})`, evidence };
  },

  async revert(ctx, _p, t) {
    // Without state too: everything is found by the seeded id (names and label), so recover can undo a half-done inject.
    const kubeConfig = ctx.cluster.kubeConfig;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const networking = kubeConfig.makeApiClient(NetworkingV1Api);
    const name = resourceName(t.id);
    await ignoreNotFound(() => networking.deleteNamespacedNetworkPolicy({ namespace: t.namespace, name }));
    await ignoreNotFound(() => core.deleteNamespacedService({ namespace: t.namespace, name }));
    const labelled = await core.listNamespacedPod({ namespace: t.namespace, labelSelector: `${PARTITION_LABEL}=${t.id}` });
    for (const pod of labelled.items) {
      await ignoreNotFound(() => core.patchNamespacedPod({ namespace: t.namespace, name: pod.metadata?.name ?? '', body: { metadata: { labels: { [PARTITION_LABEL]: null } } } }, mergePatch));
    }
    ctx.log(`removed NetworkPolicy ${t.namespace}/${name} and the partition label from ${labelled.items.length} pod${labelled.items.length === 1 ? '' : 's'}`);
  },
};

/**
 * Sends requests through the service proxy until `want` (reached or not) holds for `times` answers
 * in a row, or the timeout passes. A pod answering with any status counts as reached; a proxy
 * error (its own Status object) or no answer in time counts as not.
 */
async function probeUntil(
  kubeConfig: KubeConfig,
  namespace: string,
  service: string,
  phase: ProbeAnswer['phase'],
  want: boolean,
  times: number,
  timeout: Duration,
  signal: AbortSignal,
  record: (a: ProbeAnswer) => void,
): Promise<boolean> {
  const deadline = Date.now() + timeout.ms;
  let streak = 0;
  while (Date.now() < deadline && !signal.aborted) {
    const answer = await probeOnce(kubeConfig, namespace, service);
    record({ t: Date.now(), phase, ...answer });
    streak = answer.reached === want ? streak + 1 : 0;
    if (streak >= times) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function probeOnce(kubeConfig: KubeConfig, namespace: string, service: string): Promise<{ reached: boolean; answer: string }> {
  try {
    const res = await rawRequest(kubeConfig, serviceProxyPath(namespace, service, 'probe', '/'), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const fromProxy = res.status >= 500 && isStatusObject(res.body);
    return { reached: !fromProxy, answer: `HTTP ${res.status}${fromProxy ? `: ${statusMessage(res.body)}` : ''}` };
  } catch (err) {
    return { reached: false, answer: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

function isStatusObject(body: string): boolean {
  try {
    return (JSON.parse(body) as { kind?: string }).kind === 'Status';
  } catch {
    return false;
  }
}

function statusMessage(body: string): string {
  return (JSON.parse(body) as { message?: string }).message ?? '';
}

/** Creates an object; a name taken by a leftover of an earlier run with the same seed gets an error saying what to do. */
async function createNew(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (isAlreadyExists(err)) {
      throw new HarnessError(`${(err as Error).message}: an object of that name is left from an earlier run; run gameday recover for it, or choose another --seed`);
    }
    throw err;
  }
}

async function ignoreNotFound(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
