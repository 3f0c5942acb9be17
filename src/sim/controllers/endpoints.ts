import { objectKey } from '../informer.js';
import { mapSelectorMatches } from '../label-selector.js';
import { isDeleting, isPodReady, isTerminal } from '../pod-state.js';
import { byNamespacedLabel, byNamespace, INDEX } from '../standard-indexes.js';
import type { StoredObject } from '../store.js';
import type { ControllerContext, RunningController } from './controller-context.js';
import { controllerRef } from './pod-factory.js';
import { WorkQueue } from './work-queue.js';

/** The label upstream's endpoints controller marks its Endpoints with (pkg/controller/endpoint: LabelManagedBy, ControllerName). */
const ENDPOINTS_MANAGED_BY = 'endpoints.kubernetes.io/managed-by';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

/** A Service's targetPort on one pod: a number, or a named container port looked up in the pod. */
export function resolveTargetPort(pod: StoredObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of ((pod.spec as { containers?: { ports?: ContainerPort[] }[] }).containers ?? [])) {
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  }
  return undefined;
}

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  zone?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

/**
 * EndpointSlices and legacy Endpoints for selector Services, as kube-controller-manager writes
 * them: serving = pod Ready, terminating = being deleted, ready = serving and not terminating
 * (or publishNotReadyAddresses); legacy Endpoints leave terminating pods out and list not-ready
 * ones under notReadyAddresses. One slice per distinct port mapping (no 100-endpoint split).
 */
