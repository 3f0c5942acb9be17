import { expect } from 'chai';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../src/sim/index.js';
import { FAST_TIMINGS } from '../sim/sim-fixture.js';
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
 * service-account files (under GAMEDAY_IN_CLUSTER_ROOT, standing in for /) name the cluster.
 */
describe('gameday run in a pod (in-cluster config)', function () {
  this.timeout(60_000);
  let cluster: EmbeddedCluster;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    cluster = await startEmbeddedCluster({ host: HOST, port: PORT, timings: FAST_TIMINGS });
    dir = tempDir('gameday-in-cluster-');
    writeFile(dir, 'smoke.yaml', EXPERIMENT);
    const sa = path.join(dir, 'root/var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(sa, { recursive: true });
    writeFileSync(path.join(sa, 'token'), 'a-token');
    writeFileSync(path.join(sa, 'ca.crt'), '');
    writeFileSync(path.join(sa, 'namespace'), 'default');
    env = { GAMEDAY_IN_CLUSTER_ROOT: path.join(dir, 'root'), KUBERNETES_SERVICE_HOST: HOST, KUBERNETES_SERVICE_PORT: String(PORT), KUBECONFIG: path.join(dir, 'none') };
  });
  after(() => cluster?.stop());

  it('acts on the pod\'s cluster only once context in-cluster is allowed', async () => {
    const r = await runCli(['run', 'smoke.yaml', '--out', 'reports'], { cwd: dir, env });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include('refusing to run against context "in-cluster"').and.to.include('--allow-context in-cluster');
  });

  it('runs as the service account when context in-cluster is allowed', async () => {
    const r = await runCli(['run', 'smoke.yaml', '--allow-context', 'in-cluster', '--out', 'reports', '--reporter', 'json'], { cwd: dir, env });
    expect(r.code, r.stderr).to.equal(0);
    const [runDir] = readdirSync(path.join(dir, 'reports')).filter((d) => d.includes('in-cluster-smoke'));
    const result = JSON.parse(readFileSync(path.join(dir, 'reports', runDir!, 'result.json'), 'utf8')) as { cluster: { context?: string; server?: string } };
    expect(result.cluster).to.include({ context: 'in-cluster', server: `http://${HOST}:${PORT}` });
  });
});
