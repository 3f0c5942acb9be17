import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../src/sim/index.js';
import { FAST_TIMINGS } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { runCli, tempDir, writeFile } from './cli-process.js';

/** client-node's loadFromCluster speaks plain HTTP to ports 80, 8080 and 8001 only; an address of its own keeps 8001 free of clashes. */
const HOST = '127.0.0.77';
const PORT = 8001;

const EXPERIMENT = `apiVersion: gameday/v1
kind: Experiment
metadata: {name: in-cluster-smoke}
spec:
  duration: 1s
  steadyState:
    checks: [ "availability(ok) >= 50% over 300ms" ]
  probes:
    ok: { command: { run: [ "true" ], every: 100ms } }
  slos: [ "availability(ok) >= 50%" ]
`;

/**
 * gameday in a pod, as the CronJob runs it: no --context, KUBERNETES_SERVICE_HOST and the
 * service-account files (under GAMEDAY_IN_CLUSTER_ROOT, standing in for /) name the cluster, and
 * --publish leaves the result where kubectl shows it.
 */
describe('gameday run in a pod (in-cluster config, --publish)', function () {
  this.timeout(60_000);
  let cluster: EmbeddedCluster;
  let core: k8s.CoreV1Api;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let job: k8s.V1Job;

  before(async () => {
    cluster = await startEmbeddedCluster({ host: HOST, port: PORT, timings: FAST_TIMINGS });
    const kc = new k8s.KubeConfig();
    kc.loadFromString(cluster.kubeconfigYaml());
    core = kc.makeApiClient(k8s.CoreV1Api);
    dir = tempDir('gameday-in-cluster-');
    writeFile(dir, 'smoke.yaml', EXPERIMENT);
    const sa = path.join(dir, 'root/var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    // The embedded cluster checks tokens: the pod's account gets a real one, and the admin's powers.
    await kc.makeApiClient(k8s.RbacAuthorizationV1Api).createClusterRoleBinding({
      body: { metadata: { name: 'gameday-in-cluster' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }] },
    });
    const token = await eventually('a token for default/default', () => core.createNamespacedServiceAccountToken({ namespace: 'default', name: 'default', body: { spec: { audiences: [] } } }));
    writeFileSync(path.join(sa, 'token'), token.status!.token);
    writeFileSync(path.join(sa, 'ca.crt'), '');
    writeFileSync(path.join(sa, 'namespace'), 'default');
    job = await kc.makeApiClient(k8s.BatchV1Api).createNamespacedJob({
      namespace: 'default',
      body: { metadata: { name: 'nightly' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'gameday', image: 'gameday/web:1' }] } } } },
    });
    const pod = await eventually('the Job\'s pod', async () => (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'job-name=nightly' })).items[0]);
    env = { GAMEDAY_IN_CLUSTER_ROOT: path.join(dir, 'root'), KUBERNETES_SERVICE_HOST: HOST, KUBERNETES_SERVICE_PORT: String(PORT), HOSTNAME: pod.metadata!.name!, KUBECONFIG: path.join(dir, 'none') };
  });
  after(() => cluster?.stop());

  it('acts on the pod\'s cluster only once context in-cluster is allowed', async () => {
    const r = await runCli(['run', 'smoke.yaml', '--out', 'reports'], { cwd: dir, env });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include('refusing to run against context "in-cluster"').and.to.include('--allow-context in-cluster');
  });

  it('runs as the service account, and publishes the result to a ConfigMap and as an Event on its Job', async () => {
    const r = await runCli(['run', 'smoke.yaml', '--allow-context', 'in-cluster', '--publish', 'default/gameday-last-result', '--out', 'reports', '--reporter', 'json'], { cwd: dir, env });
    expect(r.code, r.stderr).to.equal(0);
    const [runDir] = readdirSync(path.join(dir, 'reports')).filter((d) => d.includes('in-cluster-smoke'));
    const result = JSON.parse(readFileSync(path.join(dir, 'reports', runDir!, 'result.json'), 'utf8')) as { cluster: { context?: string; server?: string } };
    expect(result.cluster).to.include({ context: 'in-cluster', server: `http://${HOST}:${PORT}` });

    const published = await core.readNamespacedConfigMap({ namespace: 'default', name: 'gameday-last-result' });
    expect(published.data).to.include({ outcome: 'passed', 'exit-code': '0', experiments: 'in-cluster-smoke: passed\n' });
    expect(JSON.parse(published.data!['result.json']!)).to.deep.include({ outcome: 'passed', exitCode: 0 });
    const events = (await core.listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.involvedObject.kind === 'Job' && e.involvedObject.name === 'nightly' && e.source?.component === 'gameday');
    expect(events.map((e) => [e.type, e.reason, e.involvedObject.uid])).to.deep.equal([['Normal', 'GamedayRunPassed', job.metadata!.uid]]);
    expect(events[0]!.message).to.match(/^gameday run passed \(exit 0\): 1 of 1 experiment passed\. ConfigMap default\/gameday-last-result holds the result\.$/);
  });

  it('a ConfigMap it may not write is a warning, never the outcome', async () => {
    const r = await runCli(['run', 'smoke.yaml', '--allow-context', 'in-cluster', '--publish', 'no-such-namespace/result', '--out', 'reports', '--reporter', 'json'], { cwd: dir, env });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/gameday: warning: could not write the result to ConfigMap no-such-namespace\/result: HTTP 404/);
  });
});
