import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cordonNode } from '../../src/faults/shared/cordon.js';
import { k6Probe } from '../../src/probes/k6/probe.js';
import { K6Job } from '../../src/probes/k6/job.js';
import { K6TestRun, TEST_RUN } from '../../src/probes/k6/test-run.js';
import { eventually } from '../support/eventually.js';
import { startProbe } from '../probes/probe-harness.js';
import { k6RequestLines, playK6Operator } from './k6-operator-stand-in.js';
import { useRealCluster } from './real-cluster.js';
import { webWorkload } from './web-workload.js';

const CLI = path.resolve('dist/cli/main.js');

/**
 * The shipped smoke suite's podKill and nodeDrain with their probes, and a node-level fault
 * through node access (the node proxy), in one short game day.
 */
const EXPERIMENT = `apiVersion: gameday/v1
kind: Experiment
metadata: {name: kill-and-drain}
spec:
  workloads: [web.yaml]
  duration: 5s
  blastRadius: {maxNodes: 2, maxPodPercent: 100}
  steadyState:
    checks: [ "ready(deployment/shop/web) >= 4" ]
    recoverWithin: 40s
  probes:
    web: { http: { service: shop/web:80, path: /, rate: 10/s, timeout: 2s } }
  faults:
    - { at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 1 } }
    - { at: 1s, for: 2s, networkLatency: { nodes: { labels: { topology.kubernetes.io/zone: c } }, delay: 50ms } }
    - { at: 2s, nodeDrain: { nodes: { labels: { topology.kubernetes.io/zone: a } }, count: 1, timeout: 1m } }
  slos:
    - availability(web) >= 95%
    - readiness(shop/web) holds
`;

/** A pod kill confined to namespace shop: its run reads pods and watches Warning events there only. */
const CONFINED_EXPERIMENT = `apiVersion: gameday/v1
kind: Experiment
metadata: {name: kill-in-shop}
spec:
  workloads: [web.yaml]
  duration: 2s
  steadyState:
    checks: [ "ready(deployment/shop/web) >= 4" ]
    recoverWithin: 40s
  faults:
    - { at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 1 } }
`;

/**
 * `gameday rbac` is proven on upstream Kubernetes with its RBAC authorizer: a game day run as a
 * service account holding exactly the generated roles passes, and one rule less stops it with the
 * missing permission named and everything reverted. The run is the CronJob's: gameday in a pod's
 * environment (the service-account files and KUBERNETES_SERVICE_HOST), publishing its result.
 */
