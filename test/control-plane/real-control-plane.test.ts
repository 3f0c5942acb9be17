import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/nodes/command-runner.js';
import { locateControlPlane } from '../../src/control-plane/locate.js';
import { startRealControlPlane, sweepLeftovers } from '../../src/control-plane/real-control-plane.js';
import { KUBECTL_VERSIONS, kubectlBinary } from '../support/kubectl.js';
import { eventually } from '../support/eventually.js';
import { webDeployment } from '../support/kube-objects.js';
import { podsThroughApiServer, prometheusUnavailable, startPrometheus } from '../support/prometheus.js';
import { isReady, podsOf } from '../sim/sim-fixture.js';
import { realControlPlaneUnavailable, useRealCluster } from './real-cluster.js';
import { webWorkload } from './web-workload.js';

async function namespaceGone(namespace: string): Promise<boolean> {
  const list = await runCommand(['ip', 'netns', 'list']);
  return !list.stdout.split('\n').some((l) => l.split(' ')[0] === namespace);
}

describe('real control plane: upstream components in their own network namespace', function () {
  this.timeout(180_000);
  const real = useRealCluster();

  const kubectl = (bin: string, args: string[]) =>
    execa(bin, ['--kubeconfig', real.kubeconfig, ...args], { env: { KUBECACHEDIR: path.join(real.dir, 'kubecache') }, reject: false });

  it('serves the pinned Kubernetes version, with the API server reachable only through the namespace', async () => {
    const r = await kubectl(kubectlBinary('default')!, ['version', '-o', 'json']);
    expect(JSON.parse(r.stdout).serverVersion.gitVersion).to.equal('v1.34.4');
    const ns = real.cluster.controlPlane.network.namespace;
    // Inside the namespace there is no default route: nothing addressed elsewhere can leave it.
    const out = await runCommand(['ip', 'netns', 'exec', ns, 'ip', 'route', 'get', '192.0.2.1']);
    expect(out.exitCode, out.stdout).to.not.equal(0);
    expect(out.stderr).to.match(/unreachable/i);
    // …while every node and pod address is the namespace's own.
    const local = await runCommand(['ip', 'netns', 'exec', ns, 'ip', 'route', 'get', '10.244.3.7']);
    expect(local.stdout).to.match(/^local 10\.244\.3\.7 dev lo/);
  });

  it("runs its controllers: service accounts appear, and the real scheduler binds pods to gameday's nodes, which run them", async () => {
    await real.cluster.core.createNamespace({ body: { metadata: { name: 'sched' } } });
    await eventually('the default service account', async () => (await real.cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: 'sched' })).metadata?.name, 20_000);
    await real.cluster.apps.createNamespacedDeployment({
      namespace: 'sched',
      body: { metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }] } } } },
    });
    const pods = await eventually('three running pods', async () => {
      const list = await real.cluster.core.listNamespacedPod({ namespace: 'sched' });
      return list.items.length === 3 && list.items.every((p) => p.status?.phase === 'Running' && p.spec?.nodeName) ? list.items : undefined;
    }, 30_000);
    expect(new Set(pods.map((p) => p.spec!.nodeName))).to.have.length.greaterThan(1, 'the scheduler spreads replicas over nodes');
  });

  for (const version of ['default', ...KUBECTL_VERSIONS]) {
    it(`kubectl ${version}: nodes, apply, rollout status, get pods and budgets`, async function () {
      const bin = kubectlBinary(version);
      if (!bin || !existsSync(bin)) this.skip();
      const ns = `k${version.replace('.', '-')}`;
      const manifest = path.join(real.dir, `${ns}.yaml`);
      writeFileSync(manifest, webWorkload({ namespace: ns, replicas: 3 }));
      expect((await kubectl(bin!, ['create', 'namespace', ns])).exitCode).to.equal(0);
      const nodes = await kubectl(bin!, ['get', 'nodes']);
      expect(nodes.stdout).to.match(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
      expect(nodes.stdout).to.match(/gameday-worker2\s+Ready/);
      const applied = await kubectl(bin!, ['apply', '-f', manifest]);
      expect(applied.exitCode, applied.stderr).to.equal(0);
      const rollout = await kubectl(bin!, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
      expect(rollout.exitCode, rollout.stderr).to.equal(0);
      const pods = await kubectl(bin!, ['-n', ns, 'get', 'pods']);
      expect(pods.stdout).to.match(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
      expect(pods.stdout.match(/1\/1\s+Running/g)).to.have.length(3);
      const pdb = await kubectl(bin!, ['-n', ns, 'get', 'pdb']);
      expect(pdb.stdout).to.match(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE/);
      await kubectl(bin!, ['delete', 'namespace', ns, '--wait=false']);
    });
  }

  it('kubectl drain evicts each pod of the node through the Eviction API and finishes once they are gone', async () => {
    const bin = kubectlBinary('default')!;
    writeFileSync(path.join(real.dir, 'drain.yaml'), webWorkload({ namespace: 'drain', replicas: 6 }).replaceAll('app: web', 'app: drained'));
    await kubectl(bin, ['create', 'namespace', 'drain']);
    await kubectl(bin, ['apply', '-f', path.join(real.dir, 'drain.yaml')]);
    expect((await kubectl(bin, ['-n', 'drain', 'rollout', 'status', 'deployment/web', '--timeout=60s'])).exitCode).to.equal(0);
    const node = 'gameday-worker';
    const before = await real.cluster.core.listNamespacedPod({ namespace: 'drain', fieldSelector: `spec.nodeName=${node}` });
    const drained = await kubectl(bin, ['drain', node, '--ignore-daemonsets', '--pod-selector=app=drained', '--timeout=90s']);
    expect(drained.exitCode, drained.stderr).to.equal(0);
    for (const pod of before.items) expect(drained.stdout + drained.stderr).to.contain(`evicting pod drain/${pod.metadata!.name}`);
    expect(drained.stdout).to.contain(`node/${node} drained`);
    const after = await real.cluster.core.listNamespacedPod({ namespace: 'drain', fieldSelector: `spec.nodeName=${node}` });
    expect(after.items, 'no web pod is left on the drained node').to.have.length(0);
    expect((await kubectl(bin, ['uncordon', node])).exitCode).to.equal(0);
  });

  it('the official Python client lists and watches through TLS and a bearer token', async function () {
    const python = '/usr/bin/python3';
    const probe = await execa(python, ['-c', 'import kubernetes'], { reject: false });
    if (probe.exitCode !== 0) {
      console.log('      skipped: apt-get install python3-kubernetes');
      this.skip();
    }
    await real.cluster.core.createNamespace({ body: { metadata: { name: 'pyclient' } } });
    // Upstream's ServiceAccount admission refuses pods until the namespace's default account exists.
    await eventually('the default service account', async () => (await real.cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: 'pyclient' })).metadata?.name, 20_000);
    const script = `
import json, sys, threading, time
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
out = {"namespaces": sorted(n.metadata.name for n in v1.list_namespace().items)}
def create():
    time.sleep(0.5)
    v1.create_namespaced_pod("pyclient", {"metadata": {"name": "watched"}, "spec": {"containers": [{"name": "app", "image": "gameday/web:1"}]}})
threading.Thread(target=create).start()
events = []
w = watch.Watch()
for e in w.stream(v1.list_namespaced_pod, "pyclient", timeout_seconds=20):
    events.append([e["type"], e["object"].status.phase])
    if e["object"].status.phase == "Running":
        w.stop()
out["events"] = events
print(json.dumps(out))
`;
    const r = await execa(python, ['-c', script, real.kubeconfig], { reject: false });
    expect(r.exitCode, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as { namespaces: string[]; events: [string, string][] };
    expect(out.namespaces).to.include.members(['default', 'kube-system', 'pyclient']);
    expect(out.events[0]?.[0], r.stderr).to.equal('ADDED');
    expect(out.events.at(-1), 'the watch followed the pod to Running').to.deep.equal(['MODIFIED', 'Running']);
  });

  it('client-node lists, creates and watches through TLS and a bearer token', async () => {
    const k8s = await import('@kubernetes/client-node');
    const seen: string[] = [];
    const watch = new k8s.Watch(real.cluster.kubeConfig);
    const req = await watch.watch('/api/v1/namespaces/default/configmaps', {}, (type, obj: { metadata: { name: string } }) => seen.push(`${type} ${obj.metadata.name}`), () => {});
    await real.cluster.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'probe' }, data: { a: '1' } } });
    await eventually('the watch to see the config map', () => seen.includes('ADDED probe'), 10_000);
    req.abort();
    const list = await real.cluster.core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).to.include.members(['default', 'kube-system', 'kube-node-lease']);
  });

  it("Prometheus scrapes a gameday/web pod's metrics through the real API server's pod proxy, with a token and the cluster's CA", async function () {
    const why = prometheusUnavailable();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    await real.cluster.apps.createNamespacedDeployment({ namespace: 'default', body: webDeployment('scraped', 1) });
    const pod = await eventually('a running scraped pod', async () => {
      const [p] = (await podsOf(real.cluster.core, 'default', 'scraped')).filter(isReady);
      return p?.metadata?.name;
    }, 30_000);
    const cluster = real.cluster.kubeConfig.getCurrentCluster()!;
    const caFile = path.join(real.dir, 'prometheus-ca.pem');
    writeFileSync(caFile, Buffer.from(cluster.caData!, 'base64'));
    const auth = { token: real.cluster.kubeConfig.getCurrentUser()!.token!, caFile };
    const prom = await startPrometheus({ scrapeConfigs: [podsThroughApiServer('web', cluster.server, [{ namespace: 'default', name: pod, port: 8080 }], auth)] });
    try {
      // The kubelet's readiness and liveness checks are requests the pod counts.
      const counted = await eventually('a scraped request count', async () => {
        const res = (await (await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('http_requests_total{code="200",method="get"}')}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
        return res.data.result[0];
      }, 20_000);
      expect(counted.metric).to.include({ pod, namespace: 'default', job: 'web' });
      expect(Number(counted.value[1])).to.be.greaterThan(0);
    } finally {
      await prom.stop();
    }
  });
});

