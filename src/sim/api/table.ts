import type { LooseJson } from './loose-json.js';
import type { StoredObject } from '../store.js';
import { formatLabelSelector } from './label-selector.js';
import type { ResourceType } from './resources.js';
import { isDefaultStorageClass } from '../storage-class.js';
import { customResourcePrinter } from './custom-resource-table.js';

/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): the columns and
 * cells the real API server's printers produce, which is what `kubectl get` shows. Columns with
 * priority 1 appear only with `-o wide`.
 */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

type Json = LooseJson;
export type Printer = { columns: TableColumn[]; cells: (o: Json, now: number) => unknown[] };

function col(name: string, priority = 0, type: TableColumn['type'] = 'string', description = ''): TableColumn {
  return { name, type, format: name === 'Name' ? 'name' : '', description: description || name, priority };
}

export const NAME = col('Name', 0, 'string', 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names');
/** The OpenAPI description of metadata.creationTimestamp, which every Age column carries. */
export const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';
const AGE = col('Age', 0, 'string', CREATION_TIMESTAMP_DESCRIPTION);

/** kubectl's `HumanDuration`: 45s, 3m20s, 25m, 5h10m, 2d3h, 400d, 3y10d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(ts: string | undefined | null, now: number): string {
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

function age(o: Json, now: number): string {
  return since(o.metadata?.creationTimestamp, now);
}

function containers(o: Json): Json[] {
  return (o.spec?.template?.spec?.containers ?? []) as Json[];
}

function containerNames(o: Json): string {
  return containers(o).map((c) => c.name).join(',');
}

function containerImages(o: Json): string {
  return containers(o).map((c) => c.image).join(',');
}

function orNone(s: string | undefined | null): string {
  return s ? s : '<none>';
}

/** The STATUS column of `kubectl get pods`, computed as kubectl's printer does. */
export function podStatusReason(pod: Json): { reason: string; ready: number; total: number; restarts: number; lastRestart?: number } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let reason: string = status.reason || status.phase || '';
  let restarts = 0;
  let ready = 0;
  let lastRestart: number | undefined;
  const noteRestart = (c: Json) => {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart ?? 0, Date.parse(finished));
  };
  for (const cond of (status.conditions ?? []) as Json[]) {
    if (cond.type === 'PodScheduled' && cond.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }
  const initStatuses = (status.initContainerStatuses ?? []) as Json[];
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i]!;
    noteRestart(c);
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) continue;
    const sidecar = (spec.initContainers ?? []).find((s: Json) => s.name === c.name)?.restartPolicy === 'Always';
    if (sidecar && c.started) continue;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w && w.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  const initializedTrue = ((status.conditions ?? []) as Json[]).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = 0;
    lastRestart = undefined;
    let hasRunning = false;
    const statuses = (status.containerStatuses ?? []) as Json[];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      noteRestart(c);
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = ((status.conditions ?? []) as Json[]).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata?.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { reason, ready, total: (spec.containers ?? []).length, restarts, ...(lastRestart !== undefined ? { lastRestart } : {}) };
}

/** `Ready`, `NotReady`, `Unknown`, with `,SchedulingDisabled` for a cordoned node. */
export function nodeStatus(node: Json): string {
  const ready = ((node.status?.conditions ?? []) as Json[]).find((c) => c.type === 'Ready');
  const parts = [!ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: Json): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries((node.metadata?.labels ?? {}) as Record<string, string>)) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function servicePorts(svc: Json): string {
  const ports = (svc.spec?.ports ?? []) as Json[];
  if (!ports.length) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function serviceExternalIP(svc: Json): string {
  const type = svc.spec?.type ?? 'ClusterIP';
  const external = (svc.spec?.externalIPs ?? []) as string[];
  if (type === 'LoadBalancer') {
    const ingress = ((svc.status?.loadBalancer?.ingress ?? []) as Json[]).map((i) => i.ip || i.hostname).filter(Boolean);
    const all = [...ingress, ...external];
    return all.length ? all.join(',') : '<pending>';
  }
  if (type === 'ExternalName') return svc.spec?.externalName ?? '<none>';
  return external.length ? external.join(',') : '<none>';
}

function endpointsList(ep: Json): string {
  const out: string[] = [];
  let total = 0;
  for (const subset of (ep.subsets ?? []) as Json[]) {
    const addrs = (subset.addresses ?? []) as Json[];
    const ports = (subset.ports ?? []) as Json[];
    for (const a of addrs) {
      for (const p of ports.length ? ports : [undefined]) {
        total++;
        if (out.length < 3) out.push(p ? `${a.ip}:${p.port}` : a.ip);
      }
    }
  }
  if (!total) return '<none>';
  return total > out.length ? `${out.join(',')} + ${total - out.length} more...` : out.join(',');
}

function sliceEndpoints(slice: Json): string {
  const addrs = ((slice.endpoints ?? []) as Json[]).flatMap((e) => (e.addresses ?? []) as string[]);
  if (!addrs.length) return '<unset>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

function jobStatus(job: Json): string {
  const conds = (job.status?.conditions ?? []) as Json[];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('FailureTarget')) return 'FailureTarget';
  if (job.spec?.suspend) return 'Suspended';
  return 'Running';
}

function jobDuration(job: Json, now: number): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
  return humanDuration(end - Date.parse(start));
}

