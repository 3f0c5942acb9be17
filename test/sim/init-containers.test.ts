import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { Readable, Writable } from 'node:stream';
import { eventually } from '../support/eventually.js';
import { httpService as webService, webDeployment } from '../support/kube-objects.js';
import { isReady, startSim, type SimClients } from './sim-fixture.js';

const NS = 'default';

function podWithInit(name: string, init: k8s.V1Container[], extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      initContainers: init,
      containers: [{ name: 'app', image: 'gameday/web:1', ports: [{ name: 'http', containerPort: 8080 }] }],
      ...extra,
    },
  };
}

/** The pod as JSON off the wire, to check what a strict client (the Python one) would deserialise. */
async function rawPod(sim: SimClients, name: string): Promise<{ status: { phase: string; initContainerStatuses: Record<string, unknown>[]; containerStatuses: Record<string, unknown>[]; conditions: { type: string; status: string; reason?: string }[] } }> {
  return (await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods/${name}`)).json() as never;
}

const REQUIRED_STATUS_FIELDS = ['name', 'image', 'imageID', 'ready', 'restartCount'];

/** One command through client-node's Exec: its stdout and the Status from the error channel. */
async function runIn(kc: k8s.KubeConfig, pod: string, container: string, command: string[]): Promise<{ stdout: string; status: k8s.V1Status }> {
  let stdout = '';
  const out = new Writable({ write: (c: Buffer, _e, done) => ((stdout += c.toString()), done()) });
  const err = new Writable({ write: (_c, _e, done) => done() });
  return new Promise((resolve, reject) => {
    new k8s.Exec(kc).exec(NS, pod, container, command, out, err, null as Readable | null, false, (status) => resolve({ stdout, status })).catch(reject);
  });
}

/** The pod's last status before it was deleted, as a watch saw it. */
async function lastStatusBeforeDeletion(sim: SimClients, name: string, grace: number): Promise<{ status: k8s.V1PodStatus; ms: number }> {
  let last: k8s.V1PodStatus | undefined;
  const started = Date.now();
  const gone = new Promise<number>((resolve, reject) => {
    void new k8s.Watch(sim.kubeConfig).watch(`/api/v1/namespaces/${NS}/pods`, { fieldSelector: `metadata.name=${name}` }, (type, obj: k8s.V1Pod) => {
      if (type === 'DELETED') resolve(Date.now() - started);
      else last = obj.status;
    }, (err) => err && reject(err as Error));
  });
  await sim.core.deleteNamespacedPod({ namespace: NS, name, gracePeriodSeconds: grace });
  const ms = await gone;
  return { status: last!, ms };
}

describe('sim kubelet: init containers and container commands', function () {
  this.timeout(30_000);
  let sim: SimClients;

  before(async () => {
    sim = await startSim();
  });
  after(() => sim?.cluster.stop());

  const read = (name: string) => sim.core.readNamespacedPod({ namespace: NS, name });

  it('fails the pod when an init container exits non-zero and the pod never restarts', async () => {
    await sim.core.createNamespacedPod({ namespace: NS, body: podWithInit('init-never', [{ name: 'check', image: 'busybox:1.36', command: ['sh', '-c', 'echo checking; test -f /x || exit 7'] }], { restartPolicy: 'Never' }) });
    const pod = await eventually('pod init-never Failed', async () => ((await read('init-never')).status?.phase === 'Failed' ? read('init-never') : undefined));
    const check = pod.status!.initContainerStatuses![0]!;
    expect(check.state?.terminated).to.include({ exitCode: 7, reason: 'Error' });
    expect(check.ready).to.equal(false);
    expect(pod.status!.containerStatuses![0]!.state?.waiting?.reason).to.equal('PodInitializing');
    expect(pod.status!.conditions!.find((c) => c.type === 'Initialized')).to.include({ status: 'False', reason: 'ContainersNotInitialized' });
    const log = await sim.core.readNamespacedPodLog({ namespace: NS, name: 'init-never', container: 'check' });
    expect(log).to.equal('checking\n');
  });

  it('restarts a failing init container with back-off: restart count, last state, CrashLoopBackOff, BackOff events', async () => {
    await sim.core.createNamespacedPod({ namespace: NS, body: podWithInit('init-crash', [{ name: 'wait-db', image: 'busybox:1.36', command: ['sh', '-c', 'echo "db not up"; exit 1'] }]) });
    const pod = await eventually('init container in CrashLoopBackOff after restarts', async () => {
      const p = await read('init-crash');
      const s = p.status?.initContainerStatuses?.[0];
      return s?.state?.waiting?.reason === 'CrashLoopBackOff' && s.restartCount >= 2 ? p : undefined;
    });
    const s = pod.status!.initContainerStatuses![0]!;
    expect(pod.status!.phase).to.equal('Pending');
    expect(s.lastState?.terminated).to.include({ exitCode: 1, reason: 'Error' });
    expect(s.state!.waiting!.message).to.match(/^back-off \S+ restarting failed container=wait-db pod=init-crash_default\(/);
    const events = (await sim.core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=init-crash' })).items;
    const backOff = events.find((e) => e.reason === 'BackOff');
    expect(backOff?.type).to.equal('Warning');
    expect(backOff?.involvedObject.fieldPath).to.equal('spec.initContainers{wait-db}');
    expect(backOff?.message).to.match(/^Back-off restarting failed container wait-db in pod init-crash_default\(/);
    expect(await sim.core.readNamespacedPodLog({ namespace: NS, name: 'init-crash', container: 'wait-db', previous: true })).to.equal('db not up\n');
  });

  it('writes every status field a strict client requires, for init and app containers, waiting or not', async () => {
    await sim.core.createNamespacedPod({ namespace: NS, body: podWithInit('init-fields', [{ name: 'one', image: 'busybox:1.36', command: ['true'] }, { name: 'two', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 0.3'] }]) });
    const seen = await rawPod(sim, 'init-fields');
    const done = await eventually('pod init-fields Running', async () => {
      const p = await rawPod(sim, 'init-fields');
      return p.status.phase === 'Running' ? p : undefined;
    });
    for (const p of [seen, done]) {
      for (const s of [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])]) {
        for (const f of REQUIRED_STATUS_FIELDS) expect(s, `${String(s.name)}.${f}`).to.have.property(f).that.does.not.equal(null);
      }
    }
    expect(done.status.initContainerStatuses.map((s) => [s.name, s.ready, (s.state as { terminated?: { reason: string } }).terminated?.reason])).to.deep.equal([['one', true, 'Completed'], ['two', true, 'Completed']]);
    expect(done.status.initContainerStatuses.every((s) => String(s.imageID).includes('@sha256:'))).to.equal(true);
  });

  it('keeps an init container looping on a condition that is not yet true, and goes on once it is', async () => {
    await sim.core.createNamespacedPod({
      namespace: NS,
      body: podWithInit('init-wait', [{ name: 'wait', image: 'busybox:1.36', command: ['sh', '-c', 'until [ -f /work/ready ]; do echo waiting; sleep 0.1; done; echo ready'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }], { volumes: [{ name: 'work', emptyDir: {} }] }),
    });
    await eventually('init container running', async () => (await read('init-wait')).status?.initContainerStatuses?.[0]?.state?.running);
    await new Promise((r) => setTimeout(r, 500));
    const waiting = await read('init-wait');
    expect(waiting.status?.phase).to.equal('Pending');
    expect(waiting.status?.initContainerStatuses?.[0]?.restartCount).to.equal(0);
    const touched = await runIn(sim.kubeConfig, 'init-wait', 'wait', ['touch', '/work/ready']);
    expect(touched.status.status).to.equal('Success');
    await eventually('pod init-wait Ready', async () => isReady(await read('init-wait')));
    const log = await sim.core.readNamespacedPodLog({ namespace: NS, name: 'init-wait', container: 'wait' });
    expect(log).to.match(/^(waiting\n)+ready\n$/);
  });

  it('waits in an init container until a Service answers through the pod network', async () => {
    const script = 'until wget -q -O /dev/null -T 1 http://frontend:80/; do echo "frontend not ready"; sleep 0.1; done';
    await sim.core.createNamespacedPod({ namespace: NS, body: podWithInit('loadgen', [{ name: 'frontend-check', image: 'busybox:1.36', command: ['/bin/sh', '-c', script] }]) });
    await new Promise((r) => setTimeout(r, 500));
    expect((await read('loadgen')).status?.initContainerStatuses?.[0]?.state?.running).to.not.equal(undefined);
    await sim.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment('frontend', 1) });
    await sim.core.createNamespacedService({ namespace: NS, body: webService('frontend') });
    await eventually('loadgen Ready once the frontend serves', async () => isReady(await read('loadgen')), 15_000);
    const log = await sim.core.readNamespacedPodLog({ namespace: NS, name: 'loadgen', container: 'frontend-check' });
    expect(log).to.match(/wget: (bad address 'frontend:80'|can't connect to remote host)/);
    expect(log).to.contain('frontend not ready');
  });

  it('runs the demo loadgenerator check (wget --server-response | awk) as sh does: a 500 fails it, an unreachable frontend leaves `test` erroring, which `if` takes as false', async () => {
    const script = [
      'echo "Init container pinging frontend: ${FRONTEND_ADDR}..."',
      "STATUSCODE=$(wget --server-response http://${FRONTEND_ADDR} 2>&1 | awk '/^  HTTP/{print $2}')",
      'if test $STATUSCODE -ne 200; then',
      '    echo "Error: Could not reach frontend - Status code: ${STATUSCODE}"',
      '    exit 1',
      'fi',
    ].join('\n');
    const check = (addr: string): k8s.V1Container => ({ name: 'frontend-check', image: 'busybox:latest', command: ['/bin/sh', '-exc', script], env: [{ name: 'FRONTEND_ADDR', value: addr }] });
    await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'broken', labels: { app: 'broken' } }, spec: { containers: [{ name: 'web', image: 'gameday/web:1', ports: [{ name: 'http', containerPort: 8080 }], env: [{ name: 'GAMEDAY_ERROR_RATE', value: '1' }] }] } } });
    await sim.core.createNamespacedService({ namespace: NS, body: webService('broken') });
    await eventually('broken Ready', async () => isReady(await read('broken')));
    await sim.core.createNamespacedPod({ namespace: NS, body: podWithInit('loadgen-missing', [check('nowhere:80')]) });
    await sim.core.createNamespacedPod({ namespace: NS, body: podWithInit('loadgen-500', [check('broken:80')]) });
    await eventually('loadgen-missing Ready', async () => isReady(await read('loadgen-missing')));
    const missing = await sim.core.readNamespacedPodLog({ namespace: NS, name: 'loadgen-missing', container: 'frontend-check' });
    expect(missing).to.contain('+ STATUSCODE=\n+ test -ne 200\nsh: -ne: unknown operand\n');
    const failing = await eventually('loadgen-500 check restarted', async () => {
      const s = (await read('loadgen-500')).status?.initContainerStatuses?.[0];
      return s && s.restartCount >= 1 && s.lastState?.terminated ? s : undefined;
    }, 15_000);
    expect(failing.lastState!.terminated).to.include({ exitCode: 1, reason: 'Error' });
    const failed = await sim.core.readNamespacedPodLog({ namespace: NS, name: 'loadgen-500', container: 'frontend-check', previous: true });
    expect(failed).to.contain('+ STATUSCODE=500\n');
    expect(failed).to.contain('Error: Could not reach frontend - Status code: 500\n+ exit 1\n');
  });

  it('takes an app container\'s exit status from its command, and its output for the log', async () => {
    await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'job-like' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c'], args: ['for i in 1 2; do echo "step $i"; done; [ -d /nowhere ] || exit 4'] }] } } });
    const pod = await eventually('job-like Failed', async () => ((await read('job-like')).status?.phase === 'Failed' ? read('job-like') : undefined));
    expect(pod.status!.containerStatuses![0]!.state?.terminated).to.include({ exitCode: 4, reason: 'Error' });
    expect(await sim.core.readNamespacedPodLog({ namespace: NS, name: 'job-like', container: 'main' })).to.equal('step 1\nstep 2\n');
  });

  it('runs exec\'d scripts with real conditionals, loops and statuses', async () => {
    await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'scripts' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'sh', image: 'busybox:1.36', command: ['sleep', '3600'] }] } } });
    await eventually('scripts Ready', async () => isReady(await read('scripts')));
    const r = await runIn(sim.kubeConfig, 'scripts', 'sh', ['sh', '-c', 'for i in 1 2 3; do [ $i -eq 2 ] && continue; echo $i; done; test -d /nope || exit 5']);
    expect(r.stdout).to.equal('1\n3\n');
    expect(r.status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message).to.equal('5');
  });

  it('reaches Services with curl from inside a pod, and a NetworkPolicy cuts it', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment('api', 1) });
    await sim.core.createNamespacedService({ namespace: NS, body: webService('api') });
    await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'curl', image: 'curlimages/curl:8.5.0', command: ['sleep', 'infinity'] }] } } });
    await eventually('client Ready', async () => isReady(await read('client')));
    const ok = await eventually('api answers', async () => {
      const r = await runIn(sim.kubeConfig, 'client', 'curl', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://api.default.svc.cluster.local/hostname']);
      return r.stdout === '200' ? r : undefined;
    });
    expect(ok.status.status).to.equal('Success');
    await sim.networking.createNamespacedNetworkPolicy({ namespace: NS, body: { metadata: { name: 'deny-api' }, spec: { podSelector: { matchLabels: { app: 'api' } }, policyTypes: ['Ingress'] } } });
    const cut = await runIn(sim.kubeConfig, 'client', 'curl', ['sh', '-c', 'curl -sS -m 3 http://api/ 2>&1']);
    expect(cut.stdout).to.match(/^curl: \(28\) /);
    expect(cut.status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message).to.equal('28');
  });

  it('leaves SIGTERM to a shell\'s trap: without one the container is killed at the end of the grace period', async () => {
    const sleeper = { name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'] };
    const trapper = { name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'trap "echo stopping; exit 0" TERM; while true; do sleep 0.1; done'] };
    for (const [name, c] of [['sleeper', sleeper], ['trapper', trapper]] as const) {
      await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: { containers: [c] } } });
      await eventually(`${name} Ready`, async () => isReady(await read(name)));
    }
    const killed = await lastStatusBeforeDeletion(sim, 'sleeper', 2);
    expect(killed.ms).to.be.at.least(1900);
    expect(killed.status.containerStatuses![0]!.state?.terminated).to.include({ exitCode: 137, reason: 'Error' });
    const trapped = await lastStatusBeforeDeletion(sim, 'trapper', 10);
    expect(trapped.ms).to.be.below(2000);
    expect(trapped.status.containerStatuses![0]!.state?.terminated).to.include({ exitCode: 0, reason: 'Completed' });
  });

  it('runs exec probes in the container: the liveness example of the Kubernetes docs restarts, a readiness check gates Ready', async () => {
    // The liveness example of the Kubernetes docs, its timings shrunk.
    const liveness: k8s.V1Container = {
      name: 'liveness', image: 'registry.k8s.io/busybox', args: ['/bin/sh', '-c', 'touch /tmp/healthy; sleep 1; rm -f /tmp/healthy; sleep 600'],
      livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 },
    };
    await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'liveness-exec' }, spec: { terminationGracePeriodSeconds: 0, containers: [liveness] } } });
    await sim.core.createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'readiness-exec' }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'busybox', command: ['sleep', '600'], readinessProbe: { exec: { command: ['sh', '-c', 'test -f /tmp/ready'] }, periodSeconds: 1 } }] } },
    });
    await eventually('liveness-exec restarted', async () => ((await read('liveness-exec')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 10_000);
    const events = (await sim.core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=liveness-exec' })).items;
    expect(events.find((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Liveness probe failed: cat: '))?.involvedObject.fieldPath).to.equal('spec.containers{liveness}');
    expect(events.some((e) => e.reason === 'Killing' && e.message === 'Container liveness failed liveness probe, will be restarted')).to.equal(true);
    await eventually('readiness-exec running', async () => (await read('readiness-exec')).status?.containerStatuses?.[0]?.state?.running);
    await new Promise((r) => setTimeout(r, 1500));
    expect(isReady(await read('readiness-exec'))).to.equal(false);
    await runIn(sim.kubeConfig, 'readiness-exec', 'app', ['touch', '/tmp/ready']);
    await eventually('readiness-exec Ready', async () => isReady(await read('readiness-exec')), 5_000);
  });
});
