import type { LooseJson } from './loose-json.js';
import { randomUUID } from 'node:crypto';
import type { ObjectStore, StoredObject } from '../store.js';
import { ApiError } from './api-error.js';
import { admitHorizontalPodAutoscaler } from './hpa-admission.js';
import { admitCustomResourceDefinition } from './custom-resource-definitions.js';
import { CRD_STORE_KEY } from './custom-resources.js';
import { CronSchedule, CronScheduleError, isKnownTimeZone } from '../cron-schedule.js';
import { applyLimitRanges, defaultLimitRange } from './limit-ranger.js';
import { admitPodPriority, admitPriorityClass } from './priority.js';
import { checkQuota, quotaStatus } from './resource-quota.js';
import { pruneAndValidate } from './structural-schema.js';
import type { ResourceType } from './resources.js';
import { admitClaim, PV_PROTECTION_FINALIZER } from '../persistent-volume.js';

/**
 * What the real API server adds to an object on its way in: defaulting (so `kubectl get -o yaml`
 * and describe show the fields people expect) and the admission steps gameday depends on — the
 * default not-ready/unreachable tolerations of pods and Service IP allocation.
 */
export interface AdmissionOptions {
  readonly store: ObjectStore;
  /** tolerationSeconds of the default NoExecute tolerations. @default 300 */
  readonly defaultTolerationSeconds: number;
}

type Json = LooseJson;

function obj(parent: Json, key: string): Json {
  if (parent[key] === null || typeof parent[key] !== 'object') parent[key] = {};
  return parent[key] as Json;
}

function setDefault(target: Json, key: string, value: unknown): void {
  if (target[key] === undefined || target[key] === null) target[key] = value;
}

function addFinalizer(body: Json, finalizer: string): void {
  const finalizers = (obj(body, 'metadata').finalizers ??= []) as string[];
  if (!finalizers.includes(finalizer)) finalizers.push(finalizer);
}

function defaultProbe(probe: Json | undefined): void {
  if (!probe) return;
  setDefault(probe, 'timeoutSeconds', 1);
  setDefault(probe, 'periodSeconds', 10);
  setDefault(probe, 'successThreshold', 1);
  setDefault(probe, 'failureThreshold', 3);
  if (probe.httpGet) setDefault(probe.httpGet, 'scheme', 'HTTP');
}

/** A container's defaults, for the containers of a pod spec and for ephemeral containers added later. */
export function defaultContainer(c: Json): void {
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  if (!c.imagePullPolicy) {
    const image = String(c.image ?? '');
    const tag = /:([^/:@]+)$/.exec(image)?.[1];
    c.imagePullPolicy = image.includes('@') ? 'IfNotPresent' : !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  const resources = obj(c, 'resources');
  if (resources.limits && typeof resources.limits === 'object') {
    const requests = obj(resources, 'requests');
    for (const [k, v] of Object.entries(resources.limits as Json)) setDefault(requests, k, v);
  }
  for (const p of (c.ports ?? []) as Json[]) setDefault(p, 'protocol', 'TCP');
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

/** The pod spec defaults of the real server, for pods and for the templates of workloads. */
export function defaultPodSpec(spec: Json): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const c of (spec.containers ?? []) as Json[]) defaultContainer(c);
  for (const c of (spec.initContainers ?? []) as Json[]) defaultContainer(c);
}

