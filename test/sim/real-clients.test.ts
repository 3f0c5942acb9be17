import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installed } from './installed.js';
import { clientGoInformer, informersFollowARollout } from '../support/client-go.js';
import { eventually } from '../support/eventually.js';
import { isReady, startSim, type SimClients } from './sim-fixture.js';

/**
 * Clients other than client-node against the whole embedded cluster: Debian's python3-kubernetes
 * (the official Python client, which validates required fields while deserialising and sends
 * `watch=True`) and kubectl on pods with init containers.
 */

const NS = 'default';
/** Debian's interpreter: the one python3-kubernetes installs into (a pyenv python3 on PATH has no such package). */
const PYTHON = '/usr/bin/python3';

const initPod = (name: string, init: k8s.V1Container, labels: Record<string, string> = {}): k8s.V1Pod => ({
  metadata: { name, labels },
  spec: {
    terminationGracePeriodSeconds: 1,
    initContainers: [init],
    containers: [{ name: 'app', image: 'gameday/web:1', ports: [{ name: 'http', containerPort: 8080 }] }],
  },
});

/** Lists, reads, and watches pods through the official Python client; prints what it saw as JSON. */
const PYTHON_SCRIPT = `
import json, sys, threading, time
from kubernetes import client, config, watch

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
ns = "${NS}"
out = {}
out["listed"] = sorted(p.metadata.name for p in v1.list_namespaced_pod(ns).items)
pod = v1.read_namespaced_pod("py-init", ns)
out["init"] = [{"name": s.name, "imageID": s.image_id, "ready": s.ready, "restartCount": s.restart_count,
                "terminated": s.state.terminated.reason if s.state.terminated else None} for s in pod.status.init_container_statuses]
out["phase"] = pod.status.phase

def create():
    time.sleep(0.5)
    v1.create_namespaced_pod(ns, {
        "metadata": {"name": "py-watched", "labels": {"watched": "yes"}},
        "spec": {"initContainers": [{"name": "prepare", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 0.2"]}],
                 "containers": [{"name": "app", "image": "gameday/web:1"}]}})

threading.Thread(target=create).start()
events = []
w = watch.Watch()
started = time.time()
for e in w.stream(v1.list_namespaced_pod, ns, label_selector="watched=yes", timeout_seconds=8):
    events.append({"type": e["type"], "name": e["object"].metadata.name, "phase": e["object"].status.phase})
    if e["type"] == "MODIFIED" and e["object"].status.phase == "Running":
        w.stop()
out["events"] = events
out["watchSeconds"] = time.time() - started
print(json.dumps(out))
`;

