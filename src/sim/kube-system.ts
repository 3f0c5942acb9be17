import { KUBERNETES_VERSION } from './kubernetes-version.js';
import type { ObjectStore, StoredObject } from './store.js';

/**
 * What a kind cluster runs in kube-system, so that the embedded cluster looks like one to whoever
 * looks (`kubectl get pods -A`): CoreDNS with its Service and Corefile, the kube-proxy and kindnet
 * DaemonSets on every node, the control plane's static pods (mirror pods owned by their Node),
 * and the local-path provisioner in local-path-storage. Their containers run as the embedded
 * runtime's generic image: they start, stay running and answer nothing in particular; the
 * cluster's DNS, proxy and network are still the data plane's own. The host-network pods have
 * their node's address, as on kind. CoreDNS and the provisioner are
 * kept on the control-plane node (where kind's usually land), so a drain of a worker never
 * evicts them and they never count in a workload's blast radius.
 */
type Json = Record<string, unknown>;

/** The other images of kind v0.30's node image for Kubernetes 1.34 (kubeadm 1.34's etcd and CoreDNS, kind's own kindnetd and provisioner). */
const ETCD_IMAGE = 'registry.k8s.io/etcd:3.6.4-0';
const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.12.1';
const KINDNETD_IMAGE = 'docker.io/kindest/kindnetd:v20250512-df8de77b';
const LOCAL_PATH_PROVISIONER_IMAGE = 'docker.io/kindest/local-path-provisioner:v20250214-acbabc1a';

const meta = (name: string, namespace: string, extra: Json = {}): Json => ({ name, namespace, uid: '', resourceVersion: '', creationTimestamp: '', ...extra });
const onControlPlane = {
  nodeSelector: { 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/control-plane': '' },
  tolerations: [
    { key: 'CriticalAddonsOnly', operator: 'Exists' },
    { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
  ],
};
const everywhere = { tolerations: [{ operator: 'Exists' }] };

function create(store: ObjectStore, resource: string, object: Json): void {
  const m = object.metadata as { namespace?: string; name: string };
  if (!store.get(resource, m.namespace, m.name)) store.create(resource, object as unknown as StoredObject);
}

function staticPod(node: string, component: string, image: string, command: string[], cpu: string): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta(`${component}-${node}`, 'kube-system', {
      labels: { component, tier: 'control-plane' },
      annotations: { 'kubernetes.io/config.mirror': `${component}-${node}`, 'kubernetes.io/config.source': 'file' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: '', controller: true }],
    }),
    spec: {
      nodeName: node,
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      priority: 2000001000,
      tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
      containers: [{ name: component, image, command, resources: { requests: { cpu } } }],
    },
  };
}

function daemonSet(name: string, labels: Record<string, string>, image: string, extra: Json = {}): Json {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta(name, 'kube-system', { labels }),
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: {
        metadata: { labels },
        spec: { hostNetwork: true, priorityClassName: 'system-node-critical', ...everywhere, containers: [{ name, image, ...extra }] },
      },
    },
  };
}

export function installKindSystem(store: ObjectStore, controlPlane: string): void {
  const nodeUid = store.get('nodes', undefined, controlPlane)?.metadata.uid ?? '';
  const components: [string, string, string[], string][] = [
    ['etcd', ETCD_IMAGE, ['etcd', '--data-dir=/var/lib/etcd'], '100m'],
    ['kube-apiserver', `registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}`, ['kube-apiserver', '--authorization-mode=Node,RBAC'], '250m'],
    ['kube-controller-manager', `registry.k8s.io/kube-controller-manager:${KUBERNETES_VERSION}`, ['kube-controller-manager', '--leader-elect=true'], '200m'],
    ['kube-scheduler', `registry.k8s.io/kube-scheduler:${KUBERNETES_VERSION}`, ['kube-scheduler', '--leader-elect=true'], '100m'],
  ];
  for (const [component, image, command, cpu] of components) {
    const pod = staticPod(controlPlane, component, image, command, cpu);
    ((pod.metadata as Json).ownerReferences as Json[])[0]!.uid = nodeUid;
    create(store, 'pods', pod);
  }

  create(store, 'configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('coredns', 'kube-system'),
    data: { Corefile: '.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n       ttl 30\n    }\n    prometheus :9153\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n' },
  });
  const dns = { 'k8s-app': 'kube-dns' };
  create(store, 'deployments.apps', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('coredns', 'kube-system', { labels: dns }),
    spec: {
      replicas: 2,
      selector: { matchLabels: dns },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
      template: {
        metadata: { labels: dns },
        spec: {
          priorityClassName: 'system-cluster-critical',
          ...onControlPlane,
          containers: [
            {
              name: 'coredns',
              image: COREDNS_IMAGE,
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
              resources: { requests: { cpu: '100m', memory: '70Mi' }, limits: { memory: '170Mi' } },
            },
          ],
        },
      },
    },
  });
  create(store, 'services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('kube-dns', 'kube-system', { labels: { ...dns, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' } }),
    spec: {
      selector: dns,
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      type: 'ClusterIP',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  });

  create(store, 'daemonsets.apps', daemonSet('kube-proxy', { 'k8s-app': 'kube-proxy' }, `registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}`, { command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf'] }));
  create(store, 'daemonsets.apps', daemonSet('kindnet', { app: 'kindnet', 'k8s-app': 'kindnet', tier: 'node' }, KINDNETD_IMAGE, { resources: { requests: { cpu: '100m', memory: '50Mi' }, limits: { cpu: '100m', memory: '50Mi' } } }));

  if (!store.get('namespaces', undefined, 'local-path-storage')) {
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'local-path-storage', uid: '', resourceVersion: '', creationTimestamp: '' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } } as unknown as StoredObject);
  }
  const provisioner = { app: 'local-path-provisioner' };
  create(store, 'deployments.apps', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('local-path-provisioner', 'local-path-storage'),
    spec: {
      replicas: 1,
      selector: { matchLabels: provisioner },
      template: {
        metadata: { labels: provisioner },
        spec: { ...onControlPlane, containers: [{ name: 'local-path-provisioner', image: LOCAL_PATH_PROVISIONER_IMAGE, command: ['local-path-provisioner', '--debug', 'start'] }] },
      },
    },
  });
}