describe('gameday rbac on the real control plane', function () {
  this.timeout(240_000);
  const real = useRealCluster();
  let root: string;
  let jobPod: string;
  let saToken: string;
  let saKubeconfig: string;

  before(async () => {
    writeFileSync(path.join(real.dir, 'web.yaml'), webWorkload({ namespace: 'shop', replicas: 4, withNamespace: true, withService: true }));
    writeFileSync(path.join(real.dir, 'kill-and-drain.yaml'), EXPERIMENT);
    const { core } = real.cluster;
    await core.createNamespace({ body: { metadata: { name: 'gameday' } } });
    saToken = await serviceAccountToken('gameday');
    // What the kubelet mounts in a pod, under a root of the test's own.
    root = path.join(real.dir, 'pod-root');
    const sa = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(path.join(sa, 'token'), saToken);
    // The same account from outside the cluster, for gameday stop and recover.
    saKubeconfig = serviceAccountKubeconfig('gameday', saToken);
    writeFileSync(path.join(sa, 'namespace'), 'gameday');
    writeFileSync(path.join(sa, 'ca.crt'), Buffer.from(real.cluster.kubeConfig.getCurrentCluster()!.caData!, 'base64'));
    // The Job whose pod "runs" gameday: --publish records an Event on it. Zone b: the drain empties zone a.
    const batch = real.cluster.kubeConfig.makeApiClient(k8s.BatchV1Api);
    await batch.createNamespacedJob({
      namespace: 'gameday',
      body: { metadata: { name: 'nightly' }, spec: { template: { spec: { restartPolicy: 'Never', nodeSelector: { 'topology.kubernetes.io/zone': 'b' }, containers: [{ name: 'gameday', image: 'gameday/web:1' }] } } } },
    });
    for (let i = 0; !jobPod; i++) {
      jobPod = (await core.listNamespacedPod({ namespace: 'gameday', labelSelector: 'job-name=nightly' })).items[0]?.metadata?.name ?? '';
      if (i > 100) throw new Error('the Job made no pod');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  /** A service account in namespace gameday, and a token of it. */
  const serviceAccountToken = async (name: string): Promise<string> => {
    await real.cluster.core.createNamespacedServiceAccount({ namespace: 'gameday', body: { metadata: { name } } });
    const token = await real.cluster.core.createNamespacedServiceAccountToken({ name, namespace: 'gameday', body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    return token.status!.token!;
  };

  /** A kubeconfig file whose one context, `<name>-sa`, is that account. */
  const serviceAccountKubeconfig = (name: string, token: string): string => {
    const admin = real.cluster.kubeConfig.getCurrentCluster()!;
    const file = path.join(real.dir, `${name}.kubeconfig`);
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'real', cluster: { server: admin.server, 'certificate-authority-data': admin.caData } }],
        users: [{ name, user: { token } }],
        contexts: [{ name: `${name}-sa`, context: { cluster: 'real', user: name } }],
        'current-context': `${name}-sa`,
      }),
    );
    return file;
  };

  const kubectl = (args: readonly string[], input?: string) =>
    execa('kubectl', ['--kubeconfig', real.kubeconfig, ...args], { env: { KUBECACHEDIR: path.join(real.dir, 'kubecache') }, ...(input !== undefined ? { input } : {}) });

  /** `gameday run` as the CronJob runs it: in-cluster config, allowed by name, publishing its result. */
  const runInPod = () => {
    const url = new URL(real.cluster.controlPlane.url);
    return execa('node', [CLI, 'run', 'kill-and-drain.yaml', '--allow-context', 'in-cluster', '--node-access', 'sim', '--publish', 'gameday/gameday-last-result', '--out', path.join(real.dir, 'reports'), '--reporter', 'terminal,json'], {
      cwd: real.dir,
      reject: false,
      all: true,
      env: { GAMEDAY_IN_CLUSTER_ROOT: root, KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, HOSTNAME: jobPod, KUBECONFIG: path.join(real.dir, 'no-such-kubeconfig') },
    });
  };

  it('a game day run with exactly the generated RBAC passes, in-cluster, and publishes its result', async () => {
    const rbac = await execa('node', [CLI, 'rbac', 'kill-and-drain.yaml', '--node-access', 'sim', '--publish', 'gameday/gameday-last-result'], { cwd: real.dir });
    await kubectl(['apply', '-f', '-'], rbac.stdout);

    const r = await runInPod();
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.include('context in-cluster');
    expect(r.all).to.match(/networkLatency verified/);
    const published = await real.cluster.core.readNamespacedConfigMap({ namespace: 'gameday', name: 'gameday-last-result' });
    expect(published.data).to.include({ outcome: 'passed', 'exit-code': '0' });
    const events = await real.cluster.core.listNamespacedEvent({ namespace: 'gameday', fieldSelector: 'involvedObject.kind=Job,involvedObject.name=nightly' });
    expect(events.items.map((e) => e.reason)).to.include('GamedayRunPassed');
  });

  it('without create on pods/eviction the run stops naming that permission, and leaves nothing applied', async () => {
    const rbacApi = real.cluster.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    const role = await rbacApi.readClusterRole({ name: 'gameday' });
    const rules = role.rules!.filter((rule) => !rule.resources?.includes('pods/eviction'));
    expect(rules.length, 'the generated ClusterRole grants the eviction').to.equal(role.rules!.length - 1);
    await rbacApi.replaceClusterRole({ name: 'gameday', body: { ...role, rules } });

    const r = await runInPod();
    expect(r.exitCode, r.all).to.equal(4);
    expect(r.all).to.match(/cannot create resource "pods\/eviction" in API group "" in the namespace "shop"/);
    const nodes = (await real.cluster.core.listNode()).items;
    expect(nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata?.name), 'the cordon was reverted').to.deep.equal([]);
    const deployments = await real.cluster.apps.listNamespacedDeployment({ namespace: 'shop' });
    expect(deployments.items, 'the workloads were removed').to.deep.equal([]);
    const lock = await real.cluster.kubeConfig.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace: 'kube-system', name: 'gameday-run-lock' });
    expect(lock.spec?.holderIdentity ?? '', 'the run lock was released').to.equal('');
    const published = await real.cluster.core.readNamespacedConfigMap({ namespace: 'gameday', name: 'gameday-last-result' });
    expect(published.data).to.include({ outcome: 'error', 'exit-code': '4' });
  });

  it('gameday stop and gameday recover need nothing more than those roles: stop asks the holder through the lock, recover reverts a killed run\'s drain', async () => {
    // A holder that never lets go: stop asks it, waits a second, and says it still holds the lock.
    const leases = real.cluster.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    const lock = { namespace: 'kube-system', name: 'gameday-run-lock' };
    const held = await leases.readNamespacedLease(lock);
    const now = new k8s.V1MicroTime(Date.now());
    await leases.replaceNamespacedLease({ ...lock, body: { ...held, spec: { ...held.spec, holderIdentity: 'ci-box/run-elsewhere', leaseDurationSeconds: 60, acquireTime: now, renewTime: now } } });
    const stop = await execa('node', [CLI, 'stop', '--kubeconfig', saKubeconfig, '--timeout', '1s'], { cwd: real.dir, reject: false, all: true });
    expect(stop.all).to.include('asked ci-box/run-elsewhere');
    expect(stop.all).to.include('ci-box/run-elsewhere still holds the run lock');
    expect(stop.exitCode, stop.all).to.equal(4);
    const asked = await leases.readNamespacedLease(lock);
    expect(asked.metadata?.annotations?.['gameday.dev/stop-requested-by']).to.be.a('string');
    const { holderIdentity: _gone, ...free } = asked.spec!;
    await leases.replaceNamespacedLease({ ...lock, body: { ...asked, spec: free } });

    // The passing run's journal, cut just after its drain landed, as a killed run leaves it.
    const reports = path.join(real.dir, 'reports');
    const journals = readdirSync(reports).map((d) => path.join(reports, d, 'journal.ndjson'));
    const lines = journals.map((j) => readFileSync(j, 'utf8').split('\n')).find((l) => l.some((e) => e.includes('"kind":"nodeDrain"') && e.includes('"step":"injected"')))!;
    const cut = lines.findIndex((e) => e.includes('"kind":"nodeDrain"') && e.includes('"step":"injected"'));
    const killed = path.join(real.dir, 'killed-run');
    mkdirSync(killed);
    writeFileSync(path.join(killed, 'journal.ndjson'), lines.slice(0, cut + 1).join('\n') + '\n');
    const inject = lines.find((e) => e.includes('"kind":"nodeDrain"') && e.includes('"step":"inject"'))!;
    const { fault, targets } = JSON.parse(inject) as { fault: string; targets: string[] };
    const drained = targets[0]!;
    expect(await cordonNode(real.cluster.kubeConfig, drained), 'the node was cordoned again, as the killed drain left it').to.equal(true);

    const recover = await execa('node', [CLI, 'recover', killed, '--kubeconfig', saKubeconfig, '--context', 'gameday-sa', '--allow-context', 'gameday-sa', '--node-access', 'sim'], { cwd: real.dir, reject: false, all: true });
    expect(recover.exitCode, recover.all).to.equal(0);
    expect(recover.all).to.match(new RegExp(`: reverted (.*, )?${fault}\\b`));
    expect((await real.cluster.core.readNode({ name: drained })).spec?.unschedulable ?? false, 'the drained node is uncordoned').to.equal(false);
  });

  it('a game day confined to one namespace passes with roles that list pods and watch Warning events there only', async () => {
    writeFileSync(path.join(real.dir, 'kill-in-shop.yaml'), CONFINED_EXPERIMENT);
    const rbac = await execa('node', [CLI, 'rbac', 'kill-in-shop.yaml', '--service-account', 'gameday/confined', '--name', 'gameday-confined', '--node-access', 'sim'], { cwd: real.dir });
    const roles = parseAllDocuments(rbac.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: { resources: string[]; verbs: string[] }[] });
    const rulesOn = (kind: string, namespace: string | undefined, resource: string) =>
      roles.filter((d) => d.kind === kind && d.metadata.namespace === namespace).flatMap((d) => d.rules!.filter((r) => r.resources.includes(resource)).map((r) => r.verbs.join(',')));
    expect(rulesOn('ClusterRole', undefined, 'events'), 'no Events of every namespace').to.deep.equal([]);
    expect(rulesOn('ClusterRole', undefined, 'pods'), 'no pods of every namespace').to.deep.equal([]);
    expect(rulesOn('Role', 'shop', 'events').join(' ')).to.match(/\blist,watch\b/);
    await kubectl(['apply', '-f', '-'], rbac.stdout);
    const kubeconfig = serviceAccountKubeconfig('confined', await serviceAccountToken('confined'));

    const out = path.join(real.dir, 'confined-reports');
    const r = await execa('node', [CLI, 'run', 'kill-in-shop.yaml', '--kubeconfig', kubeconfig, '--allow-context', 'confined-sa', '--node-access', 'sim', '--out', out, '--reporter', 'json'], { cwd: real.dir, reject: false, all: true });
    expect(r.exitCode, r.all).to.equal(0);
    const journal = readFileSync(path.join(out, readdirSync(out)[0]!, 'journal.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; level?: string; message?: string });
    // A watch the roles forbid is only logged: the run would pass without its evidence.
    expect(journal.filter((e) => e.type === 'log' && e.level !== 'info' && /cluster watch/.test(e.message ?? ''))).to.deep.equal([]);
    expect(journal.map((e) => e.type)).to.include('plan');
  });

  /**
   * The k6 probe's hand-off to the k6 operator, run as the service account with exactly what
   * `gameday rbac` grants for it, on the real TestRun CRD. No operator runs here: the test plays
   * its part (k6-operator-stand-in.ts), moving status.stage along and running the runner Jobs.
   */
  describe('the k6 probe handed to the k6 operator', () => {
    const K6_EXPERIMENT = `apiVersion: gameday/v1
kind: Experiment
metadata: {name: k6-through-the-operator}
spec:
  duration: 10s
  probes:
    load: { k6: { script: shop.ts, operator: { parallelism: 2 }, vus: 4, env: { BASE_URL: "http://web" } } }
    one: { k6: { script: shop.ts, mode: job } }
  slos: [ "availability(load) >= 99%" ]
`;
    let asServiceAccount: k8s.KubeConfig;
    const custom = () => real.cluster.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    // The runner Jobs are the TestRun's: the garbage collector deletes them after it, once its
    // periodic discovery has found the new resource (up to 30 s), so they are not awaited here.
    const left = async (): Promise<{ testRuns: number; configMaps: number }> => ({
      testRuns: ((await custom().listNamespacedCustomObject({ ...TEST_RUN, namespace: 'default' })) as { items: unknown[] }).items.length,
      configMaps: (await real.cluster.core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app.kubernetes.io/managed-by=gameday' })).items.length,
    });
    const nothingLeft = async () => expect(await left()).to.deep.equal({ testRuns: 0, configMaps: 0 });
    const startLoad = () => startProbe(k6Probe, { script: 'shop.ts', operator: { parallelism: 2 }, vus: 4, env: { BASE_URL: 'http://web' } }, asServiceAccount, { experimentDir: real.dir, name: 'load' });

    before(async () => {
      await kubectl(['create', '-f', path.resolve('test/fixtures/k6-operator/k6.io_testruns.yaml')]);
      // Not `kubectl wait`: it fails on a CRD whose status the API server has not written yet.
      const extensions = real.cluster.kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
      await eventually('the TestRun CRD to be established', async () => (await extensions.readCustomResourceDefinition({ name: 'testruns.k6.io' })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'));
      cpSync(path.resolve('test/fixtures/k6'), real.dir, { recursive: true });
      writeFileSync(path.join(real.dir, 'k6-load.yaml'), K6_EXPERIMENT);
      const rbac = await execa('node', [CLI, 'rbac', 'k6-load.yaml', '--name', 'gameday-k6'], { cwd: real.dir });
      await kubectl(['apply', '-f', '-'], rbac.stdout);
      const admin = real.cluster.kubeConfig.getCurrentCluster()!;
      asServiceAccount = new k8s.KubeConfig();
      asServiceAccount.loadFromOptions({
        clusters: [{ name: 'real', server: admin.server, caData: admin.caData }],
        users: [{ name: 'gameday', token: saToken }],
        contexts: [{ name: 'sa', cluster: 'real', user: 'gameday' }],
        currentContext: 'sa',
      });
    });

    it('creates a TestRun with the parallelism asked, turns every runner\'s k6 output into samples, and deletes the TestRun and the ConfigMap when stopped', async () => {
      const at = new Date().toISOString();
      const operator = playK6Operator(real.cluster.kubeConfig, {
        namespace: 'default',
        end: 'finished',
        // Runner 2 ends as k6 does when a threshold was crossed: exit 99, its samples still count.
        runner: (i) => (i === 1 ? { lines: k6RequestLines(at, 20, 200), exitCode: 0 } : { lines: ['k6 is starting', ...k6RequestLines(at, 30, 500)], exitCode: 99 }),
      });
      const probe = await startLoad();
      const testRun = (await operator) as k8s.KubernetesObject & { spec: Record<string, unknown> };
      await eventually('the probe to see the TestRun finished', () => probe.logs.some((l) => l.startsWith('k6 finished before the run did')), 30_000);
      expect(testRun.spec).to.deep.include({ parallelism: 2, script: { configMap: { name: testRun.metadata!.name, file: 'script.js' } } });
      expect(testRun.spec.arguments).to.equal('--out json=/dev/stdout --no-summary --vus 4');
      expect(testRun.spec.runner).to.deep.include({ image: 'grafana/k6:1.0.0', env: [{ name: 'BASE_URL', value: 'http://web' }] });
      const script = await real.cluster.core.readNamespacedConfigMap({ namespace: 'default', name: testRun.metadata!.name! });
      expect(script.data?.['script.js']).to.contain('status is 200');
      expect(probe.samples.map((s) => [s.ok, s.latencyMs, s.error ?? null])).to.have.deep.members([
        [true, 20, null],
        [false, 30, 'status-500'],
      ]);
      expect(probe.failures).to.deep.equal([]);
      expect(probe.logs.map((l) => l.replace(/gameday-k6-load-\w+/g, 'T'))).to.include.members(['TestRun default/T: stage started', 'TestRun default/T: stage finished']);
      expect(probe.logs.at(-1)).to.contain(`k6's thresholds were crossed on ${testRun.metadata!.name}-2-`);
      await probe.stop();
      await nothingLeft();
    });

    it('fails the probe when the TestRun finishes with a runner that k6 left with an error, naming the runner and its exit code', async () => {
      const operator = playK6Operator(real.cluster.kubeConfig, { namespace: 'default', end: 'finished', runner: () => ({ lines: ['k6: cannot parse the script'], exitCode: 107 }) });
      const probe = await startLoad();
      const testRun = await operator;
      await eventually('the probe to give up', () => probe.failures.length > 0, 30_000);
      expect((probe.failures[0] as Error).message).to.match(new RegExp(`^TestRun default/${testRun.metadata!.name} finished, but its runners ${testRun.metadata!.name}-\\d-\\w+ \\(exit 107\\), ${testRun.metadata!.name}-\\d-\\w+ \\(exit 107\\) failed$`));
      await probe.stop();
      await nothingLeft();
    });

    it('gameday recover deletes the TestRun, the Job (the probe without operator) and their ConfigMaps a killed run left, and not another run\'s', async () => {
      const made = (runId: string) => new K6TestRun(asServiceAccount, { namespace: 'default', probe: 'load', image: 'grafana/k6:1.0.0', script: '', runArgs: [], env: {}, parallelism: 2, runId });
      const killedRuns = made('run-killed');
      const anotherRuns = made('run-running');
      await killedRuns.create();
      await anotherRuns.create();
      const job = (runId: string) => new K6Job(asServiceAccount, { namespace: 'default', probe: 'one', image: 'grafana/k6:1.0.0', script: '', runArgs: [], env: {}, runId });
      const killedJob = job('run-killed');
      const anotherJob = job('run-running');
      await killedJob.create();
      await anotherJob.create();
      // A killed run's journal: its start (the cluster it ran on) and its plan (the probe), nothing more.
      const reports = path.join(real.dir, 'reports');
      const start = JSON.parse(readFileSync(path.join(reports, readdirSync(reports)[0]!, 'journal.ndjson'), 'utf8').split('\n')[0]!) as Record<string, unknown>;
      const killed = path.join(real.dir, 'killed-k6-run');
      mkdirSync(killed);
      const plan = {
        type: 'plan',
        t: Date.now(),
        plan: {
          faults: [],
          probes: [
            { name: 'load', kind: 'k6', path: 'spec.probes.load', params: { script: 'shop.ts', operator: { parallelism: 2 } } },
            { name: 'one', kind: 'k6', path: 'spec.probes.one', params: { script: 'shop.ts', mode: 'job' } },
          ],
        },
      };
      writeFileSync(path.join(killed, 'journal.ndjson'), `${JSON.stringify({ ...start, runId: 'run-killed' })}\n${JSON.stringify(plan)}\n`);

      const recover = await execa('node', [CLI, 'recover', killed, '--kubeconfig', saKubeconfig, '--context', 'gameday-sa', '--allow-context', 'gameday-sa'], { cwd: real.dir, reject: false, all: true });
      expect(recover.exitCode, recover.all).to.equal(0);
      expect(recover.all).to.include(`deleted TestRun default/${killedRuns.name}, left by probe load (k6) of run run-killed`);
      expect(recover.all).to.include(`deleted Job default/${killedJob.name}, left by probe one (k6) of run run-killed`);
      const names = ((await custom().listNamespacedCustomObject({ ...TEST_RUN, namespace: 'default' })) as { items: k8s.KubernetesObject[] }).items.map((t) => t.metadata!.name);
      expect(names).to.deep.equal([anotherRuns.name]);
      const jobs = (await real.cluster.kubeConfig.makeApiClient(k8s.BatchV1Api).listNamespacedJob({ namespace: 'default', labelSelector: 'app.kubernetes.io/managed-by=gameday' })).items;
      expect(jobs.filter((j) => !j.metadata?.deletionTimestamp).map((j) => j.metadata!.name)).to.deep.equal([anotherJob.name]);
      const configMaps = (await real.cluster.core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app.kubernetes.io/managed-by=gameday' })).items.map((c) => c.metadata!.name);
      expect(configMaps.sort()).to.deep.equal([anotherRuns.name, anotherJob.name].sort());
      await anotherRuns.cleanup();
      await anotherJob.cleanup();
    });

    it('fails the probe when the operator puts the TestRun in stage error, and leaves nothing behind', async () => {
      const operator = playK6Operator(real.cluster.kubeConfig, { namespace: 'default', end: 'error' });
      const probe = await startLoad();
      await operator;
      await eventually('the probe to give up', () => probe.failures.length > 0, 30_000);
      expect((probe.failures[0] as Error).message).to.match(/^the k6 operator put TestRun default\/gameday-k6-load-\w+ in stage error: it refused the test/);
      expect(probe.samples).to.deep.equal([]);
      await probe.stop();
      await nothingLeft();
    });
  });
});
