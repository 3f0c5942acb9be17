import { AppsV1Api, BatchV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig, type V1ObjectMeta } from '@kubernetes/client-node';
import { rawRequest } from '../../src/cluster/raw-request.js';
import { execInPod } from '../../src/nodes/pod-exec.js';
import { eventually } from './eventually.js';

/**
 * What a fault or a probe of gameday can leave in a cluster, as flat `what → value` entries, so
 * two snapshots compare entry by entry and each difference names itself. It covers what
 * `gameday recover` must revert (src/engine/recover.ts): nodes' cordons, taints and gameday's
 * annotations, the node-side faults the embedded cluster models (partitions, latency and loss,
 * filled disks, stopped nodes, stress: its node fault endpoint lists them), NetworkPolicies and
 * Services (a pod partition makes both), anything labelled by gameday, ConfigMaps, Jobs and bare
 * pods (node-access helpers, k6 Jobs, published results), workload replicas, and the files in
 * the volumes a pod disk fill writes into.
 */
export type ClusterSnapshot = ReadonlyMap<string, string>;

export interface SnapshotOptions {
  /** Volumes whose files count: the running pods of `namespace` that `labels` (a label selector) selects, listed at `path`. */
  readonly volumes?: readonly { readonly namespace: string; readonly labels: string; readonly path: string }[];
}

const GAMEDAY_KEY = /^gameday\.dev\//;
/** Written by the real control plane's kubelets, not by a fault. */
const NOT_A_FAULT = new Set(['gameday.dev/node-faults-port']);

export async function snapshotCluster(kubeConfig: KubeConfig, options: SnapshotOptions = {}): Promise<ClusterSnapshot> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const net = kubeConfig.makeApiClient(NetworkingV1Api);
  const out = new Map<string, string>();
  const [nodes, pods, services, configMaps, policies, jobs, deployments, statefulSets] = await Promise.all([
    core.listNode(),
    core.listPodForAllNamespaces(),
    core.listServiceForAllNamespaces(),
    core.listConfigMapForAllNamespaces(),
    net.listNetworkPolicyForAllNamespaces(),
    batch.listJobForAllNamespaces(),
    apps.listDeploymentForAllNamespaces(),
    apps.listStatefulSetForAllNamespaces(),
  ]);

  for (const node of nodes.items) {
    const name = node.metadata!.name!;
    out.set(`node ${name} unschedulable`, String(node.spec?.unschedulable ?? false));
    const taints = (node.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).sort();
    out.set(`node ${name} taints`, taints.join(',') || '(none)');
    marks(out, `node ${name}`, node.metadata);
    for (const fault of await nodeFaults(kubeConfig, name)) out.set(`node ${name} node-side fault ${fault.type} ${fault.tag ?? fault.id}`, 'present');
  }
  for (const p of policies.items) out.set(`networkpolicy ${ref(p.metadata)}`, 'present');
  for (const s of services.items) {
    out.set(`service ${ref(s.metadata)}`, JSON.stringify(s.spec?.selector ?? {}));
    marks(out, `service ${ref(s.metadata)}`, s.metadata);
  }
  for (const c of configMaps.items) out.set(`configmap ${ref(c.metadata)}`, 'present');
  for (const j of jobs.items) out.set(`job ${ref(j.metadata)}`, 'present');
  for (const d of deployments.items) out.set(`deployment ${ref(d.metadata)} replicas`, String(d.spec?.replicas));
  for (const s of statefulSets.items) out.set(`statefulset ${ref(s.metadata)} replicas`, String(s.spec?.replicas));
  for (const pod of pods.items) {
    // A controller's pods come and go under faults; what it wants is its replicas, above.
    if (!pod.metadata?.ownerReferences?.length && !pod.metadata?.deletionTimestamp) out.set(`bare pod ${ref(pod.metadata)}`, 'present');
    marks(out, `pod of ${owner(pod.metadata)}`, pod.metadata, 'count');
  }
  for (const volume of options.volumes ?? []) {
    const mounting = await core.listNamespacedPod({ namespace: volume.namespace, labelSelector: volume.labels });
    const inVolume = await Promise.all(
      mounting.items
        .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
        .map((p) => filesIn(kubeConfig, volume.namespace, p.metadata!.name!, volume.path)),
    );
    for (const file of new Set(inVolume.flat())) out.set(`file ${volume.path}/${file} in a ${volume.namespace} ${volume.labels} pod`, 'present');
  }
  return out;
}

