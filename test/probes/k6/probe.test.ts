import { expect } from 'chai';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { k6OnPath, k6Probe } from '../../../src/probes/k6/probe.js';
import { K6Job, MANAGED_BY } from '../../../src/probes/k6/job.js';
import { K6TestRun } from '../../../src/probes/k6/test-run.js';
import { startSim, type SimClients } from '../../sim/sim-fixture.js';
import { eventually } from '../../support/eventually.js';
import { simTarget } from '../../faults/node-fault-experiment.js';
import { startProbe } from '../probe-harness.js';

const FIXTURES = path.resolve('test/fixtures/k6');

describe('k6 probe', function () {
  this.timeout(30_000);

  describe('on the embedded cluster (it runs no k6 image and has no k6 operator)', () => {
    let sim: SimClients;
    let kc: k8s.KubeConfig;
    before(async () => {
      sim = await startSim();
      kc = sim.kubeConfig;
    });
    after(() => sim.cluster.stop());

    const managed = async (): Promise<{ jobs: string[]; configMaps: string[] }> => {
      const labelSelector = 'app.kubernetes.io/managed-by=gameday';
      const jobs = (await sim.batch.listNamespacedJob({ namespace: 'default', labelSelector })).items.map((j) => j.metadata!.name!);
      const configMaps = (await sim.core.listNamespacedConfigMap({ namespace: 'default', labelSelector })).items.map((c) => c.metadata!.name!);
      return { jobs, configMaps };
    };

    it('creates a labelled ConfigMap with the script and a Job running the pinned k6 image on it, and cleans both up', async () => {
      const job = new K6Job(kc, { namespace: 'default', probe: 'load', image: 'grafana/k6:1.0.0', script: 'export default function () {}', runArgs: ['--vus', '3'], env: { BASE_URL: 'http://web' } });
      await job.create();
      const cm = await sim.core.readNamespacedConfigMap({ namespace: 'default', name: job.name });
      expect(cm.metadata?.labels).to.include(MANAGED_BY);
      expect(cm.data).to.deep.equal({ 'script.js': 'export default function () {}' });
      const created = await sim.batch.readNamespacedJob({ namespace: 'default', name: job.name });
      expect(created.metadata?.labels).to.include(MANAGED_BY);
      const pod = created.spec!.template.spec!;
      expect(pod.restartPolicy).to.equal('Never');
      expect(created.spec?.backoffLimit).to.equal(0);
      expect(pod.containers[0]).to.deep.include({ image: 'grafana/k6:1.0.0', env: [{ name: 'BASE_URL', value: 'http://web' }] });
      expect(pod.containers[0]!.args).to.deep.equal(['run', '--quiet', '--no-summary', '--out', 'json=/dev/stdout', '--vus', '3', '/gameday/script.js']);
      expect(pod.volumes).to.deep.equal([{ name: 'script', configMap: { name: job.name } }]);
      expect((await managed()).jobs).to.include(job.name);
      await job.cleanup();
      await job.cleanup();
      expect(await managed()).to.deep.equal({ jobs: [], configMaps: [] });
    });

    it('gameday recover deletes the Job and ConfigMap a killed run left, and not another run\'s, for mode job and the fall-back to a Job alike', async () => {
      const made = (runId: string) => new K6Job(kc, { namespace: 'default', probe: 'load', image: 'grafana/k6:1.0.0', script: '', runArgs: [], env: {}, runId });
      const killed = made('run-killed');
      const running = made('run-running');
      const fallenBack = made('run-fallen-back');
      await Promise.all([killed.create(), running.create(), fallenBack.create()]);
      expect((await sim.batch.readNamespacedJob({ namespace: 'default', name: killed.name })).metadata?.labels).to.include({ 'gameday.dev/run-id': 'run-killed' });
      const podsOf = async (...jobs: K6Job[]) => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: `job-name in (${jobs.map((j) => j.name).join(',')})` })).items.length;
      await eventually('the Jobs\' pods', async () => (await podsOf(killed, fallenBack)) === 2);
      const cluster = simTarget(sim, { nodeAccess: false });

      expect(await k6Probe.deleteLeftovers!(cluster, { script: 'shop.ts', mode: 'local' }, 'run-killed'), 'a local k6 leaves nothing in the cluster').to.deep.equal([]);
      expect(await k6Probe.deleteLeftovers!(cluster, { script: 'shop.ts', mode: 'job' }, 'run-killed')).to.deep.equal([`Job default/${killed.name}`]);
      expect(await k6Probe.deleteLeftovers!(cluster, { script: 'shop.ts' }, 'run-fallen-back')).to.deep.equal([`Job default/${fallenBack.name}`]);
      expect(await managed()).to.deep.equal({ jobs: [running.name], configMaps: [running.name] });
      await eventually('the deleted Jobs\' pods to go with them', async () => (await podsOf(killed, fallenBack)) === 0);
      await running.cleanup();
    });

    it('without a k6 binary, says the cluster could not run k6 and how to install it, leaving nothing behind', async function () {
      if (k6OnPath()) this.skip();
      // Depending on the cluster, k6 cannot start (image pull) or its pod ends without k6 output.
      let message = '';
      try {
        const probe = await startProbe(k6Probe, { script: 'shop.ts' }, kc, { experimentDir: FIXTURES, name: 'load' });
        await eventually('the probe to give up', () => probe.failures.length > 0);
        await probe.stop();
        message = (probe.failures[0] as Error).message;
        expect(probe.samples).to.deep.equal([]);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).to.contain('no k6 binary on PATH, and the cluster could not run grafana/k6:1.0.0');
      expect(message).to.contain('https://grafana.com/docs/k6/latest/set-up/install-k6/');
      expect(await managed()).to.deep.equal({ jobs: [], configMaps: [] });
    });

    it('with operator, where the k6 operator is not installed, says so and how to install it, and creates nothing', async () => {
      const message = await startProbe(k6Probe, { script: 'shop.ts', operator: { parallelism: 2 } }, kc, { experimentDir: FIXTURES, name: 'load' }).then(() => 'started', (e: Error) => e.message);
      expect(message).to.match(/^the k6 operator is not installed: the cluster serves no testruns\.k6\.io \(k6\.io\/v1alpha1\)\. Install it \(https:\/\/grafana\.com\/docs\/k6\/latest\/set-up\/set-up-distributed-k6\/install-k6-operator\/: `helm install k6-operator grafana\/k6-operator`/);
      expect(await managed()).to.deep.equal({ jobs: [], configMaps: [] });
    });

    it('describes the TestRun as the k6 operator reads it: script from the ConfigMap, JSON output on stdout, the pinned image, separate runners when asked', () => {
      const run = new K6TestRun(kc, { namespace: 'load', probe: 'Shop Load', image: 'grafana/k6:1.0.0', script: 'export default function () {}', runArgs: ['--duration', '60000ms'], env: {}, parallelism: 4, separate: true });
      expect(run.name).to.match(/^gameday-k6-shop-load-[a-z0-9]+$/);
      expect(run.testRun()).to.deep.equal({
        apiVersion: 'k6.io/v1alpha1',
        kind: 'TestRun',
        metadata: { name: run.name, namespace: 'load', labels: MANAGED_BY },
        spec: {
          parallelism: 4,
          separate: true,
          script: { configMap: { name: run.name, file: 'script.js' } },
          arguments: '--out json=/dev/stdout --no-summary --duration 60000ms',
          runner: { image: 'grafana/k6:1.0.0' },
        },
      });
      expect(run.configMap().data).to.deep.equal({ 'script.js': 'export default function () {}' });
    });

    it('refuses operator together with a mode', () => {
      expect(() => k6Probe.params.parse({ script: 'shop.ts', mode: 'job', operator: { parallelism: 2 } })).to.throw(/operator runs k6 through the k6 operator: leave mode out/);
    });

    it('refuses mode local without a k6 binary, saying how to install k6', async function () {
      if (k6OnPath()) this.skip();
      const message = await startProbe(k6Probe, { script: 'shop.ts', mode: 'local' }, kc, { experimentDir: FIXTURES }).then(() => 'started', (e: Error) => e.message);
      expect(message).to.match(/^mode local needs a k6 binary, and there is none on PATH\. Install k6/);
    });
  });
});
