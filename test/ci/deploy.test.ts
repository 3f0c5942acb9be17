import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { kubectlBinary } from '../support/kubectl.js';

const CLI = path.resolve('dist/cli/main.js');

interface K8sObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

interface PodSpec {
  serviceAccountName: string;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  containers: { image: string; args: string[]; securityContext: { allowPrivilegeEscalation: boolean }; volumeMounts: { name: string; mountPath: string }[] }[];
  volumes: { name: string; projected?: { sources: { configMap: { name: string; items?: { key: string; path: string }[] } }[] }; persistentVolumeClaim?: { claimName: string } }[];
}

/** What the CronJob runs, word by word (deploy/base/cronjob.yaml). */
const RUN_ARGS = ['run', '/experiments', '--tags', 'suite=nightly', '--out', '/reports', '--allow-context', 'in-cluster', '--node-access', 'pod', '--publish', 'gameday/gameday-last-result'];

/**
 * deploy/base as `kubectl apply -k` would apply it, rendered by the real kubectl's kustomize: the
 * CronJob runs the nightly suite in-cluster as its service account, with exactly the RBAC that
 * `gameday rbac` prints for the experiments it mounts (so the two cannot drift apart).
 */
describe('deploy/base: the nightly game day as a CronJob', function () {
  this.timeout(30_000);
  let objects: K8sObject[];
  const generator = parse(readFileSync('experiments/kustomization.yaml', 'utf8')) as { configMapGenerator: { name: string; files: string[] }[] };
  const files = (name: string): string[] => generator.configMapGenerator.find((g) => g.name === name)!.files;

  before(async function () {
    const kubectl = kubectlBinary('default');
    if (!kubectl) {
      if (process.env.CI === 'true') throw new Error('kubectl must be on PATH in CI');
      console.log('      skipped: no kubectl on PATH');
      this.skip();
    }
    const env = { KUBECACHEDIR: mkdtempSync(path.join(tmpdir(), 'gameday-kubecache-')) };
    const r = await execa(kubectl!, ['kustomize', 'deploy/base'], { env });
    objects = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
    // `kubectl kustomize deploy/`, as the README and the issue name it, renders the same base.
    const top = await execa(kubectl!, ['kustomize', 'deploy/'], { env });
    expect(top.stdout).to.equal(r.stdout);
  });

  const find = (kind: string, name?: string): K8sObject[] => objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  const podSpec = (): PodSpec => (find('CronJob', 'gameday-nightly')[0] as unknown as { spec: { jobTemplate: { spec: { template: { spec: PodSpec } } } } }).spec.jobTemplate.spec.template.spec;

  it('runs the nightly suite nightly, one at a time, in-cluster, publishing its result, as a non-root service account', () => {
    const cron = find('CronJob', 'gameday-nightly')[0] as unknown as { metadata: { namespace: string }; spec: { schedule: string; concurrencyPolicy: string; jobTemplate: { spec: { backoffLimit: number } } } };
    expect(cron.metadata.namespace).to.equal('gameday');
    expect(cron.spec).to.include({ schedule: '0 3 * * *', concurrencyPolicy: 'Forbid' });
    expect(cron.spec.jobTemplate.spec.backoffLimit).to.equal(0);
    const pod = podSpec();
    expect(pod.serviceAccountName).to.equal('gameday');
    expect(pod.securityContext).to.include({ runAsNonRoot: true, runAsUser: 1000 });
    const [container] = pod.containers;
    expect(container!.args).to.deep.equal(RUN_ARGS);
    expect(container!.image).to.equal('ghcr.io/owner/gameday:latest');
    expect(container!.securityContext.allowPrivilegeEscalation).to.equal(false);
    expect(find('ServiceAccount', 'gameday').map((o) => o.metadata.namespace)).to.deep.equal(['gameday']);
    expect(find('Namespace').map((o) => o.metadata.name).sort()).to.deep.equal(['gameday', 'shop']);
  });

  it('mounts the experiments with their workloads beside them, and keeps the reports on a volume', () => {
    const pod = podSpec();
    const mounts = Object.fromEntries(pod.containers[0]!.volumeMounts.map((m) => [m.name, m.mountPath]));
    expect(mounts).to.include({ experiments: '/experiments', reports: '/reports' });
    const volume = (name: string) => pod.volumes.find((v) => v.name === name)!;
    expect(find('PersistentVolumeClaim', volume('reports').persistentVolumeClaim!.claimName)).to.have.length(1);
    const [experiments, workloads] = volume('experiments').projected!.sources.map((s) => s.configMap);
    // The generated names carry a hash of the content; the CronJob names the very ConfigMaps rendered.
    const data = (name: string) => Object.keys((find('ConfigMap', name)[0] as unknown as { data: Record<string, string> }).data).sort();
    expect(data(experiments!.name)).to.deep.equal(files('gameday-experiments').sort());
    expect(workloads!.items).to.deep.equal(files('gameday-workloads').map((f) => ({ key: path.basename(f), path: f })));
    expect(data(workloads!.name)).to.deep.equal(files('gameday-workloads').map((f) => path.basename(f)).sort());
    // Every workload file a mounted experiment names is mounted where it looks.
    for (const file of files('gameday-experiments')) {
      const spec = (parse(readFileSync(path.join('experiments', file), 'utf8')) as { spec: { workloads?: string[] } }).spec;
      for (const w of spec.workloads ?? []) expect(files('gameday-workloads'), `${file} needs ${w}`).to.include(w);
    }
  });

  it('grants exactly what gameday rbac prints for those experiments and that --publish, bound to its service account', async () => {
    const committed = readFileSync('deploy/base/rbac.yaml', 'utf8');
    const experiments = files('gameday-experiments').map((f) => `experiments/${f}`);
    const args = ['rbac', ...experiments, '--tags', 'suite=nightly', '--node-access', 'pod', '--publish', RUN_ARGS[RUN_ARGS.indexOf('--publish') + 1]!];
    const printed = await execa('node', [CLI, ...args], { stripFinalNewline: false });
    expect(committed, `deploy/base/rbac.yaml is stale: regenerate it with node dist/cli/main.js ${args.join(' ')} > deploy/base/rbac.yaml`).to.equal(printed.stdout);
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') as unknown as { subjects: unknown[] }[];
    expect(bindings.length).to.be.greaterThan(1);
    for (const b of bindings) expect(b.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'gameday', namespace: 'gameday' }]);
  });
});