function intOrNA(v: unknown): string {
  return v === undefined || v === null ? 'N/A' : String(v);
}

/** helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, whatever order the object lists them in. */
function accessModes(modes: unknown): string {
  const have = new Set((modes ?? []) as string[]);
  return [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']].filter(([m]) => have.has(m!)).map(([, s]) => s).join(',');
}

/** A claim or volume being deleted shows Terminating instead of its phase. */
function storagePhase(o: Json): string {
  return o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? '');
}

/** The printers' formatHPAMetrics: `current/target` per metric, the first two, then `+ N more...`. */
function hpaTargets(hpa: Json): string {
  const specs = (hpa.spec?.metrics ?? []) as Json[];
  if (!specs.length) return '<none>';
  const statuses = (hpa.status?.currentMetrics ?? []) as Json[];
  const list = specs.map((spec, i) => {
    const status = statuses[i];
    const unknown = (v: unknown): string => (v === undefined || v === null ? '<unknown>' : String(v));
    switch (spec.type) {
      case 'Pods':
        return `${unknown(status?.pods?.current?.averageValue)}/${spec.pods?.target?.averageValue}`;
      case 'Object':
      case 'External': {
        const source = spec.type === 'Object' ? 'object' : 'external';
        const target = spec[source]?.target ?? {};
        const current = status?.[source]?.current;
        return target.averageValue !== undefined ? `${unknown(current?.averageValue)}/${target.averageValue} (avg)` : `${unknown(current?.value)}/${target.value}`;
      }
      case 'Resource':
      case 'ContainerResource': {
        const source = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const target = spec[source]?.target ?? {};
        const current = status?.[source]?.current;
        if (target.averageValue !== undefined) return `${spec[source]?.name}: ${unknown(current?.averageValue)}/${target.averageValue}`;
        const utilization = current?.averageUtilization;
        return `${spec[source]?.name}: ${utilization === undefined || utilization === null ? '<unknown>' : `${utilization}%`}/${target.averageUtilization === undefined ? '<auto>' : `${target.averageUtilization}%`}`;
      }
      default:
        return '<unknown type>';
    }
  });
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

const WORKLOAD_WIDE = [col('Containers', 1), col('Images', 1), col('Selector', 1)];

/** Role and cluster role bindings: the role as `Kind/name`, and with -o wide who is bound. */
const ROLE_BINDING_PRINTER: Printer = {
  columns: [NAME, col('Role'), AGE, col('Users', 1), col('Groups', 1), col('ServiceAccounts', 1)],
  cells: (o, now) => {
    const subjects = (o.subjects ?? []) as Json[];
    const named = (kind: string) => subjects.filter((s) => s.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
    return [o.metadata.name, `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`, age(o, now), named('User'), named('Group'), named('ServiceAccount')];
  },
};

const PRINTERS: Record<string, Printer> = {
  pods: {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts'), AGE, col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    cells: (pod, now) => {
      const s = podStatusReason(pod);
      const restarts = s.lastRestart !== undefined ? `${s.restarts} (${humanDuration(now - s.lastRestart)} ago)` : String(s.restarts);
      const gates = (pod.spec?.readinessGates ?? []) as Json[];
      const conds = (pod.status?.conditions ?? []) as Json[];
      const gatesReady = gates.filter((g) => conds.some((c) => c.type === g.conditionType && c.status === 'True')).length;
      return [
        pod.metadata.name,
        `${s.ready}/${s.total}`,
        s.reason,
        restarts,
        age(pod, now),
        orNone(pod.status?.podIP),
        orNone(pod.spec?.nodeName),
        orNone(pod.status?.nominatedNodeName),
        gates.length ? `${gatesReady}/${gates.length}` : '<none>',
      ];
    },
  },
  nodes: {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 1), col('External-IP', 1), col('OS-Image', 1), col('Kernel-Version', 1), col('Container-Runtime', 1)],
    cells: (n, now) => {
      const addr = (t: string) => orNone(((n.status?.addresses ?? []) as Json[]).find((a) => a.type === t)?.address);
      const info = (n.status?.nodeInfo ?? {}) as Json;
      return [n.metadata.name, nodeStatus(n), nodeRoles(n), age(n, now), info.kubeletVersion ?? '', addr('InternalIP'), addr('ExternalIP'), orNone(info.osImage), orNone(info.kernelVersion), orNone(info.containerRuntimeVersion)];
    },
  },
  namespaces: { columns: [NAME, col('Status'), AGE], cells: (o, now) => [o.metadata.name, o.status?.phase ?? '', age(o, now)] },
  services: {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 1)],
    cells: (o, now) => [
      o.metadata.name,
      o.spec?.type ?? 'ClusterIP',
      o.spec?.clusterIP || '<none>',
      serviceExternalIP(o),
      servicePorts(o),
      age(o, now),
      o.spec?.selector && Object.keys(o.spec.selector).length ? Object.entries(o.spec.selector).map(([k, v]) => `${k}=${String(v)}`).join(',') : '<none>',
    ],
  },
  endpoints: { columns: [NAME, col('Endpoints'), AGE], cells: (o, now) => [o.metadata.name, endpointsList(o), age(o, now)] },
  events: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Subobject', 1), col('Source', 1), col('Message'), col('First Seen', 1), col('Count', 1), col('Name', 1)],
    cells: (e, now) => {
      const last = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const first = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const io = (e.involvedObject ?? {}) as Json;
      const source = e.source?.component ? (e.source.host ? `${e.source.component}, ${e.source.host}` : e.source.component) : (e.reportingComponent ?? '');
      return [since(last, now), e.type ?? '', e.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, io.fieldPath ?? '', source, String(e.message ?? '').trim(), since(first, now), e.count ?? 1, e.metadata.name];
    },
  },
  configmaps: { columns: [NAME, col('Data'), AGE], cells: (o, now) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o, now)] },
  persistentvolumeclaims: {
    columns: [NAME, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), AGE, col('VolumeMode', 1)],
    cells: (o, now) => {
      const bound = !!o.spec?.volumeName;
      return [
        o.metadata.name, storagePhase(o), o.spec?.volumeName ?? '',
        bound ? String(o.status?.capacity?.storage ?? '0') : '', bound ? accessModes(o.status?.accessModes) : '',
        o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>', age(o, now), o.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
  persistentvolumes: {
    columns: [NAME, col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'), col('VolumeAttributesClass'), col('Reason'), AGE, col('VolumeMode', 1)],
    cells: (o, now) => {
      const ref = o.spec?.claimRef as Json | undefined;
      return [
        o.metadata.name, String(o.spec?.capacity?.storage ?? '0'), accessModes(o.spec?.accessModes), o.spec?.persistentVolumeReclaimPolicy ?? '',
        storagePhase(o), ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '', o.spec?.storageClassName ?? '', o.spec?.volumeAttributesClassName ?? '<unset>',
        o.status?.reason ?? '', age(o, now), o.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
  'storageclasses.storage.k8s.io': {
    columns: [NAME, col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion'), AGE],
    cells: (o, now) => [
      isDefaultStorageClass(o) ? `${o.metadata.name} (default)` : o.metadata.name,
      o.provisioner ?? '', o.reclaimPolicy ?? 'Delete', o.volumeBindingMode ?? 'Immediate', o.allowVolumeExpansion ?? false, age(o, now),
    ],
  },
  'deployments.apps': {
    columns: [NAME, col('Ready'), col('Up-to-date'), col('Available'), AGE, ...WORKLOAD_WIDE],
    cells: (o, now) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, o.status?.updatedReplicas ?? 0, o.status?.availableReplicas ?? 0, age(o, now), containerNames(o), containerImages(o), formatLabelSelector(o.spec?.selector)],
  },
  'replicasets.apps': {
    columns: [NAME, col('Desired', 0, 'integer'), col('Current', 0, 'integer'), col('Ready', 0, 'integer'), AGE, ...WORKLOAD_WIDE],
    cells: (o, now) => [o.metadata.name, o.spec?.replicas ?? 0, o.status?.replicas ?? 0, o.status?.readyReplicas ?? 0, age(o, now), containerNames(o), containerImages(o), formatLabelSelector(o.spec?.selector)],
  },
  'statefulsets.apps': {
    columns: [NAME, col('Ready'), AGE, col('Containers', 1), col('Images', 1)],
    cells: (o, now) => [o.metadata.name, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, age(o, now), containerNames(o), containerImages(o)],
  },
  'daemonsets.apps': {
    columns: [NAME, col('Desired', 0, 'integer'), col('Current', 0, 'integer'), col('Ready', 0, 'integer'), col('Up-to-date', 0, 'integer'), col('Available', 0, 'integer'), col('Node Selector'), AGE, ...WORKLOAD_WIDE],
    cells: (o, now) => {
      const s = (o.status ?? {}) as Json;
      const sel = o.spec?.template?.spec?.nodeSelector as Record<string, string> | undefined;
      const nodeSelector = sel && Object.keys(sel).length ? Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
      return [o.metadata.name, s.desiredNumberScheduled ?? 0, s.currentNumberScheduled ?? 0, s.numberReady ?? 0, s.updatedNumberScheduled ?? 0, s.numberAvailable ?? 0, nodeSelector, age(o, now), containerNames(o), containerImages(o), formatLabelSelector(o.spec?.selector)];
    },
  },
  'horizontalpodautoscalers.autoscaling': {
    columns: [NAME, col('Reference'), col('Targets'), col('MinPods'), col('MaxPods', 0, 'integer'), col('Replicas', 0, 'integer'), AGE],
    cells: (o, now) => [
      o.metadata.name,
      `${o.spec?.scaleTargetRef?.kind}/${o.spec?.scaleTargetRef?.name}`,
      hpaTargets(o),
      o.spec?.minReplicas === undefined || o.spec?.minReplicas === null ? '<unset>' : String(o.spec.minReplicas),
      o.spec?.maxReplicas ?? 0,
      o.status?.currentReplicas ?? 0,
      age(o, now),
    ],
  },
  'jobs.batch': {
    columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE, ...WORKLOAD_WIDE],
    cells: (o, now) => {
      const completions = o.spec?.completions !== undefined && o.spec?.completions !== null ? `${o.status?.succeeded ?? 0}/${o.spec.completions}` : `${o.status?.succeeded ?? 0}/1 of ${o.spec?.parallelism ?? 1}`;
      return [o.metadata.name, jobStatus(o), completions, jobDuration(o, now), age(o, now), containerNames(o), containerImages(o), formatLabelSelector(o.spec?.selector)];
    },
  },
  'cronjobs.batch': {
    columns: [NAME, col('Schedule'), col('Timezone'), col('Suspend', 0, 'boolean'), col('Active', 0, 'integer'), col('Last Schedule'), AGE, col('Containers', 1), col('Images', 1), col('Selector', 1)],
    cells: (o, now) => {
      const job = (o.spec?.jobTemplate ?? {}) as Json;
      const suspend = o.spec?.suspend;
      return [
        o.metadata.name,
        o.spec?.schedule ?? '',
        o.spec?.timeZone ?? '<none>',
        suspend === undefined || suspend === null ? '<unset>' : suspend ? 'True' : 'False',
        ((o.status?.active ?? []) as Json[]).length,
        o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>',
        age(o, now),
        containerNames(job),
        containerImages(job),
        formatLabelSelector(job.spec?.selector),
      ];
    },
  },
  'poddisruptionbudgets.policy': {
    columns: [NAME, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 0, 'integer'), AGE],
    cells: (o, now) => [o.metadata.name, intOrNA(o.spec?.minAvailable), intOrNA(o.spec?.maxUnavailable), o.status?.disruptionsAllowed ?? 0, age(o, now)],
  },
  'leases.coordination.k8s.io': { columns: [NAME, col('Holder'), AGE], cells: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o, now)] },
  'endpointslices.discovery.k8s.io': {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    cells: (o, now) => {
      const ports = ((o.ports ?? []) as Json[]).map((p) => String(p.port ?? '')).filter(Boolean);
      return [o.metadata.name, o.addressType ?? '', ports.length ? ports.join(',') : '<unset>', sliceEndpoints(o), age(o, now)];
    },
  },
  secrets: { columns: [NAME, col('Type'), col('Data'), AGE], cells: (o, now) => [o.metadata.name, o.type ?? '', Object.keys(o.data ?? {}).length, age(o, now)] },
  serviceaccounts: { columns: [NAME, col('Secrets'), AGE], cells: (o, now) => [o.metadata.name, (o.secrets ?? []).length, age(o, now)] },
  'rolebindings.rbac.authorization.k8s.io': ROLE_BINDING_PRINTER,
  'clusterrolebindings.rbac.authorization.k8s.io': ROLE_BINDING_PRINTER,
  'networkpolicies.networking.k8s.io': {
    columns: [NAME, col('Pod-Selector'), AGE],
    cells: (o, now) => {
      const sel = formatLabelSelector(o.spec?.podSelector);
      return [o.metadata.name, sel === '<none>' ? '<none>' : sel, age(o, now)];
    },
  },
  'ingresses.networking.k8s.io': {
    columns: [NAME, col('Class', 0, 'string', 'The name of the IngressClass resource that should be used for ingress'), col('Hosts'), col('Address'), col('Ports'), AGE],
    cells: (o, now) => [o.metadata.name, o.spec?.ingressClassName ?? '<none>', ingressHosts(o), loadBalancerAddresses(o), (o.spec?.tls ?? []).length ? '80, 443' : '80', age(o, now)],
  },
  'ingressclasses.networking.k8s.io': {
    columns: [NAME, col('Controller'), col('Parameters'), AGE],
    cells: (o, now) => {
      const p = o.spec?.parameters as Json | undefined;
      const parameters = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
      return [o.metadata.name, o.spec?.controller ?? '', parameters, age(o, now)];
    },
  },
  'priorityclasses.scheduling.k8s.io': {
    columns: [NAME, col('Value', 0, 'integer'), col('Global-Default', 0, 'boolean'), AGE, col('PreemptionPolicy')],
    cells: (o, now) => [o.metadata.name, o.value ?? 0, o.globalDefault ?? false, age(o, now), o.preemptionPolicy ?? ''],
  },
  resourcequotas: {
    columns: [NAME, col('Request', 0, 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'), col('Limit', 0, 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'), AGE],
    cells: (o, now) => {
      const hard = (o.status?.hard ?? {}) as Record<string, string>;
      const used = (o.status?.used ?? {}) as Record<string, string>;
      const request: string[] = [];
      const limit: string[] = [];
      for (const name of Object.keys(hard).sort()) (name.startsWith('limits.') ? limit : request).push(`${name}: ${used[name] ?? '0'}/${hard[name]}`);
      return [o.metadata.name, request.join(', '), limit.join(', '), age(o, now)];
    },
  },
};

/** kubectl's `formatHosts`: up to three hosts, `*` when no rule names one. */
function ingressHosts(o: Json): string {
  const rules = (o.spec?.rules ?? []) as Json[];
  const hosts: string[] = [];
  let more = false;
  for (const r of rules) {
    if (hosts.length === 3) more = true;
    if (!more && r.host) hosts.push(r.host);
  }
  if (!hosts.length) return '*';
  return more ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

function loadBalancerAddresses(o: Json): string {
  const list = ((o.status?.loadBalancer?.ingress ?? []) as Json[]).map((i) => i.ip || i.hostname).filter(Boolean);
  const text = list.join(',');
  return text.length > 16 ? `${text.slice(0, 13)}...` : text;
}

const DEFAULT_PRINTER: Printer = {
  columns: [NAME, col('Created At', 0, 'date')],
  cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
};

function printerFor(r: ResourceType): Printer {
  if (r.printerColumns) return customResourcePrinter(NAME, r.printerColumns);
  return PRINTERS[r.storeKey] ?? DEFAULT_PRINTER;
}

function rowObject(o: StoredObject, include: IncludeObject): unknown {
  if (include === 'Object') return o;
  if (include === 'Metadata') return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return undefined;
}

export function tableRow(r: ResourceType, o: StoredObject, include: IncludeObject, now = Date.now()): TableRow {
  const row: TableRow = { cells: printerFor(r).cells(o as Json, now) };
  const object = rowObject(o, include);
  if (object !== undefined) row.object = object;
  return row;
}

export function tableColumns(r: ResourceType): TableColumn[] {
  return printerFor(r).columns;
}

/** A whole Table for a list (or one object), as `kubectl get` receives it. */
export function toTable(r: ResourceType, objects: Iterable<StoredObject>, listMeta: Record<string, unknown>, include: IncludeObject, apiVersion = 'meta.k8s.io/v1'): Json {
  const now = Date.now();
  const rows: TableRow[] = [];
  for (const o of objects) rows.push(tableRow(r, o, include, now));
  return { kind: 'Table', apiVersion, metadata: listMeta, columnDefinitions: tableColumns(r), rows };
}
