import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../cluster/api-errors.js';
import type { Permission } from '../cluster/rbac.js';
import type { ExecResult } from './node-access.js';
import { execInPod, podExecPermissions } from './pod-exec.js';
import { ShellNodeAccess, type ExecOptions } from './shell-node-access.js';

/** Labels `gameday recover` looks for to find helper pods a killed run left behind. */
export const NODE_ACCESS_POD_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/managed-by': 'gameday',
  'gameday.dev/node-access': 'true',
};
export const NODE_ACCESS_POD_SELECTOR = Object.entries(NODE_ACCESS_POD_LABELS).map(([k, v]) => `${k}=${v}`).join(',');

export interface PodNodeAccessOptions {
  /** Namespace of the helper pods. @default default */
  readonly namespace?: string;
  /** An image with a shell, iptables, iproute2 (tc), util-linux (nsenter, fallocate) and bash. @default nicolaka/netshoot:v0.13 */
  readonly image?: string;
  /** How long a helper pod may take to start (image pull included). @default 120000 */
  readonly startTimeoutMs?: number;
}

const DEFAULT_IMAGE = 'nicolaka/netshoot:v0.13';
export const DEFAULT_HELPER_NAMESPACE = 'default';

/** What this provider does in the helper pods' namespace: make, watch start and delete them, and exec in them. */
export function podNodeAccessPermissions(namespace = DEFAULT_HELPER_NAMESPACE): Permission[] {
  return [
    { why: 'pod node access: a privileged helper pod on each target node, read until it runs, deleted after', verbs: ['get', 'create', 'delete'], resource: 'pods', namespace },
    ...podExecPermissions('pod node access: iptables, tc and fallocate on the node, through exec in its helper pod', namespace),
  ];
}

/** The helper pod for one node: privileged, in the host's network and PID namespaces, pinned by nodeName. */
export function nodeAccessPod(node: string, options: { readonly namespace: string; readonly image: string; readonly name: string }): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { ...NODE_ACCESS_POD_LABELS },
      annotations: { 'gameday.dev/node': node },
    },
    spec: {
      // nodeName bypasses the scheduler: the pod lands on a cordoned or tainted node too.
      nodeName: node,
      hostNetwork: true,
      hostPID: true,
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'node-shell',
          image: options.image,
          command: ['sleep', '86400'],
          securityContext: { privileged: true },
          resources: { requests: { cpu: '10m', memory: '16Mi' } },
        },
      ],
    },
  };
}

/**
 * Any cluster's nodes, through a short-lived privileged pod per node (created on first use,
 * deleted by close): commands run as `nsenter -t 1 -m -u -i -n -p -- …` in the host's namespaces
 * through the exec API. The pod's labels let `gameday recover` find leftovers of a killed run.
 *
 * Limit: exec reaches the pod through the API server and the node's kubelet, so while the node is
 * cut off from the control plane, commands to it fail until the partition is lifted.
 */
export class PodNodeAccess extends ShellNodeAccess {
  readonly provider = 'pod' as const;
  private readonly core: CoreV1Api;
  private readonly pods = new Map<string, Promise<string>>();
  readonly namespace: string;
  readonly image: string;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly options: PodNodeAccessOptions = {},
  ) {
    super();
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.namespace = options.namespace ?? DEFAULT_HELPER_NAMESPACE;
    this.image = options.image ?? DEFAULT_IMAGE;
  }

  /** The helper pod on `node`, created and started on first use. */
  podFor(node: string): Promise<string> {
    let pod = this.pods.get(node);
    if (!pod) {
      pod = this.createPod(node);
      this.pods.set(node, pod);
      pod.catch(() => this.pods.delete(node));
    }
    return pod;
  }

  private async createPod(node: string): Promise<string> {
    const name = `gameday-node-${node.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '')}-${randomBytes(3).toString('hex')}`;
    await this.core.createNamespacedPod({ namespace: this.namespace, body: nodeAccessPod(node, { namespace: this.namespace, image: this.image, name }) });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 120_000);
    for (;;) {
      const pod = await this.core.readNamespacedPod({ namespace: this.namespace, name });
      if (pod.status?.phase === 'Running') return name;
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded' || Date.now() > deadline) {
        const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
        await this.deletePod(name);
        throw new Error(`the node-access pod on node ${node} did not start (phase ${pod.status?.phase ?? 'unknown'}${waiting ? `, ${waiting.reason}: ${waiting.message ?? ''}` : ''}); check that image ${this.image} can be pulled and privileged pods are allowed`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private deletePod(name: string): Promise<void> {
    return deleteHelperPod(this.core, this.namespace, name);
  }

  async exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const pod = await this.podFor(node);
    return execInPod(this.kubeConfig, {
      namespace: this.namespace,
      pod,
      container: 'node-shell',
      argv: ['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--', ...argv],
      timeoutMs: options.timeoutMs,
    });
  }

  /** Deletes every helper pod this provider made. */
  async close(): Promise<void> {
    const names = await Promise.allSettled([...this.pods.values()]);
    this.pods.clear();
    for (const n of names) if (n.status === 'fulfilled') await this.deletePod(n.value);
  }
}

/** What deleteLeftoverHelperPods does whatever the provider: look for helper pods in every namespace. */
export const LEFTOVER_HELPER_POD_PERMISSIONS: readonly Permission[] = [
  { why: 'gameday recover: look for the node-access helper pods a killed run left, in every namespace', verbs: ['list'], resource: 'pods' },
];

/**
 * A killed run cannot close its provider, so its helper pods outlive it; `gameday recover` finds
 * them by their labels, in every namespace, and deletes them. Returns them as `namespace/name`.
 */
export async function deleteLeftoverHelperPods(kubeConfig: KubeConfig): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const pods = await core.listPodForAllNamespaces({ labelSelector: NODE_ACCESS_POD_SELECTOR });
  const deleted: string[] = [];
  for (const pod of pods.items) {
    const { namespace, name } = pod.metadata ?? {};
    if (!namespace || !name) continue;
    await deleteHelperPod(core, namespace, name);
    deleted.push(`${namespace}/${name}`);
  }
  return deleted;
}

/** Gone already is as good as deleted. */
async function deleteHelperPod(core: CoreV1Api, namespace: string, name: string): Promise<void> {
  try {
    await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
