import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig, type V1Container, type V1Pod } from '@kubernetes/client-node';
import { isNotFound } from '../cluster/api-errors.js';
import type { Permission } from '../cluster/rbac.js';
import type { ExecResult } from './node-access.js';
import { execInPod, podExecPermissions } from './pod-exec.js';
import { ShellNodeAccess, type CommandNeed, type ExecOptions } from './shell-node-access.js';

/** Labels `gameday recover` looks for to find helper pods a killed run left behind. */
export const NODE_ACCESS_POD_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/managed-by': 'gameday',
  'gameday.dev/node-access': 'true',
};
export const NODE_ACCESS_POD_SELECTOR = Object.entries(NODE_ACCESS_POD_LABELS).map(([k, v]) => `${k}=${v}`).join(',');

export interface PodNodeAccessOptions {
  /** Namespace of the helper pods. @default default */
  readonly namespace?: string;
  /**
   * An image with a shell, iptables, iproute2 (tc), util-linux (nsenter, fallocate) and bash, by tag or
   * pinned by digest (`name@sha256:<64 hex digits>`; see helperImageProblem). @default nicolaka/netshoot:v0.13
   */
  readonly image?: string;
  /** How long a helper pod may take to start (image pull included). @default 120000 */
  readonly startTimeoutMs?: number;
}

const DEFAULT_IMAGE = 'nicolaka/netshoot:v0.13';
export const DEFAULT_HELPER_NAMESPACE = 'default';

/** What this provider does in the helper pods' namespace: make, watch start and delete them, and exec in them. */
export function podNodeAccessPermissions(namespace = DEFAULT_HELPER_NAMESPACE): Permission[] {
  return [
    { why: 'pod node access: a helper pod on each target node (with the host access its fault needs), read until it runs, deleted after', verbs: ['get', 'create', 'delete'], resource: 'pods', namespace },
    ...podExecPermissions('pod node access: iptables, tc and fallocate on the node, through exec in its helper pod', namespace),
  ];
}

/** An image reference: registry and path, an optional tag, an optional digest (distribution/reference's grammar, lower-case paths). */
const IMAGE_REFERENCE = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[^@]+)?$/;
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * What is wrong with a helper image reference, or undefined. A digest pins the image's exact
 * content (`nicolaka/netshoot@sha256:…`, or with the tag kept for readers: `…:v0.13@sha256:…`), so
 * a registry that moves a tag cannot change what runs with host access on every node.
 */
export function helperImageProblem(image: string): string | undefined {
  if (!IMAGE_REFERENCE.test(image)) return 'not an image reference; write it as name[:tag], or pinned by digest as name@sha256:<64 hex digits>';
  const at = image.indexOf('@');
  if (at < 0) return undefined;
  const digest = image.slice(at + 1);
  if (!SHA256_DIGEST.test(digest)) return `the digest "${digest}" is not sha256: followed by 64 lower-case hex digits (as \`docker buildx imagetools inspect\` or \`crane digest\` print it)`;
  return undefined;
}

/**
 * The host access a helper pod is made with, the least each command needs:
 * - `network`: the node's network namespace (hostNetwork) with NET_ADMIN and NET_RAW, for iptables,
 *   tc, ip and a TCP connect; the commands run in it directly;
 * - `path`: one directory of the node's filesystem mounted at the same path (hostPath), for df,
 *   fallocate, dd and rm there; no host namespace, no capability but DAC_OVERRIDE (a directory a
 *   service's own user owns);
 * - `process`: nothing of the host at all, for a stress: stress-ng only has to run on the node,
 *   sharing its CPU and memory, so its pod is one Pod Security's `restricted` level admits (not
 *   root, no capability, no privilege escalation, RuntimeDefault seccomp) and has no limits;
 * - `host`: privileged, in the host's network and PID namespaces, commands through `nsenter -t 1`
 *   into every namespace of the node's init: for a command that says nothing of what it needs, and
 *   for a path that mounting over would hide the image's own programs (`/`, `/usr`…).
 */
export type HelperProfile = { readonly kind: 'network' } | { readonly kind: 'path'; readonly path: string } | { readonly kind: 'process' } | { readonly kind: 'host' };

/** Mounted over, these would hide the shell and tools the commands run; a fill there goes through nsenter. */
const IMAGE_DIRECTORIES = ['/bin', '/sbin', '/usr', '/lib', '/lib64', '/etc', '/proc', '/sys', '/dev'];

export function helperProfile(need: CommandNeed | undefined): HelperProfile {
  if (need?.kind === 'network' || need?.kind === 'process') return need;
  if (need?.kind === 'path') {
    const path = need.path.replace(/\/+$/, '') || '/';
    const hides = path === '/' || IMAGE_DIRECTORIES.some((d) => path === d || path.startsWith(`${d}/`)) || !path.startsWith('/');
    return hides ? { kind: 'host' } : { kind: 'path', path };
  }
  return { kind: 'host' };
}

const profileKey = (p: HelperProfile): string => (p.kind === 'path' ? `path:${p.path}` : p.kind);

