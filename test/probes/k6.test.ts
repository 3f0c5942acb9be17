import { expect } from 'chai';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import ts from 'typescript';
import { k6OnPath, k6Probe } from '../../src/probes/k6.js';
import { K6Job, MANAGED_BY } from '../../src/probes/k6-job.js';
import { K6OutputParser } from '../../src/probes/k6-output.js';
import { bundleK6Script } from '../../src/probes/k6-script.js';
import { startSim, type SimClients } from '../sim/sim-fixture.js';
import { eventually } from '../support/eventually.js';
import { startProbe } from './probe-harness.js';

const FIXTURES = path.resolve('test/fixtures/k6');

function typeErrors(files: readonly string[]): string[] {
  const config = ts.readConfigFile(path.join(FIXTURES, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, FIXTURES);
  const program = ts.createProgram(files, parsed.options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('k6 probe', function () {
  this.timeout(30_000);

  describe('scripts', () => {
    it('type-checks a TypeScript k6 script against @types/k6, and catches a wrong one', () => {
      expect(typeErrors([path.join(FIXTURES, 'shop.ts')])).to.deep.equal([]);
      const host = ts.createCompilerHost({});
      const source = "import http from 'k6/http';\nconst r = http.get(42);\nexport default r;\n";
      const file = path.join(FIXTURES, 'inline-wrong.ts');
      const getSourceFile = host.getSourceFile.bind(host);
      host.getSourceFile = (name, lang) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang));
      const config = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(FIXTURES, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, FIXTURES);
      const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([file], config.options, host));
      expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n')).to.contain("'number' is not assignable");
    });

    it('bundles the script into one module: local imports inlined, k6 modules left to k6', async () => {
      const js = await bundleK6Script(path.join(FIXTURES, 'shop.ts'));
      expect(js).to.match(/from "k6"/);
      expect(js).to.match(/from "k6\/http"/);
      expect(js).to.contain('/healthz');
      expect(js).not.to.contain('./lib/paths');
      expect(js).not.to.match(/: string/);
    });

    it('names the file, line and column of a script that does not compile', async () => {
      // Written at test time: a file that does not compile cannot live in the type-checked tree.
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'gameday-k6-')), 'broken.ts');
      writeFileSync(file, "import http from 'k6/http';\n\nexport default function (): void {\n  http.get('http://127.0.0.1/' +;\n}\n");
      const message = await bundleK6Script(file).then(() => '', (e: Error) => e.message);
      expect(message).to.contain(`${file}:4:`);
    });
  });

  describe('JSON output parser (k6 --out json lines)', () => {
    const lines = readFileSync(path.join(FIXTURES, 'k6-output.ndjson'), 'utf8').split('\n');
    const parser = new K6OutputParser();
    const samples = [...lines.flatMap((l) => parser.feed(l)), ...parser.flush()];

    it('makes one sample per request: latency from http_req_duration, ok from http_req_failed, stamped at its start', () => {
      const requests = samples.filter((s) => s.detail?.kind === 'request');
      expect(requests).to.have.length(3);
      expect(requests[0]).to.deep.include({ ok: true, latencyMs: 12.345678, t: Date.parse('2025-05-20T10:00:01.250Z') - 12 });
      expect(requests[0]!.detail).to.include({ method: 'GET', status: 200, name: 'http://web.shop.svc/' });
      expect(requests[1]).to.include({ ok: false, error: 'status-503', latencyMs: 48.5 });
      expect(requests[2]).to.include({ ok: false, error: 'k6-error-1211' });
    });

    it('makes one sample per check, and skips log lines, other metrics and broken lines', () => {
      const checks = samples.filter((s) => s.detail?.kind === 'check');
      expect(checks.map((c) => c.ok)).to.deep.equal([true, false]);
      expect(checks[1]).to.deep.include({ error: 'check-failed', detail: { kind: 'check', check: 'status is 200' } });
      expect(samples).to.have.length(5);
    });
  });

  describe('as a Job (embedded cluster: it cannot run k6)', () => {
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

    it('refuses mode local without a k6 binary, saying how to install k6', async function () {
      if (k6OnPath()) this.skip();
      const message = await startProbe(k6Probe, { script: 'shop.ts', mode: 'local' }, kc, { experimentDir: FIXTURES }).then(() => 'started', (e: Error) => e.message);
      expect(message).to.match(/^mode local needs a k6 binary, and there is none on PATH\. Install k6/);
    });
  });
});