describe('sim: real clients on pods with init containers', function () {
  this.timeout(60_000);
  let sim: SimClients;
  let dir: string;
  const read = (name: string) => sim.core.readNamespacedPod({ namespace: NS, name });

  before(async () => {
    sim = await startSim();
    dir = mkdtempSync(join(tmpdir(), 'gameday-real-clients-'));
    await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
  });
  after(async () => {
    await sim?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the official Python client (Debian python3-kubernetes)', () => {
    if (!installed(PYTHON, ['-c', 'import kubernetes'])) {
      it(`is not installed for ${PYTHON}: apt-get install python3-kubernetes`);
      return;
    }

    it('lists and reads a pod with an init container, and watches a new pod from ADDED to Running', async () => {
      await sim.core.createNamespacedPod({ namespace: NS, body: initPod('py-init', { name: 'setup', image: 'busybox:1.36', command: ['sh', '-c', 'echo set up'] }) });
      await eventually('py-init Ready', async () => isReady(await read('py-init')));
      writeFileSync(join(dir, 'client.py'), PYTHON_SCRIPT);
      const run = await execa(PYTHON, [join(dir, 'client.py'), join(dir, 'kubeconfig')], { reject: false, timeout: 45_000, env: { HOME: dir } });
      expect(run.exitCode, run.stderr).to.equal(0);
      const out = JSON.parse(run.stdout) as { listed: string[]; init: Record<string, unknown>[]; phase: string; events: { type: string; name: string; phase: string }[]; watchSeconds: number };
      expect(out.listed).to.include('py-init');
      expect(out.phase).to.equal('Running');
      expect(out.init).to.have.length(1);
      expect(out.init[0]).to.include({ name: 'setup', ready: true, restartCount: 0, terminated: 'Completed' });
      expect(out.init[0]!.imageID).to.match(/@sha256:[0-9a-f]{64}$/);
      expect(out.events[0]).to.deep.include({ type: 'ADDED', name: 'py-watched' });
      expect(out.events.filter((e) => e.type === 'MODIFIED').length).to.be.at.least(1);
      expect(out.events.at(-1)).to.deep.equal({ type: 'MODIFIED', name: 'py-watched', phase: 'Running' });
      // A watch answered with a plain list would have ended at once, with no events.
      expect(out.watchSeconds).to.be.above(0.4);
    });
  });

  describe('kubectl', () => {
    const kubectl = (args: string[]) =>
      execa('kubectl', args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, reject: false, timeout: 30_000 });
    /** kubectl's STATUS and RESTARTS columns for a pod. */
    const columns = async (pod: string): Promise<{ status: string; restarts: string }> => {
      const r = await kubectl(['get', 'pod', pod, '--no-headers']);
      const [, , status, restarts] = r.stdout.trim().split(/\s+/);
      return { status: status ?? r.stderr, restarts: restarts ?? '' };
    };

    before(function () {
      if (!installed('kubectl', ['version', '--client'])) this.skip();
    });

    it('shows a failed init container as Init:Error, and a crash-looping one as Init:CrashLoopBackOff with its restarts', async () => {
      const failing: k8s.V1Container = { name: 'migrate', image: 'busybox:1.36', command: ['sh', '-c', 'echo "migration failed" >&2; test -f /done || exit 3'] };
      await sim.core.createNamespacedPod({ namespace: NS, body: { ...initPod('k-init-error', failing), spec: { ...initPod('k-init-error', failing).spec!, restartPolicy: 'Never' } } });
      await sim.core.createNamespacedPod({ namespace: NS, body: initPod('k-init-crash', failing) });
      await eventually('Init:Error', async () => (await columns('k-init-error')).status === 'Init:Error');
      await eventually('Init:CrashLoopBackOff', async () => (await columns('k-init-crash')).status === 'Init:CrashLoopBackOff');
      expect(Number((await columns('k-init-crash')).restarts.split(' ')[0])).to.be.at.least(1);
      const described = await kubectl(['describe', 'pod', 'k-init-crash']);
      expect(described.stdout).to.match(/Init Containers:\s+migrate:[\s\S]*State:\s+Waiting\s+Reason:\s+CrashLoopBackOff\s+Last State:\s+Terminated\s+Reason:\s+Error\s+Exit Code:\s+3/);
      expect(described.stdout).to.match(/Warning\s+BackOff\s+.*Back-off restarting failed container migrate in pod k-init-crash_default/);
    });

    it('prints an init container\'s log with logs -c, and shows Init:0/1 while it waits', async () => {
      await sim.core.createNamespacedPod({ namespace: NS, body: initPod('k-init-wait', { name: 'wait-for-db', image: 'busybox:1.36', command: ['sh', '-c', 'until nslookup db; do echo "waiting for db"; sleep 0.2; done'] }) });
      await eventually('Init:0/1', async () => (await columns('k-init-wait')).status === 'Init:0/1');
      const logs = await eventually('waiting lines', async () => {
        const r = await kubectl(['logs', 'k-init-wait', '-c', 'wait-for-db']);
        return r.stdout.includes('waiting for db') ? r : undefined;
      });
      expect(logs.exitCode).to.equal(0);
      expect(logs.stdout).to.contain("** server can't find db.default.svc.cluster.local: NXDOMAIN");
      await sim.core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'db' }, spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } } });
      await eventually('Running', async () => (await columns('k-init-wait')).status === 'Running');
      const final = (await kubectl(['logs', 'k-init-wait', '-c', 'wait-for-db'])).stdout;
      expect(final, final).to.match(/Name:\s+db\.default\.svc\.cluster\.local\nAddress: 10(\.\d+){3}\n/);
    });
  });

  describe('client-go (a shared informer factory, built from the Go module proxy)', () => {
    it('syncs its caches, follows a rollout to two ready replicas, and sees a deleted pod terminate and go', async function () {
      const tool = clientGoInformer();
      if ('missing' in tool) {
        console.log(`      skipped: ${tool.missing}`);
        return this.skip();
      }
      const seen = await informersFollowARollout(tool.path, join(dir, 'kubeconfig'), sim.kubeConfig, 'client-go');
      expect(seen.version).to.match(/^v1\.\d+\.\d+/);
    });
  });
});