function helperContainer(image: string, profile: HelperProfile): V1Container {
  const base = { name: 'node-shell', image, command: ['sleep', '86400'], resources: { requests: { cpu: '10m', memory: '16Mi' } } };
  switch (profile.kind) {
    case 'network':
      return { ...base, securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] } } };
    case 'path':
      return {
        ...base,
        securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['DAC_OVERRIDE'] } },
        volumeMounts: [{ name: 'node-path', mountPath: profile.path }],
      };
    case 'process':
      return {
        ...base,
        securityContext: { runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
      };
    case 'host':
      return { ...base, securityContext: { privileged: true } };
  }
}

/** The helper pod for one node and one profile, pinned by nodeName. */
export function nodeAccessPod(node: string, options: { readonly namespace: string; readonly image: string; readonly name: string; readonly profile?: HelperProfile }): V1Pod {
  const profile = options.profile ?? { kind: 'host' };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { ...NODE_ACCESS_POD_LABELS },
      annotations: { 'gameday.dev/node': node, 'gameday.dev/node-access-profile': profileKey(profile) },
    },
    spec: {
      // nodeName bypasses the scheduler: the pod lands on a cordoned or tainted node too.
      nodeName: node,
      ...(profile.kind === 'network' || profile.kind === 'host' ? { hostNetwork: true } : {}),
      ...(profile.kind === 'host' ? { hostPID: true } : {}),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 0,
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [helperContainer(options.image, profile)],
      ...(profile.kind === 'path' ? { volumes: [{ name: 'node-path', hostPath: { path: profile.path, type: 'Directory' } }] } : {}),
    },
  };
}

/**
 * Any cluster's nodes, through short-lived helper pods per node (created on first use, deleted by
 * close), one per profile a fault's commands need (helperProfile): network commands run in a pod
 * on the host network with NET_ADMIN, disk commands in a pod that mounts just that path, and only
 * what needs the whole host in a privileged pod, as `nsenter -t 1 -m -u -i -n -p -- …`. Commands
 * go through the exec API. The pods' labels let `gameday recover` find leftovers of a killed run.
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
    override readonly kubeConfig: KubeConfig,
    private readonly options: PodNodeAccessOptions = {},
  ) {
    super(kubeConfig);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.namespace = options.namespace ?? DEFAULT_HELPER_NAMESPACE;
    this.image = options.image ?? DEFAULT_IMAGE;
  }

  /** The helper pod on `node` with this profile, created and started on first use. */
  podFor(node: string, profile: HelperProfile = { kind: 'host' }): Promise<string> {
    const key = `${node}\u0000${profileKey(profile)}`;
    let pod = this.pods.get(key);
    if (!pod) {
      pod = this.createPod(node, profile);
      this.pods.set(key, pod);
      pod.catch(() => this.pods.delete(key));
    }
    return pod;
  }

  private async createPod(node: string, profile: HelperProfile): Promise<string> {
    const name = `gameday-node-${node.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '')}-${randomBytes(3).toString('hex')}`;
    await this.core.createNamespacedPod({ namespace: this.namespace, body: nodeAccessPod(node, { namespace: this.namespace, image: this.image, name, profile }) });
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 120_000);
    for (;;) {
      const pod = await this.core.readNamespacedPod({ namespace: this.namespace, name });
      if (pod.status?.phase === 'Running') return name;
      if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded' || Date.now() > deadline) {
        const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
        await this.deletePod(name);
        throw new Error(`the node-access pod on node ${node} did not start (phase ${pod.status?.phase ?? 'unknown'}${waiting ? `, ${waiting.reason}: ${waiting.message ?? ''}` : ''}); check that image ${this.image} can be pulled and that namespace ${this.namespace} allows pods with host access (Pod Security level privileged)`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private deletePod(name: string): Promise<void> {
    return deleteHelperPod(this.core, this.namespace, name);
  }

  async exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const profile = helperProfile(options.need);
    const pod = await this.podFor(node, profile);
    return execInPod(this.kubeConfig, {
      namespace: this.namespace,
      pod,
      container: 'node-shell',
      argv: profile.kind === 'host' ? ['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--', ...argv] : argv,
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

/** What deleteLeftoverHelperPods does whatever the provider: look for helper pods in their namespace (delete is podNodeAccessPermissions'). */
export const LEFTOVER_HELPER_POD_PERMISSIONS: readonly Permission[] = [
  { why: "gameday recover: look for the node-access helper pods a killed run left, in the helper pods' namespace", verbs: ['list'], resource: 'pods', namespace: DEFAULT_HELPER_NAMESPACE },
];

/**
 * A killed run cannot close its provider, so its helper pods outlive it; `gameday recover` finds
 * them by their labels in the namespace the provider makes them in (the CLI's is always
 * `default`), and deletes them. Returns them as `namespace/name`.
 */
export async function deleteLeftoverHelperPods(kubeConfig: KubeConfig, namespace = DEFAULT_HELPER_NAMESPACE): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace, labelSelector: NODE_ACCESS_POD_SELECTOR });
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
