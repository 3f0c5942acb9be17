import type { KubeConfig } from '@kubernetes/client-node';
import { rawRequest } from '../../src/cluster/raw-request.js';

/**
 * Nodes for the real control plane in the tests, made the way kwok makes fake ones: Node objects
 * and Leases posted through the API, and a stage that moves each pod bound to them to Running and
 * Ready, and finishes a pod once it is being deleted. Nothing runs in the pods: these tests
 * compare what the control plane (API server, scheduler, controllers) does, not a data plane.
 */
export interface ApiNode {
  readonly name: string;
  readonly zone: string;
  readonly ip: string;
}

export const API_NODES: readonly ApiNode[] = [
  { name: 'gameday-worker', zone: 'a', ip: '172.18.0.3' },
  { name: 'gameday-worker2', zone: 'b', ip: '172.18.0.4' },
  { name: 'gameday-worker3', zone: 'c', ip: '172.18.0.5' },
];

interface Pod {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status?: { phase?: string };
}

async function api(kc: KubeConfig, method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
  const r = await rawRequest(kc, path, { method, body: body === undefined ? undefined : JSON.stringify(body), contentType });
  if (r.status >= 300 && !(method === 'DELETE' && r.status === 404)) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return r.body ? JSON.parse(r.body) : undefined;
}

export class ApiNodes {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly handled = new Set<string>();
  private readonly silenced = new Set<string>();
  private readonly boundAt = new Map<string, number>();
  private podIndex = 10;
  /** The stage's last failed call, for a test that times out waiting for it. */
  lastError: string | undefined;

  constructor(
    private readonly kc: KubeConfig,
    readonly nodes: readonly ApiNode[] = API_NODES,
    /** From binding to Running and Ready. @default 1000 */
    private readonly startMs = 1000,
  ) {}

  async start(): Promise<void> {
    for (const n of this.nodes) {
      await api(this.kc, 'POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'topology.kubernetes.io/zone': n.zone } },
      });
      await api(this.kc, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        metadata: { name: n.name },
        spec: { holderIdentity: n.name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace(/Z$/, '000Z') },
      });
    }
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat().catch(() => {}), 5000);
    void this.stage();
  }

  private async heartbeat(): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const n of this.nodes) {
      if (this.silenced.has(n.name)) continue;
      await api(this.kc, 'PATCH', `/api/v1/nodes/${n.name}/status`, {
        status: {
          // The four conditions a kubelet posts, with its reasons and messages.
          conditions: [
            ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
            ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
            ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
            ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
          ].map(([type, status, reason, message]) => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now })),
          addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }],
          capacity: { cpu: '8', memory: '16Gi', pods: '110' },
          allocatable: { cpu: '8', memory: '16Gi', pods: '110' },
          nodeInfo: { kubeletVersion: 'v1.34.4', containerRuntimeVersion: 'gameday://test', operatingSystem: 'linux', architecture: 'amd64', kernelVersion: '', osImage: '', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' },
        },
      }, 'application/strategic-merge-patch+json');
      await api(this.kc, 'PATCH', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${n.name}`, { spec: { renewTime: new Date().toISOString().replace(/Z$/, '000Z') } }, 'application/merge-patch+json');
    }
  }

  /** Polls bound pods (a watch would do; polling keeps the stage simple and its lag bounded). */
  private async stage(): Promise<void> {
    const names = new Set(this.nodes.map((n) => n.name));
    while (!this.stopped) {
      try {
        const list = (await api(this.kc, 'GET', '/api/v1/pods')) as { items: Pod[] };
        for (const pod of list.items) {
          if (!pod.spec.nodeName || !names.has(pod.spec.nodeName) || this.silenced.has(pod.spec.nodeName)) continue;
          // One pod's failure (it went away under us) must not hold up the others.
          try {
            if (pod.metadata.deletionTimestamp) await this.finish(pod);
            else if (pod.status?.phase === 'Pending' && !this.handled.has(pod.metadata.uid)) await this.run(pod);
          } catch (err) {
            this.lastError = err instanceof Error ? err.message : String(err);
          }
        }
      } catch (err) {
        // The control plane is stopping: the next round, if any, sees.
        this.lastError = err instanceof Error ? err.message : String(err);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private async run(pod: Pod): Promise<void> {
    // A small real container starts and passes readiness about a second after binding; a stage
    // that made pods Ready at once would hide every dip a budget check is meant to see.
    const bound = this.boundAt.get(pod.metadata.uid) ?? Date.now();
    this.boundAt.set(pod.metadata.uid, bound);
    if (Date.now() - bound < this.startMs) return;
    const node = this.nodes.find((n) => n.name === pod.spec.nodeName)!;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const ip = `10.244.${this.nodes.indexOf(node) + 1}.${this.podIndex++ % 250}`;
    const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
    await api(this.kc, 'PATCH', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`, {
      status: {
        phase: 'Running',
        hostIP: node.ip,
        hostIPs: [{ ip: node.ip }],
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
        containerStatuses: pod.spec.containers.map((c) => ({ name: c.name, image: c.image, imageID: `docker.io/${c.image}@sha256:0`, containerID: `containerd://${pod.metadata.uid}-${c.name}`, ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
      },
    }, 'application/strategic-merge-patch+json');
    this.handled.add(pod.metadata.uid);
    this.boundAt.delete(pod.metadata.uid);
  }

  private async finish(pod: Pod): Promise<void> {
    // As a kubelet does once the containers have stopped: the final, immediate delete.
    await api(this.kc, 'DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}?gracePeriodSeconds=0`);
  }

  /** The node's kubelet stops posting status and renewing its Lease, as when it is cut off. */
  silence(name: string): void {
    this.silenced.add(name);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }
}