describe('real control plane: start and stop', function () {
  this.timeout(120_000);
  let why: string | undefined;
  before(async () => {
    why = await realControlPlaneUnavailable();
  });
  beforeEach(function () {
    if (why) this.skip();
  });

  it('a component that cannot start fails the start with the tail of its log, and leaves no namespace', async () => {
    const found = locateControlPlane();
    const dir = mkdtempSync(path.join(tmpdir(), 'gameday-cp-broken-'));
    try {
      const broken = path.join(dir, 'kube-apiserver');
      writeFileSync(broken, '#!/bin/sh\necho "E1129 unknown flag: --etcd-servers (a broken build)" >&2\nexit 3\n', { mode: 0o755 });
      const err = await startRealControlPlane({ binaries: { source: dir, paths: { ...found.paths, 'kube-apiserver': broken } } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/kube-apiserver exited \(code 3\) while starting/);
      expect(err?.message).to.contain('unknown flag: --etcd-servers (a broken build)');
      expect(await namespaceGone(`gdcp${process.pid}`)).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`\`gameday sim serve --control-plane real\` stops cleanly on ${signal}: no process, namespace or veth left`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'gameday-cp-serve-'));
      // No forced SIGKILL after the signal (execa's default after 5 s): stopping takes what it takes on a busy machine.
      const child = execa('node', ['dist/cli/main.js', 'sim', 'serve', '--control-plane', 'real', '--kubeconfig', path.join(dir, 'kc.yaml')], { reject: false, all: true, forceKillAfterDelay: false });
      try {
        await eventually('the serve command to say it is serving', () => (child.pid && existsSync(path.join(dir, 'kc.yaml')) ? true : undefined), 60_000);
        const ns = `gdcp${child.pid}`;
        const pids = (await runCommand(['ip', 'netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean).map(Number);
        expect(pids, "etcd, apiserver, controller-manager, scheduler and gameday's node side run in the namespace").to.have.length(5);
        child.kill(signal);
        const done = await child;
        expect(done.exitCode, done.all).to.equal(0);
        expect(done.all).to.contain('stopping the real control plane');
        expect(await namespaceGone(ns)).to.equal(true);
        for (const pid of pids) expect(() => process.kill(pid, 0), `component ${pid} is gone`).to.throw();
        expect((await runCommand(['ip', 'link', 'show', `${ns}h`])).exitCode, 'the host end of the veth pair is gone').to.not.equal(0);
      } finally {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a SIGKILLed gameday takes its components with it, and the next start sweeps its namespace', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gameday-cp-kill-'));
    const child = execa('node', ['dist/cli/main.js', 'sim', 'serve', '--control-plane', 'real', '--kubeconfig', path.join(dir, 'kc.yaml')], { reject: false });
    try {
      await eventually('the serve command to be serving', () => existsSync(path.join(dir, 'kc.yaml')) || undefined, 60_000);
      const ns = `gdcp${child.pid}`;
      const pids = (await runCommand(['ip', 'netns', 'pids', ns])).stdout.split(/\s+/).filter(Boolean).map(Number);
      child.kill('SIGKILL');
      await child;
      await eventually('every component to die with its parent', () => pids.every((pid) => { try { process.kill(pid, 0); return false; } catch { return true; } }), 10_000);
      expect(await namespaceGone(ns), 'a SIGKILL leaves the namespace for the next start to sweep').to.equal(false);
      const leftovers = await sweepLeftovers();
      expect(leftovers).to.include(ns);
      expect(leftovers.some((l) => path.basename(l).startsWith(`gameday-cp-${child.pid}-`)), 'its state directory is swept too').to.equal(true);
      expect(await namespaceGone(ns)).to.equal(true);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