/** Every difference between two snapshots, one line each: what appeared, what went, what changed. */
export function leftoversBetween(before: ClusterSnapshot, after: ClusterSnapshot): string[] {
  const found: string[] = [];
  for (const [key, value] of after) {
    const was = before.get(key);
    if (was === undefined) found.push(`${key}: ${value} (was not there)`);
    else if (was !== value) found.push(`${key}: ${was} → ${value}`);
  }
  for (const [key, value] of before) if (!after.has(key)) found.push(`${key}: ${value} → gone`);
  return found.sort();
}

/** gameday's labels and annotations on an object (or, with `count`, how many objects carry each). */
function marks(out: Map<string, string>, what: string, meta: V1ObjectMeta | undefined, mode: 'value' | 'count' = 'value'): void {
  for (const [kind, entries] of [['label', meta?.labels], ['annotation', meta?.annotations]] as const) {
    for (const [key, value] of Object.entries(entries ?? {})) {
      const ours = GAMEDAY_KEY.test(key) || (key === 'app.kubernetes.io/managed-by' && value === 'gameday');
      if (!ours || NOT_A_FAULT.has(key)) continue;
      const entry = `${what} ${kind} ${key}`;
      out.set(entry, mode === 'count' ? String(Number(out.get(entry) ?? 0) + 1) : value);
    }
  }
}

interface NodeFault {
  readonly id: string;
  readonly type: string;
  readonly tag?: string;
}

/**
 * The embedded cluster's node-side faults (the node fault endpoint that src/nodes/sim-node-access.ts
 * drives); a cluster without the endpoint has none to show.
 */
async function nodeFaults(kubeConfig: KubeConfig, node: string): Promise<NodeFault[]> {
  const r = await rawRequest(kubeConfig, `/gameday/v1/nodes/${encodeURIComponent(node)}/faults`);
  if (r.status === 404) return [];
  if (r.status !== 200) throw new Error(`GET the node faults of ${node}: ${r.status} ${r.body.slice(0, 200)}`);
  return (JSON.parse(r.body) as { items: NodeFault[] }).items;
}

/**
 * The files in the pod's volume; none when the pod went (or began to go) after it was listed, as a
 * replaced pod's volume goes with it. A container that is not running refuses exec: one that a
 * containerKill killed again and again waits out its CrashLoopBackOff (10 s, doubling per restart, at most 5 min),
 * and the listing waits with it, since its volume (and any file a disk fill left there) stays.
 */
function filesIn(kubeConfig: KubeConfig, namespace: string, pod: string, path: string): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return eventually(
    `ls -A ${path} in ${namespace}/${pod}`,
    async () => {
      const now = await core.readNamespacedPod({ namespace, name: pod }).catch(() => undefined);
      if (!now || now.metadata?.deletionTimestamp || now.status?.phase !== 'Running') return [];
      if (!now.status.containerStatuses?.every((c) => c.state?.running)) return undefined;
      try {
        const r = await execInPod(kubeConfig, { namespace, pod, argv: ['ls', '-A', path], timeoutMs: 10_000 });
        if (r.exitCode !== 0) throw new Error(`ls -A ${path} in ${namespace}/${pod} exited ${r.exitCode}: ${r.stderr}`);
        return r.stdout.split(/\s+/).filter(Boolean);
      } catch (err) {
        const after = await core.readNamespacedPod({ namespace, name: pod }).catch(() => undefined);
        if (!after || after.metadata?.deletionTimestamp || after.status?.phase !== 'Running') return [];
        throw err;
      }
    },
    // The longest CrashLoopBackOff (the kubelet's 5 min cap), and a little more.
    330_000,
  );
}

function ref(meta: V1ObjectMeta | undefined): string {
  return meta?.namespace ? `${meta.namespace}/${meta.name}` : String(meta?.name);
}

function owner(meta: V1ObjectMeta | undefined): string {
  const o = meta?.ownerReferences?.[0];
  return o ? `${o.kind} ${meta?.namespace}/${o.name}` : ref(meta);
}
