import { expect } from 'chai';
import { execa } from 'execa';
import { rawRequest } from '../../src/cluster/raw-request.js';
import { SimNodeAccess } from '../../src/nodes/sim-node-access.js';
import { clientGoInformer, informersFollowARollout } from '../support/client-go.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/free-port.js';
import { kubectlBinary, whileForwarding } from '../support/kubectl.js';
import { useRealCluster } from './real-cluster.js';

interface PodView {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string; reason?: string }[] };
}

/**
 * gameday's own nodes (kubelets, container runtime, data plane) joined to upstream Kubernetes:
 * the real scheduler binds, the real controllers react, the real API server proxies to pods at
 * their own addresses, and node faults reach the nodes through its node proxy.
 */
describe("gameday's nodes on the real control plane", function () {
  this.timeout(120_000);
  const real = useRealCluster();

  const pods = async (): Promise<PodView[]> => {
    const r = await rawRequest(real.cluster.kubeConfig, '/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb');
    return (JSON.parse(r.body) as { items: PodView[] }).items;
  };
  const running = (list: PodView[]) => list.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

  before(async () => {
    const core = real.cluster.core;
    await core.createNamespace({ body: { metadata: { name: 'shop' } } });
    await real.cluster.apps.createNamespacedDeployment({
      namespace: 'shop',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [{ name: 'web', image: 'gameday/web:1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 } }],
            },
          },
        },
      },
    });
    await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } });
    await eventually('three web pods Running and Ready', async () => running(await pods()).length === 3, 30_000);
  });

  it('register as kind nodes do: Ready, zoned, heartbeating through Leases the real garbage collector keeps', async () => {
    const nodes = (await real.cluster.core.listNode()).items;
    expect(nodes.map((n) => n.metadata?.name).sort()).to.deep.equal(['gameday-control-plane', 'gameday-worker', 'gameday-worker2', 'gameday-worker3']);
    for (const n of nodes) expect(n.status?.conditions?.find((c) => c.type === 'Ready')?.status, n.metadata?.name).to.equal('True');
    expect(nodes.find((n) => n.metadata?.name === 'gameday-worker2')?.metadata?.labels?.['topology.kubernetes.io/zone']).to.equal('b');
    const worker = nodes.find((n) => n.metadata?.name === 'gameday-worker')!;
    const lease = await real.cluster.kubeConfig.makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api).readNamespacedLease({ namespace: 'kube-node-lease', name: 'gameday-worker' });
    expect(lease.metadata?.ownerReferences?.[0]?.uid, 'the Lease is owned by the Node the API server knows').to.equal(worker.metadata?.uid);
    const renewed = lease.spec?.renewTime;
    await eventually('the Lease renewed', async () => {
      const again = await real.cluster.kubeConfig.makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api).readNamespacedLease({ namespace: 'kube-node-lease', name: 'gameday-worker' });
      return String(again.spec?.renewTime) !== String(renewed);
    }, 5000);
  });

  it("run pods the real scheduler binds: pod IPs in the node's range, ready in the real EndpointSlice, answering the API server's proxy on real sockets", async () => {
    const list = running(await pods());
    const ips = list.map((p) => p.status.podIP!);
    expect(new Set(ips).size).to.equal(3);
    for (const p of list) {
      const index = ['gameday-worker', 'gameday-worker2', 'gameday-worker3'].indexOf(p.spec.nodeName!) + 1;
      expect(p.status.podIP, p.metadata.name).to.match(new RegExp(`^10\\.244\\.${index}\\.\\d+$`));
    }
    const slices = await rawRequest(real.cluster.kubeConfig, '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb');
    const ready = (JSON.parse(slices.body) as { items: { endpoints?: { addresses: string[]; conditions: { ready?: boolean } }[] }[] }).items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready).flatMap((e) => e.addresses);
    expect(ready.sort()).to.deep.equal([...ips].sort());
    const answered = new Set<string>();
    for (let i = 0; i < 60 && answered.size < 3; i++) {
      const r = await rawRequest(real.cluster.kubeConfig, '/api/v1/namespaces/shop/services/web:http/proxy/');
      expect(r.status, r.body).to.equal(200);
      answered.add((JSON.parse(r.body) as { ip: string }).ip);
    }
    expect([...answered].sort(), 'the real proxy spreads over every ready pod').to.deep.equal([...ips].sort());
  });

  it('show up in real kubectl as on kind', async function () {
    const kubectl = kubectlBinary('default');
    if (!kubectl) this.skip();
    const r = await execa(kubectl, ['--kubeconfig', real.kubeconfig, 'get', 'pods', '-n', 'shop', '-o', 'wide'], { env: { KUBECACHEDIR: `${real.dir}/kube-cache` }, reject: false });
    expect(r.exitCode, r.stderr).to.equal(0);
    expect(r.stdout.split('\n').filter((l) => /\s1\/1\s+Running\s/.test(l))).to.have.length(3);
  });

  it("serve exec, attach, port-forward and logs to the API server as a kubelet does: SPDY on port 10250, for real kubectl and client-node", async function () {
    const kubectl = kubectlBinary('default');
    if (!kubectl) this.skip();
    await real.cluster.core.createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'box' }, spec: { containers: [{ name: 'box', image: 'busybox:1.36', command: ['sh', '-c', 'echo hello from box; sleep 3600'] }] } } });
    await real.cluster.core.createNamespacedPod({ namespace: 'shop', body: { metadata: { name: 'typist' }, spec: { restartPolicy: 'Never', containers: [{ name: 'sh', image: 'busybox:1.36', command: ['sh'], stdin: true, stdinOnce: true }] } } });
    await eventually('box Running', async () => (await real.cluster.core.readNamespacedPod({ namespace: 'shop', name: 'box' })).status?.phase === 'Running', 20_000);
    const k = (args: string[], input?: string) => execa(kubectl, ['--kubeconfig', real.kubeconfig, '-n', 'shop', ...args], { env: { KUBECACHEDIR: `${real.dir}/kube-cache` }, reject: false, ...(input !== undefined ? { input } : {}) });
    const logs = await k(['logs', 'box']);
    expect(logs.stdout, logs.stderr).to.equal('hello from box');
    const ok = await k(['exec', 'box', '--', 'sh', '-c', 'echo out; echo err >&2']);
    // kubectl's own log lines are not the container's stderr. It once logged "Unknown stream id 1, discarding message"
    // after the output had arrived whole: kube-apiserver's WebSocket translator sends an empty message on stdout to say
    // the connection is up (apiserver pkg/util/proxy/websocket.go), and kubectl 1.32's client-go could read it before it
    // had made its stdout stream; client-go 0.34 makes every stream before it reads (tools/remotecommand/websocket.go).
    expect([ok.exitCode, ok.stdout, withoutKlog(ok.stderr)]).to.deep.equal([0, 'out', 'err']);
    const failed = await k(['exec', 'box', '--', 'sh', '-c', 'exit 3']);
    expect(failed.exitCode, failed.stderr).to.equal(3);
    const piped = await k(['exec', '-i', 'box', '--', 'cat'], 'piped through stdin\n');
    expect(piped.stdout, piped.stderr).to.equal('piped through stdin');
    const { Exec } = await import('@kubernetes/client-node');
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const status = await new Promise<{ status?: string }>((resolve, reject) => {
      void new Exec(real.cluster.kubeConfig).exec('shop', 'box', 'box', ['sh', '-c', 'echo $HOSTNAME'], out, null, null, false, (s) => resolve(s)).catch(reject);
    });
    expect(status.status).to.equal('Success');
    expect(text.trim()).to.equal('box');
    await eventually('typist Running', async () => (await real.cluster.core.readNamespacedPod({ namespace: 'shop', name: 'typist' })).status?.phase === 'Running', 20_000);
    const attached = await k(['attach', '-i', 'typist'], 'echo typed through the kubelet\n');
    expect([attached.exitCode, attached.stdout], attached.stderr).to.deep.equal([0, 'typed through the kubelet']);
    const web = running(await pods())[0]!;
    const port = await freePort();
    const { result: forwarded } = await whileForwarding(kubectl, ['--kubeconfig', real.kubeconfig, '-n', 'shop', `pod/${web.metadata.name}`, `${port}:8080`], { KUBECACHEDIR: `${real.dir}/kube-cache` }, () =>
      fetch(`http://127.0.0.1:${port}/through-the-kubelet`).then((r) => r.json() as Promise<{ pod: string; path: string }>),
    );
    expect(forwarded).to.include({ pod: web.metadata.name, path: '/through-the-kubelet' });
  });

  it('serve client-go: a shared informer factory syncs, follows a rollout and sees a pod terminate and go', async function () {
    const tool = clientGoInformer();
    if ('missing' in tool) {
      console.log(`      skipped: ${tool.missing}`);
      return this.skip();
    }
    const seen = await informersFollowARollout(tool.path, real.kubeconfig, real.cluster.kubeConfig, 'client-go');
    expect(seen.version).to.equal('v1.34.4');
  });

  it('cut off from the control plane: Unknown, tainted, pods evicted by the real taint manager and replaced; healed: Ready again, the evicted pod finished', async () => {
    const access = new SimNodeAccess(real.cluster.kubeConfig);
    const victim = running(await pods())[0]!;
    const node = victim.spec.nodeName!;
    await access.blockTraffic(node, { id: 'cut', peers: ['172.18.0.2'], scope: 'control-plane' });
    try {
      await eventually(`${node} Ready=Unknown with the unreachable NoExecute taint`, async () => {
        const n = await real.cluster.core.readNode({ name: node });
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'Unknown' && n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
      }, 20_000);
      const evicted = await eventually('the pod marked for deletion by the taint manager', async () => {
        const p = (await pods()).find((x) => x.metadata.uid === victim.metadata.uid);
        return p?.metadata.deletionTimestamp ? p : undefined;
      }, 20_000);
      expect(evicted.status.conditions?.find((c) => c.type === 'DisruptionTarget')?.reason).to.equal('DeletionByTaintManager');
      // The kubelet cannot hear of the deletion: the pod stays Terminating while its replacement runs.
      await eventually('a replacement Running elsewhere', async () => running(await pods()).filter((p) => p.spec.nodeName !== node).length === 3, 20_000);
      expect((await pods()).some((p) => p.metadata.uid === victim.metadata.uid), 'still Terminating while cut off').to.equal(true);
    } finally {
      await access.unblockTraffic(node, 'cut');
    }
    await eventually(`${node} Ready again`, async () => (await real.cluster.core.readNode({ name: node })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 20_000);
    await eventually('the evicted pod finished and gone', async () => !(await pods()).some((p) => p.metadata.uid === victim.metadata.uid), 20_000);
  });
});

/** Text without the lines a Go client logs through klog (`E1129 15:52:17.008246   22444 websocket.go:296] …`). */
function withoutKlog(text: string): string {
  return text.split('\n').filter((line) => !/^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [\w.-]+:\d+\] /.test(line)).join('\n');
}
