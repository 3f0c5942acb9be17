import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { eventually } from '../support/eventually.js';
import { runCli, startCli, tempDir, writeFile, type RunningCli } from './cli-process.js';

interface FaultLine {
  readonly type: string;
  readonly step?: string;
  readonly message?: string;
}

/**
 * A cluster whose network does not enforce NetworkPolicy (`sim serve --network-policy ignore`, as
 * kindnet before v0.24 or flannel): a pod partition there is never passed, and a run interrupted
 * while the partition is still being proven says so instead of blaming the cluster.
 */
describe('a pod partition on a cluster that does not enforce NetworkPolicy (real CLI processes)', function () {
  this.timeout(90_000);
  const dir = tempDir('gameday-no-policy-');
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  let sim: RunningCli | undefined;

  before(async () => {
    sim = startCli(['sim', 'serve', '--nodes', '2', '--network-policy', 'ignore', '--kubeconfig', kubeconfig]);
    await eventually('gameday sim serve to start', () => sim!.output().stdout.includes('Press Ctrl-C'), 30_000);
    expect(sim.output().stdout).to.contain('NetworkPolicies are stored but NOT enforced');
    // Made here, so it outlives each run (a run removes only the namespaces it made).
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'shop' } } });
    writeFile(dir, 'web.yaml', [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: { name: web, namespace: shop }',
      'spec:',
      '  replicas: 2',
      '  selector: { matchLabels: { app: web } }',
      '  template:',
      '    metadata: { labels: { app: web } }',
      '    spec:',
      '      containers:',
      '        - { name: web, image: gameday/web:1, ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: /healthz, port: 8080 }, periodSeconds: 1 } }',
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
    await sim?.done;
  });

  function partitionExperiment(name: string, verifyTimeout: string, duration: string): string {
    return writeFile(dir, `${name}.yaml`, [
      'apiVersion: gameday/v1',
      'kind: Experiment',
      `metadata: { name: ${name} }`,
      'spec:',
      '  workloads: [web.yaml]',
      `  duration: ${duration}`,
      '  blastRadius: { maxPodPercent: 100 }',
      '  probes:',
      '    web: { http: { service: shop/web:80, path: /, rate: 10/s, timeout: 1s } }',
      '  faults:',
      `    - { at: 0s, for: 5s, networkPartition: { pods: { namespace: shop, labels: { app: web } }, verifyTimeout: ${verifyTimeout} } }`,
      '  slos: [ "availability(web) >= 0%" ]',
      '',
    ].join('\n'));
  }

  const faultSteps = (out: string): FaultLine[] => {
    const [run] = readdirSync(out);
    return readFileSync(path.join(out, run!, 'journal.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FaultLine).filter((e) => e.type === 'fault');
  };

  const policiesLeft = async (): Promise<string[]> => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const list = await kc.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace: 'shop' });
    return list.items.map((p) => p.metadata!.name!);
  };

  it('is inconclusive (exit 3), never passed: the pods still answer behind the deny-all policy, and the run says the cluster may not enforce NetworkPolicy', async () => {
    const out = path.join(dir, 'inconclusive');
    const r = await runCli(['run', partitionExperiment('unenforced', '3s', '8s'), '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--out', out]);
    expect(r.code, r.stdout + r.stderr).to.equal(3);
    expect(r.stdout).to.match(/did not land: the pods still answered 3s after the deny-all policy: the cluster does not enforce NetworkPolicy/);
    expect(faultSteps(out).map((e) => e.step)).to.deep.equal(['inject', 'injected', 'not-landed', 'revert', 'reverted']);
    expect(await policiesLeft()).to.deep.equal([]);
  });

  it('SIGINT while the partition is still being proven is journaled as an interrupted inject, not as a cluster that does not enforce NetworkPolicy (exit 130, nothing left)', async () => {
    const out = path.join(dir, 'interrupted');
    const cli = startCli(['run', partitionExperiment('interrupted', '60s', '60s'), '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--out', out]);
    // The inject has made its deny-all policy and now waits, up to 60 s, for requests to fail.
    await eventually('the partition policy to exist', async () => (await policiesLeft()).length === 1, 30_000);
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code, r.stdout + r.stderr).to.equal(130);
    const steps = faultSteps(out);
    expect(steps.map((e) => e.step)).to.deep.equal(['inject', 'interrupted', 'revert', 'reverted']);
    expect(steps[1]!.message).to.match(/^inject cut short: interrupted by SIGINT; what it had done is in its state, and the revert undoes it$/);
    expect(r.stdout).to.not.contain('does not enforce NetworkPolicy');
    const result = JSON.parse(readFileSync(path.join(out, readdirSync(out)[0]!, 'result.json'), 'utf8')) as { faults: { interrupted?: string; landed?: boolean }[] };
    expect(result.faults[0]).to.include({ interrupted: steps[1]!.message });
    expect(result.faults[0]!.landed).to.equal(undefined);
    expect(await policiesLeft()).to.deep.equal([]);
  });
});