/** Guaranteed when every container's requests equal its limits for cpu and memory, BestEffort when none has any. */
export function qosClassOf(spec: Json): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...((spec.containers ?? []) as Json[]), ...((spec.initContainers ?? []) as Json[])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const requests = (c.resources?.requests ?? {}) as Json;
    const limits = (c.resources?.limits ?? {}) as Json;
    if (Object.keys(requests).length || Object.keys(limits).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (limits[r] === undefined || String(requests[r] ?? limits[r]) !== String(limits[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultTemplate(spec: Json): void {
  const template = obj(spec, 'template');
  obj(template, 'metadata');
  defaultPodSpec(obj(template, 'spec'));
}

const SERVICE_CIDR_BASE = (10 << 24) | (96 << 16);
const SERVICE_CIDR_SIZE = 1 << 20;

function ipToString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipToNumber(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export class Admission {
  constructor(private readonly options: AdmissionOptions) {}

  /** Fills defaults on a new object; throws an Invalid ApiError for what the real server rejects. */
  admitCreate(r: ResourceType, o: StoredObject): void {
    this.defaultAndValidate(r, o as Json);
    // The quota plugin runs last, on the object as the other plugins left it.
    checkQuota(this.options.store, r, o as Json);
  }

  private defaultAndValidate(r: ResourceType, body: Json): void {
    const { store } = this.options;
    // A custom resource with a status subresource starts without status, as apiextensions' strategy has it.
    if (r.printerColumns && r.subresources.some((s) => s.name === 'status')) delete body.status;
    this.admitCustomObject(r, body);
    switch (r.storeKey) {
      case CRD_STORE_KEY:
        return admitCustomResourceDefinition(store, r, body);
      case 'priorityclasses.scheduling.k8s.io':
        return admitPriorityClass(r, body);
      case 'limitranges':
        return defaultLimitRange(body);
      case 'resourcequotas':
        body.status = quotaStatus(store, body as StoredObject);
        return;
      case 'pods':
        return this.admitPod(r, body);
      case 'namespaces':
        obj(body.metadata, 'labels')['kubernetes.io/metadata.name'] = body.metadata.name;
        setDefault(obj(body, 'spec'), 'finalizers', ['kubernetes']);
        body.status = { phase: 'Active' };
        return;
      case 'services':
        return this.admitService(r, body, undefined);
      case 'deployments.apps': {
        const spec = obj(body, 'spec');
        setDefault(spec, 'replicas', 1);
        setDefault(spec, 'strategy', { type: 'RollingUpdate' });
        if (spec.strategy.type === 'RollingUpdate') {
          const ru = obj(spec.strategy, 'rollingUpdate');
          setDefault(ru, 'maxUnavailable', '25%');
          setDefault(ru, 'maxSurge', '25%');
        }
        setDefault(spec, 'revisionHistoryLimit', 10);
        setDefault(spec, 'progressDeadlineSeconds', 600);
        defaultTemplate(spec);
        body.status = {};
        return;
      }
      case 'replicasets.apps': {
        const spec = obj(body, 'spec');
        setDefault(spec, 'replicas', 1);
        defaultTemplate(spec);
        body.status = { replicas: 0 };
        return;
      }
      case 'statefulsets.apps': {
        const spec = obj(body, 'spec');
        setDefault(spec, 'replicas', 1);
        setDefault(spec, 'podManagementPolicy', 'OrderedReady');
        setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
        setDefault(spec, 'revisionHistoryLimit', 10);
        setDefault(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
        defaultTemplate(spec);
        body.status = { replicas: 0, availableReplicas: 0 };
        return;
      }
      case 'daemonsets.apps': {
        const spec = obj(body, 'spec');
        setDefault(spec, 'updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
        setDefault(spec, 'revisionHistoryLimit', 10);
        defaultTemplate(spec);
        body.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
        return;
      }
      case 'jobs.batch':
        return this.admitJob(body);
      case 'persistentvolumeclaims':
        admitClaim(body as StoredObject, store);
        return;
      case 'persistentvolumes':
        setDefault(obj(body, 'spec'), 'persistentVolumeReclaimPolicy', 'Retain');
        setDefault(body.spec, 'volumeMode', 'Filesystem');
        addFinalizer(body, PV_PROTECTION_FINALIZER);
        body.status = { phase: 'Pending' };
        return;
      case 'storageclasses.storage.k8s.io':
        setDefault(body, 'reclaimPolicy', 'Delete');
        setDefault(body, 'volumeBindingMode', 'Immediate');
        return;
      case 'cronjobs.batch':
        this.admitCronJob(r, body);
        // The controller alone writes status, from an empty one.
        body.status = {};
        return;
      case 'poddisruptionbudgets.policy':
        body.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
        return;
      case 'horizontalpodautoscalers.autoscaling':
        admitHorizontalPodAutoscaler(r, body);
        body.status = { currentReplicas: 0, desiredReplicas: 0 };
        return;
      default:
        return;
    }
  }

  /** Keeps what an update may not change (a Service's cluster IP) and defaults what it adds. */
  admitUpdate(r: ResourceType, next: StoredObject, current: StoredObject): void {
    const body = next as Json;
    if (r.storeKey === 'services') this.admitService(r, body, current as Json);
    if (r.storeKey === CRD_STORE_KEY) admitCustomResourceDefinition(this.options.store, r, body, current as Json);
    if (r.storeKey === 'cronjobs.batch') this.admitCronJob(r, body);
    this.admitCustomObject(r, body);
    if (r.storeKey === 'pods' && body.spec) {
      defaultPodSpec(body.spec);
    }
    if (r.storeKey === 'horizontalpodautoscalers.autoscaling' && body.spec) admitHorizontalPodAutoscaler(r, body);
    if (['deployments.apps', 'replicasets.apps', 'statefulsets.apps', 'daemonsets.apps', 'jobs.batch'].includes(r.storeKey) && body.spec?.template) {
      defaultPodSpec(obj(body.spec.template, 'spec'));
    }
  }

  private admitPod(r: ResourceType, body: Json): void {
    const spec = obj(body, 'spec');
    defaultPodSpec(spec);
    setDefault(spec, 'enableServiceLinks', true);
    applyLimitRanges(this.options.store, r, body);
    admitPodPriority(this.options.store, r, body);
    setDefault(spec, 'serviceAccountName', 'default');
    setDefault(spec, 'serviceAccount', spec.serviceAccountName);
    const tolerations = (spec.tolerations ??= []) as Json[];
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      const present = tolerations.some((t) => (t.key === key || (t.key === undefined && t.operator === 'Exists')) && (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute'));
      if (!present) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: this.options.defaultTolerationSeconds });
    }
    body.status = { phase: 'Pending', qosClass: qosClassOf(spec) };
  }

  private admitJob(body: Json): void {
    const spec = obj(body, 'spec');
    const uid = randomUUID();
    body.metadata.uid = uid;
    setDefault(spec, 'parallelism', 1);
    if (spec.completions === undefined && spec.parallelism === 1) spec.completions = 1;
    setDefault(spec, 'backoffLimit', 6);
    setDefault(spec, 'completionMode', 'NonIndexed');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'podReplacementPolicy', 'TerminatedOrFailed');
    if (!spec.manualSelector) {
      const ids = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': body.metadata.name, 'controller-uid': uid, 'job-name': body.metadata.name };
      spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      const template = obj(spec, 'template');
      Object.assign(obj(obj(template, 'metadata'), 'labels'), ids);
      Object.assign(obj(body.metadata, 'labels'), { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': body.metadata.name, 'controller-uid': uid, 'job-name': body.metadata.name });
    }
    defaultTemplate(spec);
    setDefault(spec.template.spec, 'restartPolicy', 'Never');
    body.status = {};
  }

  /** A custom object pruned to, and checked against, its version's structural schema. */
  private admitCustomObject(r: ResourceType, body: Json): void {
    if (!r.openAPIV3Schema) return;
    const causes = pruneAndValidate(r.openAPIV3Schema as Json, body);
    if (causes.length) throw ApiError.invalid(r, String(body.metadata?.name ?? ''), causes);
  }

  /** CronJob defaults and the validation of its name, schedule and time zone. */
  private admitCronJob(r: ResourceType, body: Json): void {
    const spec = obj(body, 'spec');
    const name = String(body.metadata.name);
    const causes: { field: string; message: string; reason: string }[] = [];
    // The Job names `<cronjob>-<minutes>` must stay within 63 characters.
    if (name.length > 52) causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": must be no more than 52 characters`, reason: 'FieldValueInvalid' });
    if (!spec.schedule) causes.push({ field: 'spec.schedule', message: 'Required value', reason: 'FieldValueRequired' });
    else if (/\b(CRON_)?TZ=/.test(String(spec.schedule))) causes.push({ field: 'spec.schedule', message: `Invalid value: "${String(spec.schedule)}": cannot use TZ or CRON_TZ in schedule, use timeZone field instead`, reason: 'FieldValueInvalid' });
    else {
      try {
        CronSchedule.parse(String(spec.schedule));
      } catch (err) {
        if (!(err instanceof CronScheduleError)) throw err;
        causes.push({ field: 'spec.schedule', message: `Invalid value: "${String(spec.schedule)}": ${err.message}`, reason: 'FieldValueInvalid' });
      }
    }
    if (spec.timeZone !== undefined && spec.timeZone !== null && !isKnownTimeZone(String(spec.timeZone))) {
      causes.push({ field: 'spec.timeZone', message: `Invalid value: "${String(spec.timeZone)}": unknown time zone ${String(spec.timeZone)}`, reason: 'FieldValueInvalid' });
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (!['Allow', 'Forbid', 'Replace'].includes(policy)) causes.push({ field: 'spec.concurrencyPolicy', message: `Unsupported value: "${String(policy)}": supported values: "Allow", "Forbid", "Replace"`, reason: 'FieldValueNotSupported' });
    if (causes.length) throw ApiError.invalid(r, name, causes);
    setDefault(spec, 'concurrencyPolicy', 'Allow');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'successfulJobsHistoryLimit', 3);
    setDefault(spec, 'failedJobsHistoryLimit', 1);
    const jobSpec = obj(obj(spec, 'jobTemplate'), 'spec');
    defaultTemplate(jobSpec);
    setDefault(jobSpec.template.spec, 'restartPolicy', 'Never');
  }

  private admitService(r: ResourceType, body: Json, current: Json | undefined): void {
    const spec = obj(body, 'spec');
    const name = body.metadata.name as string;
    setDefault(spec, 'type', 'ClusterIP');
    setDefault(spec, 'sessionAffinity', 'None');
    if (spec.type !== 'ExternalName') {
      setDefault(spec, 'ipFamilies', ['IPv4']);
      setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
      setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      const kept = current?.spec?.clusterIP as string | undefined;
      if (kept && !spec.clusterIP) spec.clusterIP = kept;
      if (kept && spec.clusterIP !== kept) {
        throw ApiError.invalid(r, name, [{ field: 'spec.clusterIPs[0]', message: 'Invalid value: []string{"' + spec.clusterIP + '"}: may not change once set' }]);
      }
      if (!spec.clusterIP) spec.clusterIP = this.allocateClusterIP();
      else if (!kept && spec.clusterIP !== 'None') this.reserveClusterIP(r, name, spec.clusterIP);
      spec.clusterIPs = [spec.clusterIP];
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
    const currentPorts = (current?.spec?.ports ?? []) as Json[];
    for (const p of (spec.ports ?? []) as Json[]) {
      setDefault(p, 'protocol', 'TCP');
      setDefault(p, 'targetPort', p.port);
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
        const old = currentPorts.find((c) => c.port === p.port && c.protocol === p.protocol);
        if (!p.nodePort) p.nodePort = old?.nodePort ?? this.allocateNodePort();
      } else delete p.nodePort;
    }
    body.status = current?.status ?? { loadBalancer: {} };
  }

  private usedClusterIPs(): Set<string> {
    const used = new Set<string>();
    for (const s of this.options.store.scan('services')) {
      const ip = (s as Json).spec?.clusterIP;
      if (typeof ip === 'string') used.add(ip);
    }
    return used;
  }

  private allocateClusterIP(): string {
    const used = this.usedClusterIPs();
    // Random like the real allocator; .0 (network) and .1 (the kubernetes Service) stay reserved.
    for (;;) {
      const ip = ipToString((SERVICE_CIDR_BASE + 2 + Math.floor(Math.random() * (SERVICE_CIDR_SIZE - 3))) >>> 0);
      if (!used.has(ip)) return ip;
    }
  }

  private reserveClusterIP(r: ResourceType, name: string, ip: string): void {
    const n = ipToNumber(ip);
    const invalid = (why: string) => ApiError.invalid(r, name, [{ field: 'spec.clusterIPs', message: `Invalid value: []string{"${ip}"}: ${why}` }]);
    if (n === undefined || n < SERVICE_CIDR_BASE || n >= SERVICE_CIDR_BASE + SERVICE_CIDR_SIZE) {
      throw invalid('failed to allocate IP ' + ip + ': the provided IP (' + ip + ') is not in the valid range. The range of valid IPs is 10.96.0.0/12');
    }
    if (this.usedClusterIPs().has(ip)) throw invalid(`failed to allocate IP ${ip}: provided IP is already allocated`);
  }

  private allocateNodePort(): number {
    const used = new Set<number>();
    for (const s of this.options.store.scan('services')) for (const p of ((s as Json).spec?.ports ?? []) as Json[]) if (p.nodePort) used.add(p.nodePort);
    for (;;) {
      const port = 30000 + Math.floor(Math.random() * 2768);
      if (!used.has(port)) return port;
    }
  }
}
