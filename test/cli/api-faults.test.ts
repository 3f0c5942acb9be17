import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { RetryingKubeConfig } from '../../src/cluster/retrying-http.js';
import { eventually } from '../support/eventually.js';
import { runCli, startCli, tempDir, writeFile, type RunningCli } from './cli-process.js';

/**
 * A pod kill and a drain run by the real CLI against `gameday sim serve --api-faults rate=0.1`:
 * one request in ten fails (500, 503, 429, timeouts, resets, ended watches, 410), yet each run
 * gives its right verdict and leaves nothing behind.
 */
describe('gameday run against a flaky API server (sim serve --api-faults, real CLI processes)', function () {
  this.timeout(120_000);
  const dir = tempDir('gameday-api-faults-');
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  let sim: RunningCli | undefined;

  before(async () => {
    sim = startCli(['sim', 'serve', '--nodes', '3', '--api-faults', 'rate=0.1,seed=12', '--kubeconfig', kubeconfig]);
    await eventually('gameday sim serve to start', () => sim!.output().stdout.includes('Press Ctrl-C'), 30_000);
    expect(sim.output().stdout).to.contain('API faults: 10% of API requests fail as 500, 503, 429, timeout, reset, watch-end, 410 (seed 12');
    writeFile(dir, 'web.yaml', [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata: { name: shop }',
      '---',
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: { name: web, namespace: shop }',
      'spec:',
      '  replicas: 3',
      '  selector: { matchLabels: { app: web } }',
      '  template:',
      '    metadata: { labels: { app: web } }',
      '    spec:',
      '      containers:',
      '        - { name: web, image: gameday/web:1, ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 } }',
      '---',
      'apiVersion: policy/v1',
      'kind: PodDisruptionBudget',
      'metadata: { name: web, namespace: shop }',
      'spec: { maxUnavailable: 1, selector: { matchLabels: { app: web } } }',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: { name: web, namespace: shop }',
      'spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }',
      '',
    ].join('\n'));
  });

  after(async () => {
    sim?.child.kill('SIGINT');
    const r = await sim?.done;
    const answered = /API faults answered: (.*)/.exec(r?.stdout ?? '');
    expect(answered, 'the server says what it failed').to.not.equal(null);
    const failed = answered![1]!.split(', ').reduce((sum, part) => sum + Number(part.split(' ')[1]), 0);
    expect(failed, 'the runs met API faults').to.be.greaterThan(5);
  });

  it('refuses a bad --api-faults with exit 2, naming the setting and what to give', async () => {
    const r = await runCli(['sim', 'serve', '--api-faults', 'rate=0.1,kinds=500,418', '--kubeconfig', path.join(dir, 'unused.yaml')]);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.contain('--api-faults rate=0.1,kinds=500,418: kinds: "418" is not a fault kind; give some of 500, 503, 429, timeout, reset, watch-end, 410');
  });

  function experiment(name: string, fault: string, slos: readonly string[]): string {
    return writeFile(dir, `${name}.yaml`, [
      'apiVersion: gameday/v1',
      'kind: Experiment',
      `metadata: { name: ${name} }`,
      'spec:',
      '  workloads: [web.yaml]',
      '  duration: 4s',
      '  blastRadius: { maxPodPercent: 100 }',
      '  steadyState: { checks: [ "ready(deployment/shop/web) >= 3" ], recoverWithin: 20s }',
      '  probes:',
      '    web: { http: { service: shop/web:80, path: /, rate: 20/s, timeout: 1s } }',
      '  faults:',
      `    - ${fault}`,
      `  slos: [ ${slos.map((s) => JSON.stringify(s)).join(', ')} ]`,
      '',
    ].join('\n'));
  }

  it('a pod kill passes and a drain with an impossible SLO fails, each with its exit code, and the cluster is as before', async () => {
    const kill = experiment('kill-under-api-faults', '{ at: 1s, podKill: { pods: { namespace: shop, labels: { app: web } }, count: 1 } }', ['availability(web) >= 95%', 'pdb(shop/web) holds']);
    const drain = experiment('drain-under-api-faults', '{ at: 1s, nodeDrain: { nodes: { labels: { topology.kubernetes.io/zone: a } }, count: 1, timeout: 30s } }', ['pdb(shop/web) holds', 'ready(deployment/shop/web) >= 4']);
    const out = path.join(dir, 'runs');
    const r = await runCli(['run', kill, drain, '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--out', out]);
    expect(r.stdout + r.stderr).to.not.match(/unhandled|UnhandledPromiseRejection/i);
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/PASSED kill-under-api-faults/);
    expect(r.stdout).to.match(/FAILED drain-under-api-faults/);
    const runs = readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const outcomes = runs.map((run) => JSON.parse(readFileSync(path.join(out, run, 'result.json'), 'utf8')) as { experiment: string; outcome: string; checks: { check: string; verdict: string }[]; apiRetries: { total: number; byCause: Record<string, number> } });
    expect(Object.fromEntries(outcomes.map((o) => [o.experiment, o.outcome]))).to.deep.equal({ 'kill-under-api-faults': 'passed', 'drain-under-api-faults': 'failed' });
    for (const o of outcomes) {
      expect(o.apiRetries.total, `${o.experiment} survived a flaky API server, and says so`).to.be.greaterThan(0);
      expect(Object.values(o.apiRetries.byCause).reduce((a, b) => a + b, 0)).to.equal(o.apiRetries.total);
      expect(r.stdout, 'the terminal says it too').to.contain(`  API retries: ${o.apiRetries.total} (`);
    }
    for (const run of runs) expect(readFileSync(path.join(out, run, 'report.html'), 'utf8'), 'and report.html').to.match(/<dt>API retries<\/dt><dd>\d+ \([^<]+ ×\d+\)<\/dd>/);
    const drained = outcomes.find((o) => o.experiment === 'drain-under-api-faults')!;
    expect(drained.checks.filter((c) => c.verdict === 'failed').map((c) => c.check), 'only the impossible SLO failed').to.deep.equal(['ready(deployment/shop/web) >= 4']);

    const kc = new RetryingKubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const nodes = (await core.listNode()).items;
    expect(nodes.filter((n) => n.spec?.unschedulable).map((n) => n.metadata?.name), 'no node left cordoned').to.deep.equal([]);
    expect(nodes.flatMap((n) => n.spec?.taints ?? []).filter((t) => t.key.startsWith('gameday')), 'no taint of gameday left').to.deep.equal([]);
    expect((await kc.makeApiClient(NetworkingV1Api).listNetworkPolicyForAllNamespaces()).items).to.deep.equal([]);
    const labelled = (await core.listPodForAllNamespaces()).items.filter((p) => Object.keys(p.metadata?.labels ?? {}).some((k) => k.startsWith('gameday')));
    expect(labelled.map((p) => p.metadata?.name), 'no pod left with a gameday label').to.deep.equal([]);
    await eventually('the run to remove the namespace it made', async () => !(await core.listNamespace()).items.some((n) => n.metadata?.name === 'shop'), 20_000);
  });
});