export function startEndpointsController(ctx: ControllerContext): RunningController {
  const { store, informers } = ctx;
  const services = informers.for('services').addIndex(INDEX.namespace, byNamespace);
  const pods = informers.for('pods').addIndex(INDEX.label, byNamespacedLabel).addIndex(INDEX.namespace, byNamespace);
  const nodes = informers.for('nodes');
  const slices = informers.for('endpointslices.discovery.k8s.io').addIndex('service', (s) => {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    return svc ? [`${s.metadata.namespace}/${svc}`] : [];
  });
  const queue = new WorkQueue('endpointslice-controller', (key) => sync(key));

  function selectedPods(svc: StoredObject): StoredObject[] {
    const selector = (svc.spec as { selector?: Record<string, string> }).selector ?? {};
    const ns = svc.metadata.namespace!;
    const first = Object.entries(selector)[0];
    if (!first) return [];
    return pods.byIndex(INDEX.label, `${ns}/${first[0]}=${first[1]}`).filter((p) => mapSelectorMatches(selector, p.metadata.labels));
  }

  function sync(key: string): void {
    const svc = services.getByKey(key);
    const existing = slices.byIndex('service', key).filter((s) => s.metadata.labels?.[MANAGED_BY] === 'endpointslice-controller.k8s.io');
    const spec = svc?.spec as { selector?: Record<string, string>; ports?: ServicePort[]; publishNotReadyAddresses?: boolean } | undefined;
    if (!svc || !spec?.selector || Object.keys(spec.selector).length === 0) {
      // Services without a selector have endpoints managed by their users.
      if (!svc) for (const s of existing) store.remove('endpointslices.discovery.k8s.io', s.metadata.namespace, s.metadata.name);
      return;
    }
    const ports = spec.ports ?? [];
    const groups = new Map<string, { ports: { name: string; port: number; protocol: string }[]; endpoints: SliceEndpoint[] }>();
    const legacy = new Map<string, { ports: { name?: string; port: number; protocol: string }[]; addresses: object[]; notReadyAddresses: object[] }>();
    for (const pod of selectedPods(svc)) {
      const ip = (pod.status as { podIP?: string } | undefined)?.podIP;
      if (!ip || isTerminal(pod)) continue;
      const resolved = ports.map((sp) => ({ name: sp.name ?? '', port: resolveTargetPort(pod, sp), protocol: sp.protocol ?? 'TCP' }));
      if (resolved.some((p) => p.port === undefined)) continue;
      const portList = resolved as { name: string; port: number; protocol: string }[];
      const sig = JSON.stringify(portList);
      const terminating = isDeleting(pod);
      const serving = isPodReady(pod);
      const ready = (serving || !!spec.publishNotReadyAddresses) && !terminating;
      const nodeName = (pod.spec as { nodeName?: string }).nodeName;
      const zone = nodeName ? nodes.get(undefined, nodeName)?.metadata.labels?.['topology.kubernetes.io/zone'] : undefined;
      const group = groups.get(sig) ?? { ports: portList, endpoints: [] };
      group.endpoints.push({
        addresses: [ip],
        conditions: { ready, serving: serving || !!spec.publishNotReadyAddresses, terminating },
        ...(nodeName ? { nodeName } : {}),
        ...(zone ? { zone } : {}),
        targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name, uid: pod.metadata.uid },
      });
      groups.set(sig, group);
      if (terminating) continue;
      const address = { ip, ...(nodeName ? { nodeName } : {}), targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid } };
      const subset = legacy.get(sig) ?? { ports: portList.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol })), addresses: [], notReadyAddresses: [] };
      (ready ? subset.addresses : subset.notReadyAddresses).push(address);
      legacy.set(sig, subset);
    }
    if (groups.size === 0) groups.set('[]', { ports: [], endpoints: [] });
    writeSlices(svc, existing, [...groups.values()]);
    writeEndpoints(svc, [...legacy.values()]);
  }

  function writeSlices(svc: StoredObject, existing: StoredObject[], groups: { ports: object[]; endpoints: SliceEndpoint[] }[]): void {
    const byOrder = [...existing].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const suffix = svc.metadata.uid.replace(/[^a-z0-9]/g, '').slice(0, 5);
    groups.forEach((g, i) => {
      const body = {
        addressType: 'IPv4',
        endpoints: g.endpoints.sort((a, b) => a.targetRef.name.localeCompare(b.targetRef.name)),
        ports: g.ports,
      };
      const current = byOrder[i];
      if (current) {
        store.mutate('endpointslices.discovery.k8s.io', current.metadata.namespace, current.metadata.name, (s) => {
          s.addressType = body.addressType;
          s.endpoints = body.endpoints;
          s.ports = body.ports;
        });
        return;
      }
      store.create('endpointslices.discovery.k8s.io', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${svc.metadata.name}-${suffix}${i === 0 ? '' : `-${i}`}`,
          namespace: svc.metadata.namespace,
          uid: '',
          resourceVersion: '',
          creationTimestamp: '',
          labels: { [SERVICE_NAME_LABEL]: svc.metadata.name, [MANAGED_BY]: 'endpointslice-controller.k8s.io' },
          ownerReferences: [{ ...controllerRef(svc) }],
        },
        ...body,
      });
    });
    for (const extra of byOrder.slice(groups.length)) store.remove('endpointslices.discovery.k8s.io', extra.metadata.namespace, extra.metadata.name);
  }

  function writeEndpoints(svc: StoredObject, subsets: { ports: object[]; addresses: object[]; notReadyAddresses: object[] }[]): void {
    const clean = subsets.map((s) => ({
      ...(s.addresses.length ? { addresses: s.addresses } : {}),
      ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses } : {}),
      ports: s.ports,
    }));
    const ns = svc.metadata.namespace;
    const name = svc.metadata.name;
    if (!store.get('endpoints', ns, name)) {
      store.create('endpoints', {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name, namespace: ns, uid: '', resourceVersion: '', creationTimestamp: '', labels: { ...(svc.metadata.labels ?? {}), [ENDPOINTS_MANAGED_BY]: 'endpoint-controller' } },
        ...(clean.length ? { subsets: clean } : {}),
      });
      return;
    }
    store.mutate('endpoints', ns, name, (e) => {
      if (clean.length) e.subsets = clean;
      else delete e.subsets;
    });
  }

  const offS = services.onChange((type, svc) => {
    queue.add(objectKey(svc));
    if (type === 'DELETED') store.remove('endpoints', svc.metadata.namespace, svc.metadata.name);
  });
  const offP = pods.onChange((_t, pod, old) => {
    const ns = pod.metadata.namespace!;
    for (const svc of services.byIndex(INDEX.namespace, ns)) {
      const selector = (svc.spec as { selector?: Record<string, string> }).selector;
      if (mapSelectorMatches(selector, pod.metadata.labels) || (old && mapSelectorMatches(selector, old.metadata.labels))) queue.add(objectKey(svc));
    }
  });
  for (const svc of services.list()) queue.add(objectKey(svc));
  return {
    stop() {
      offS();
      offP();
      queue.stop();
    },
  };
}
