import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { encodeGnosticV2 } from '../../src/sim/api/openapi/gnostic-v2.js';
import { eventually } from '../support/eventually.js';
import { kubectlBinary } from '../support/kubectl.js';
import { startSim, type SimClients } from './sim-fixture.js';

/**
 * The API surface beyond the workloads, driven with real kubectl and client-node against one
 * embedded cluster: CustomResourceDefinitions and their custom resources, CronJobs, and the
 * policy objects admission applies (PriorityClass, LimitRange, ResourceQuota), Ingress.
 */
const TESTRUNS_CRD = new URL('../fixtures/crds/k6.io_testruns.yaml', import.meta.url).pathname;

describe('embedded cluster API surface (real kubectl and client-node)', function () {
  this.timeout(60_000);
  const bin = kubectlBinary('default');
  let sim: SimClients;
  let dir: string;
  let custom: k8s.CustomObjectsApi;
  const kubectl = (args: string[], options: { input?: string; reject?: boolean; cache?: string } = {}) =>
    execa(bin!, args, {
      env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, options.cache ?? 'cache'), HOME: dir },
      timeout: 30_000,
      reject: options.reject ?? true,
      ...(options.input !== undefined ? { input: options.input } : {}),
    });

  before(async function () {
    if (!bin) this.skip();
    sim = await startSim();
    dir = mkdtempSync(join(tmpdir(), 'gameday-api-surface-'));
    await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    custom = sim.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  });
  after(async () => {
    await sim?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('CustomResourceDefinitions', () => {
    const testRun = (name: string, labels: Record<string, string> = {}) => ({
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name, labels },
      spec: { parallelism: 2, script: { configMap: { name: 'script', file: 'test.js' } } },
    });

    it("applies k6-operator's TestRun CRD with kubectl and serves testruns to kubectl and client-node", async () => {
      const applied = await kubectl(['apply', '-f', TESTRUNS_CRD]);
      expect(applied.stdout).to.contain('customresourcedefinition.apiextensions.k8s.io/testruns.k6.io created');
      const waited = await kubectl(['wait', '--for=condition=Established', 'crd/testruns.k6.io', '--timeout=10s']);
      expect(waited.stdout).to.contain('condition met');

      const resources = await kubectl(['api-resources', '--api-group=k6.io']);
      expect(resources.stdout).to.match(/^testruns\s+k6\.io\/v1alpha1\s+true\s+TestRun\s*$/m);

      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(testRun('smoke', { tier: 'smoke' })) });
      await custom.createNamespacedCustomObject({ group: 'k6.io', version: 'v1alpha1', namespace: 'default', plural: 'testruns', body: testRun('soak', { tier: 'soak' }) });

      const listed = (await custom.listNamespacedCustomObject({ group: 'k6.io', version: 'v1alpha1', namespace: 'default', plural: 'testruns', labelSelector: 'tier=soak' })) as { items: { metadata: { name: string } }[] };
      expect(listed.items.map((i) => i.metadata.name)).to.deep.equal(['soak']);

      const table = await kubectl(['get', 'testruns']);
      const [header, ...rows] = table.stdout.trim().split('\n');
      expect(header!.split(/\s{2,}/)).to.deep.equal(['NAME', 'STAGE', 'AGE', 'TESTRUNID']);
      expect(rows.map((r) => r.split(/\s+/)[0])).to.deep.equal(['smoke', 'soak']);
    });

    it("explains a custom resource's fields from its CRD's schema, as the real API server publishes it", async () => {
      const explained = await kubectl(['explain', 'testruns.spec.parallelism']);
      expect(explained.stdout).to.match(/^GROUP:\s+k6\.io$/m);
      expect(explained.stdout).to.match(/^FIELD: parallelism <integer>$/m);
    });

    it('keeps status to the status subresource and shows it in the printer columns', async () => {
      const path = { group: 'k6.io', version: 'v1alpha1', namespace: 'default', plural: 'testruns', name: 'smoke' };
      await custom.patchNamespacedCustomObject({ ...path, body: { status: { stage: 'ignored' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      expect(((await custom.getNamespacedCustomObject(path)) as { status?: unknown }).status).to.equal(undefined);
      await custom.patchNamespacedCustomObjectStatus({ ...path, body: { status: { stage: 'started', testRunId: 'run-7' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      const row = await kubectl(['get', 'testrun', 'smoke', '--no-headers']);
      expect(row.stdout.trim().split(/\s+/)).to.deep.include.members(['smoke', 'started', 'run-7']);
    });

    it("prunes fields the CRD's schema does not declare and refuses values it does not allow", async () => {
      const path = { group: 'k6.io', version: 'v1alpha1', namespace: 'default', plural: 'testruns' };
      const loose = testRun('loose');
      (loose.spec as Record<string, unknown>)['bogus'] = true;
      const kept = (await custom.createNamespacedCustomObject({ ...path, body: loose })) as { spec: Record<string, unknown> };
      expect(kept.spec).to.not.have.property('bogus');
      expect(kept.spec['parallelism']).to.equal(2);
      const refused = await kubectl(['create', '-f', '-'], { input: JSON.stringify({ ...testRun('wrong'), spec: { parallelism: 'two' } }), reject: false });
      expect(refused.stderr).to.contain('spec.parallelism: Invalid value: "string": spec.parallelism in body must be of type integer: "string"');
      expect(refused.stderr).to.contain('spec.script: Required value');
      await custom.deleteNamespacedCustomObject({ ...path, name: 'loose' });
    });

    it('watches custom resources as they change', async () => {
      const seen: string[] = [];
      const watch = new k8s.Watch(sim.kubeConfig);
      const done = await watch.watch('/apis/k6.io/v1alpha1/namespaces/default/testruns', { labelSelector: 'tier=soak' }, (type, o: { metadata: { name: string } }) => seen.push(`${type} ${o.metadata.name}`), () => undefined);
      try {
        await eventually('the initial ADDED event', () => seen.includes('ADDED soak'));
        await kubectl(['label', 'testrun', 'soak', 'run=2']);
        await kubectl(['delete', 'testrun', 'soak']);
        await eventually('MODIFIED then DELETED', () => seen.join(',') === 'ADDED soak,MODIFIED soak,DELETED soak');
      } finally {
        done.abort();
      }
    });

    it('refuses an invalid CRD with the real validation messages', async () => {
      const bad = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' }, spec: { group: 'example.com', names: { plural: 'gadgets', kind: 'Gadget' }, scope: 'Namespaced', versions: [{ name: 'v1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } }] } };
      const result = await kubectl(['create', '-f', '-'], { input: JSON.stringify(bad), reject: false });
      expect(result.exitCode).to.equal(1);
      expect(result.stderr).to.contain('The CustomResourceDefinition "widgets.example.com" is invalid');
      expect(result.stderr).to.contain('metadata.name: Invalid value: "widgets.example.com": must be spec.names.plural+"."+spec.group');
      expect(result.stderr).to.contain('must have exactly one version marked as storage version');
    });

    it('serves every served version of a CRD over one stored object, preferring the highest', async () => {
      const version = (name: string, storage: boolean) => ({ name, served: true, storage, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } });
      const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'drills.gameday.dev' }, spec: { group: 'gameday.dev', scope: 'Cluster', names: { plural: 'drills', kind: 'Drill' }, versions: [version('v1beta1', false), version('v1', true)] } };
      await kubectl(['create', '-f', '-'], { input: JSON.stringify(crd) });
      const group = (await sim.kubeConfig.makeApiClient(k8s.ApisApi).getAPIVersions()).groups.find((g) => g.name === 'gameday.dev');
      expect(group?.preferredVersion?.version).to.equal('v1');
      expect(group?.versions.map((v) => v.version)).to.deep.equal(['v1', 'v1beta1']);
      await custom.createClusterCustomObject({ group: 'gameday.dev', version: 'v1beta1', plural: 'drills', body: { apiVersion: 'gameday.dev/v1beta1', kind: 'Drill', metadata: { name: 'zone-a' } } });
      const v1 = (await custom.getClusterCustomObject({ group: 'gameday.dev', version: 'v1', plural: 'drills', name: 'zone-a' })) as { apiVersion: string };
      const beta = (await custom.getClusterCustomObject({ group: 'gameday.dev', version: 'v1beta1', plural: 'drills', name: 'zone-a' })) as { apiVersion: string };
      expect([v1.apiVersion, beta.apiVersion]).to.deep.equal(['gameday.dev/v1', 'gameday.dev/v1beta1']);
    });

    it('deletes the custom resources with their CRD and stops serving them', async () => {
      await kubectl(['delete', 'crd', 'testruns.k6.io', '--timeout=10s']);
      expect(sim.cluster.store.list('testruns.k6.io')).to.deep.equal([]);
      // A fresh discovery cache: the shared one still lists testruns, as it would on a real cluster.
      const gone = await kubectl(['get', 'testruns'], { reject: false, cache: 'cache-after-delete' });
      expect(gone.stderr).to.contain('the server doesn\'t have a resource type "testruns"');
    });
  });
  describe('OpenAPI v3 (kubectl explain)', () => {
    const fetchJson = async (path: string): Promise<unknown> => (await fetch(new URL(path, sim.cluster.url))).json();
    for (const version of ['default', '1.29']) {
      it(`explains built-in kinds with upstream's own schemas to kubectl ${version}`, async function () {
        const binary = kubectlBinary(version);
        if (!binary) this.skip();
        const explain = (field: string) =>
          execa(binary!, ['explain', field], { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, `cache-${version}`), HOME: dir }, timeout: 30_000 });
        const replicas = await explain('deployment.spec.replicas');
        expect(replicas.stdout).to.match(/FIELD:\s+replicas <integer>/);
        expect(replicas.stdout).to.contain('Number of desired pods.');
        const ports = await explain('pods.spec.containers.ports.containerPort');
        expect(ports.stdout).to.match(/FIELD:\s+containerPort <integer>/);
        expect(ports.stdout).to.contain('Number of port to expose on the pod');
      });
    }

    it('lists every group version it serves with a content hash, and each document names its kinds', async () => {
      const root = (await fetchJson('/openapi/v3')) as { paths: Record<string, { serverRelativeURL: string }> };
      expect(root.paths['apis/apps/v1']!.serverRelativeURL).to.match(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
      const apps = (await fetchJson(root.paths['apis/apps/v1']!.serverRelativeURL)) as { components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: unknown[] }> } };
      expect(apps.components.schemas['io.k8s.api.apps.v1.Deployment']!['x-kubernetes-group-version-kind']).to.deep.equal([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    });
  });

  describe('OpenAPI v2 (kubectl 1.27 and 1.28)', () => {
    const PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
    const get = (headers: Record<string, string> = {}) => fetch(new URL('/openapi/v2', sim.cluster.url), { headers });
    type Swagger = { swagger: string; definitions: Record<string, { 'x-kubernetes-group-version-kind'?: unknown[]; properties?: Record<string, unknown> }> };
    /** kubectl `version` against the cluster, with a cache of its own so each version fetches OpenAPI itself. */
    const oldKubectl = (version: string, args: string[], input?: string) =>
      execa(kubectlBinary(version)!, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, `cache-v2-${version}`), HOME: dir }, timeout: 30_000, ...(input ? { input } : {}) });

    it('serves JSON or gnostic protobuf by Accept under one ETag, 304 for it, 406 for other types, and a new document once a CRD is established', async () => {
      const json = await get();
      expect(json.status).to.equal(200);
      expect(json.headers.get('content-type')).to.equal('application/json');
      const etag = json.headers.get('etag')!;
      expect(etag).to.match(/^"[0-9A-F]{128}"$/);
      const doc = (await json.json()) as Swagger;
      expect(doc.swagger).to.equal('2.0');
      expect(doc.definitions['io.k8s.api.apps.v1.Deployment']!['x-kubernetes-group-version-kind']).to.deep.equal([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
      expect(doc.definitions).to.not.have.property('io.k6.v1alpha1.TestRun');

      const proto = await get({ accept: PROTOBUF_ACCEPT });
      expect(proto.headers.get('content-type')).to.equal('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
      expect(proto.headers.get('etag')).to.equal(etag);
      expect(Buffer.from(await proto.arrayBuffer()).equals(encodeGnosticV2(doc))).to.equal(true);
      expect((await get({ accept: PROTOBUF_ACCEPT, 'if-none-match': etag })).status).to.equal(304);
      expect((await get({ accept: 'text/html' })).status).to.equal(406);

      await kubectl(['apply', '-f', TESTRUNS_CRD]);
      await kubectl(['wait', '--for=condition=Established', 'crd/testruns.k6.io', '--timeout=10s']);
      const after = await get({ 'if-none-match': etag });
      expect(after.status).to.equal(200);
      const withCrd = (await after.json()) as Swagger;
      expect(withCrd.definitions['io.k6.v1alpha1.TestRun']!['x-kubernetes-group-version-kind']).to.deep.equal([{ group: 'k6.io', kind: 'TestRun', version: 'v1alpha1' }]);
      expect(withCrd.definitions['io.k6.v1alpha1.TestRunList']!.properties).to.have.keys('apiVersion', 'items', 'kind', 'metadata');
    });

    for (const version of ['1.27', '1.28']) {
      it(`explains built-in and custom kinds to kubectl ${version}, rendered from v2 too`, async function () {
        if (!kubectlBinary(version)) this.skip();
        // Without --output kubectl 1.27 and 1.28 render from v3 (after fetching v2), with it from v2.
        for (const output of [[], ['--output=plaintext-openapiv2']]) {
          const strategy = await oldKubectl(version, ['explain', 'deployment.spec.strategy', ...output]);
          expect(strategy.stdout).to.match(output.length ? /^RESOURCE: strategy <Object>$/m : /^FIELD: strategy <DeploymentStrategy>$/m);
          expect(strategy.stdout).to.contain('The deployment strategy to use to replace existing pods with new ones.');
          // The enum values the API server adds to the published spec.
          expect(strategy.stdout).to.match(/Possible enum values:\n\s+- `"Recreate"` Kill all existing pods before creating new ones\./);
        }
        const parallelism = await oldKubectl(version, ['explain', 'testruns.spec.parallelism', '--output=plaintext-openapiv2']);
        expect(parallelism.stdout).to.match(/^KIND: {5}TestRun$/m);
        expect(parallelism.stdout).to.match(/^FIELD: {4}parallelism <integer>$/m);
      });

      it(`applies with kubectl ${version} without --validate=false, and applies a change as a strategic merge patch`, async function () {
        if (!kubectlBinary(version)) this.skip();
        const name = `v2-${version.replace('.', '-')}`;
        const manifest = (image: string) => stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }, { name: 'sidecar', image: 'busybox' }] } } } });
        expect((await oldKubectl(version, ['apply', '-f', '-'], manifest('nginx:1.27'))).stdout).to.equal(`deployment.apps/${name} created`);
        expect((await oldKubectl(version, ['apply', '-f', '-'], manifest('nginx:1.28'))).stdout).to.equal(`deployment.apps/${name} configured`);
        const containers = (await sim.apps.readNamespacedDeployment({ name, namespace: 'default' })).spec!.template.spec!.containers;
        expect(containers.map((c) => `${c.name}=${c.image}`)).to.deep.equal(['web=nginx:1.28', 'sidecar=busybox']);
      });
    }
  });

  describe('field validation (kubectl --validate)', () => {
    const typo = (name: string) => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { a: '1' }, dta: { b: '2' } });

    for (const version of ['default', '1.27']) {
      it(`kubectl ${version} refuses a manifest with an unknown field, naming it, as the API server's strict decoding does`, async function () {
        const bin = kubectlBinary(version);
        if (!bin) this.skip();
        const r = await execa(bin, ['apply', '-f', '-'], { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, `cache-fv-${version}`), HOME: dir }, input: typo(`typo-${version.replace('.', '-')}`), reject: false, timeout: 30_000 });
        expect(r.exitCode).to.equal(1);
        expect(r.stderr).to.contain('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dta"');
        expect((await sim.core.listNamespacedConfigMap({ namespace: 'default' })).items.map((c) => c.metadata!.name)).to.not.include(`typo-${version.replace('.', '-')}`);
      });
    }

    it('kubectl --validate=warn creates it without the field and prints the warning', async () => {
      const r = await kubectl(['apply', '--validate=warn', '-f', '-'], { input: typo('typo-warn') });
      expect(r.stderr).to.contain('Warning: unknown field "dta"');
      const stored = (await sim.core.readNamespacedConfigMap({ name: 'typo-warn', namespace: 'default' })) as unknown as Record<string, unknown>;
      expect(stored.data).to.deep.equal({ a: '1' });
      expect(stored).to.not.have.property('dta');
    });

    it('every object the cluster serves by itself (kube-system, its namespaces, nodes) declares only fields of its schema', async () => {
      const { dropUnknownFields } = await import('../../src/sim/api/field-validation.js');
      const { typeOfResource } = await import('../../src/sim/api/field-manager/resource-types.js');
      const { RESOURCES, viewIn } = await import('../../src/sim/api/resources.js');
      const undeclared: string[] = [];
      for (const r of RESOURCES) {
        for (const o of sim.cluster.store.list(r.storeKey)) {
          const view = structuredClone(viewIn(r, o));
          for (const path of dropUnknownFields(typeOfResource(r), view)) undeclared.push(`${r.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${path}`);
        }
      }
      expect(sim.cluster.store.list('pods').length, 'kube-system runs pods').to.be.greaterThan(3);
      expect(undeclared).to.deep.equal([]);
    });
  });

  describe('server-side apply (kubectl apply --server-side)', () => {
    const manifest = (replicas: number, image: string) =>
      stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa', namespace: 'default' }, spec: { replicas, selector: { matchLabels: { app: 'ssa' } }, template: { metadata: { labels: { app: 'ssa' } }, spec: { containers: [{ name: 'web', image }] } } } });

    it('applies, refuses to take fields kubectl scale set, names them, and takes them with --force-conflicts', async () => {
      expect((await kubectl(['apply', '--server-side', '-f', '-'], { input: manifest(2, 'gameday/web:1') })).stdout).to.contain('deployment.apps/ssa serverside-applied');
      await kubectl(['scale', 'deployment/ssa', '--replicas=4']);
      const refused = await kubectl(['apply', '--server-side', '-f', '-'], { input: manifest(3, 'gameday/web:2'), reject: false });
      expect(refused.exitCode).to.equal(1);
      expect(refused.stderr).to.contain('Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
      await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], { input: manifest(3, 'gameday/web:2') });
      const managers = JSON.parse((await kubectl(['get', 'deployment/ssa', '-o', 'json', '--show-managed-fields'])).stdout) as { spec: { replicas: number }; metadata: { managedFields: { manager: string; operation: string; subresource?: string }[] } };
      expect(managers.spec.replicas).to.equal(3);
      // The deployment controller's status writes stay the controller's.
      expect(managers.metadata.managedFields.map((m) => `${m.manager} ${m.operation}${m.subresource ? ` ${m.subresource}` : ''}`)).to.deep.equal(['kubectl Apply', 'kube-controller-manager Update status']);
    });
  });

  describe('CronJobs', () => {
    const cronJob = (name: string, spec: Partial<k8s.V1CronJobSpec>, longRunning = false): k8s.V1CronJob => ({
      metadata: { name },
      spec: {
        schedule: '*/1 * * * *',
        ...spec,
        jobTemplate: {
          metadata: { labels: { cron: name } },
          spec: {
            template: {
              spec: {
                restartPolicy: 'Never',
                terminationGracePeriodSeconds: 0,
                containers: [longRunning ? { name: 'web', image: 'gameday/web:1', ports: [{ containerPort: 8080 }] } : { name: 'once', image: 'busybox:1.36', command: ['true'] }],
              },
            },
          },
        },
      },
    });
    /** Status as if the last start was two minutes ago: the controller owes the most recent minute's start now, as after a controller outage. */
    const owe = (name: string) =>
      sim.batch.patchNamespacedCronJobStatus({ namespace: 'default', name, body: { status: { lastScheduleTime: new Date(Date.now() - 120_000) } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const jobsOf = async (name: string) => (await sim.batch.listNamespacedJob({ namespace: 'default', labelSelector: `cron=${name}` })).items.filter((j) => !j.metadata?.deletionTimestamp);
    const eventReasons = async (name: string) => (await sim.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items.map((e) => e.reason);
    const complete = (j: k8s.V1Job) => j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false;

    it('starts the Job a schedule owes, tracks it in status and shows the real kubectl columns', async () => {
      await sim.batch.createNamespacedCronJob({ namespace: 'default', body: cronJob('tick', { successfulJobsHistoryLimit: 1 }) });
      await owe('tick');
      const minute = Math.floor(Date.now() / 60_000);
      const [job] = await eventually('the scheduled job', async () => ((await jobsOf('tick')).length ? jobsOf('tick') : undefined));
      expect(job!.metadata?.name).to.be.oneOf([`tick-${minute}`, `tick-${minute - 1}`]);
      expect(job!.metadata?.ownerReferences?.[0]).to.include({ kind: 'CronJob', name: 'tick', controller: true });
      expect(job!.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
      const cj = await eventually('the job completed and seen by the controller', async () => {
        const c = await sim.batch.readNamespacedCronJob({ namespace: 'default', name: 'tick' });
        return c.status?.lastSuccessfulTime && !c.status.active?.length ? c : undefined;
      });
      expect(cj.status?.lastScheduleTime?.toISOString()).to.equal(job!.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']!.replace('Z', '.000Z'));
      expect(await eventReasons('tick')).to.include.members(['SuccessfulCreate', 'SawCompletedJob']);

      const table = await kubectl(['get', 'cronjobs']);
      const [header, row] = table.stdout.trim().split('\n');
      expect(header!.split(/\s{2,}/)).to.deep.equal(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
      expect(row!.split(/\s{2,}/).slice(0, 5)).to.deep.equal(['tick', '*/1 * * * *', '<none>', 'False', '0']);
    });

    it('runs kubectl create job --from=cronjob and keeps only successfulJobsHistoryLimit finished Jobs', async () => {
      const created = await kubectl(['create', 'job', 'tick-manual', '--from=cronjob/tick']);
      expect(created.stdout).to.contain('job.batch/tick-manual created');
      const manual = await sim.batch.readNamespacedJob({ namespace: 'default', name: 'tick-manual' });
      expect(manual.metadata?.annotations?.['cronjob.kubernetes.io/instantiate']).to.equal('manual');
      const left = await eventually('the older finished job deleted', async () => {
        const jobs = await jobsOf('tick');
        return jobs.length === 1 && complete(jobs[0]!) ? jobs : undefined;
      });
      expect(left.map((j) => j.metadata?.name)).to.deep.equal(['tick-manual']);
    });

    it('skips a start while a Job runs under Forbid, and replaces the running Job under Replace', async () => {
      await sim.batch.createNamespacedCronJob({ namespace: 'default', body: cronJob('forbid', { concurrencyPolicy: 'Forbid' }, true) });
      await sim.batch.createNamespacedCronJob({ namespace: 'default', body: cronJob('replace', { concurrencyPolicy: 'Replace' }, true) });
      await kubectl(['create', 'job', 'forbid-manual', '--from=cronjob/forbid']);
      await kubectl(['create', 'job', 'replace-manual', '--from=cronjob/replace']);
      await eventually('both manual jobs active in status', async () => {
        const [f, r] = await Promise.all(['forbid', 'replace'].map((name) => sim.batch.readNamespacedCronJob({ namespace: 'default', name })));
        return f!.status?.active?.length === 1 && r!.status?.active?.length === 1;
      });
      await owe('forbid');
      await owe('replace');
      await eventually('the Forbid start skipped', async () => (await eventReasons('forbid')).includes('JobAlreadyActive'));
      expect((await jobsOf('forbid')).map((j) => j.metadata?.name)).to.deep.equal(['forbid-manual']);
      const replaced = await eventually('the Replace start made', async () => {
        const jobs = await jobsOf('replace');
        return jobs.length === 1 && jobs[0]!.metadata?.name !== 'replace-manual' ? jobs : undefined;
      });
      expect(replaced[0]!.metadata?.name).to.match(/^replace-\d+$/);
      expect(await eventReasons('replace')).to.include('SuccessfulDelete');
    });

    it('starts nothing while suspended and starts the owed Job once resumed', async () => {
      await sim.batch.createNamespacedCronJob({ namespace: 'default', body: cronJob('paused', { suspend: true }) });
      await sim.batch.createNamespacedCronJob({ namespace: 'default', body: cronJob('twin', {}) });
      expect((await kubectl(['get', 'cronjob', 'paused', '--no-headers'])).stdout.split(/\s{2,}/)[3]).to.equal('True');
      // The controller's queue is first in, first out: once twin's owed Job exists, paused has been synced too.
      await owe('paused');
      await owe('twin');
      await eventually("twin's owed job", async () => (await jobsOf('twin')).length === 1);
      expect(await jobsOf('paused')).to.deep.equal([]);
      await kubectl(['patch', 'cronjob', 'paused', '-p', '{"spec":{"suspend":false}}']);
      await eventually("paused's owed job once resumed", async () => (await jobsOf('paused')).length === 1);
    });

    it('refuses a schedule cron cannot parse with the real message', async () => {
      const bad = await kubectl(['create', 'cronjob', 'bad', '--image=busybox', '--schedule=61 * * * *'], { reject: false });
      expect(bad.stderr).to.contain('spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61');
    });
  });
  describe('admission policy objects and Ingress', () => {
    const pod = (name: string, extra: Partial<k8s.V1PodSpec> = {}, resources?: k8s.V1ResourceRequirements): k8s.V1Pod => ({
      metadata: { name },
      spec: { containers: [{ name: 'web', image: 'gameday/web:1', ...(resources ? { resources } : {}) }], ...extra },
    });
    const forbidden = async (namespace: string, body: k8s.V1Pod) => {
      const err = await sim.core.createNamespacedPod({ namespace, body }).then(() => undefined, (e: unknown) => e as k8s.ApiException<string>);
      expect(err, 'the create should have been refused').to.not.equal(undefined);
      expect(err!.code).to.equal(403);
      return (JSON.parse(err!.body) as { message: string }).message;
    };
    before(async () => {
      for (const name of ['limited', 'quota']) await sim.core.createNamespace({ body: { metadata: { name } } });
    });

    it('resolves priorityClassName through the system PriorityClasses and refuses an unknown one', async () => {
      const table = await kubectl(['get', 'priorityclasses']);
      expect(table.stdout.trim().split('\n')[0]!.split(/\s{2,}/)).to.deep.equal(['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
      expect(table.stdout).to.match(/^system-cluster-critical\s+2000000000\s+false\s+\S+\s+PreemptLowerPriority$/m);
      const created = await sim.core.createNamespacedPod({ namespace: 'default', body: pod('critical', { priorityClassName: 'system-cluster-critical' }) });
      expect(created.spec?.priority).to.equal(2_000_000_000);
      expect(await forbidden('default', pod('vip', { priorityClassName: 'vip' }))).to.equal('pods "vip" is forbidden: no PriorityClass with name vip was found');
    });

    it("gives containers a LimitRange's defaults and refuses one above its max", async () => {
      await kubectl(['apply', '-n', 'limited', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' }, max: { memory: '1Gi' } }] } }) });
      const created = await sim.core.createNamespacedPod({ namespace: 'limited', body: pod('plain') });
      expect(created.spec?.containers[0]!.resources).to.deep.equal({ requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } });
      expect(created.metadata?.annotations?.['kubernetes.io/limit-ranger']).to.equal('LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web');
      expect(await forbidden('limited', pod('big', {}, { limits: { memory: '2Gi' } }))).to.equal('pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi');
    });

    it('refuses a pod past a ResourceQuota with the real message, and admits it once usage drops', async () => {
      await kubectl(['create', 'quota', 'compute', '-n', 'quota', '--hard=pods=2,requests.cpu=1']);
      const small = { requests: { cpu: '200m' } };
      for (const name of ['a', 'b']) await sim.core.createNamespacedPod({ namespace: 'quota', body: pod(name, {}, small) });
      expect(await forbidden('quota', pod('c', {}, small))).to.equal('pods "c" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2');
      expect(await forbidden('quota', pod('bare'))).to.equal('pods "bare" is forbidden: failed quota: compute: must specify requests.cpu');
      const row = await eventually('the quota controller counting both pods', async () => {
        const out = (await kubectl(['get', 'quota', '-n', 'quota', '--no-headers'])).stdout;
        return out.includes('pods: 2/2') ? out : undefined;
      });
      expect(row.trim().split(/\s{2,}/)).to.deep.include('pods: 2/2, requests.cpu: 400m/1');
      await sim.core.deleteNamespacedPod({ namespace: 'quota', name: 'a', gracePeriodSeconds: 0 });
      await eventually('pod c admitted', () => sim.core.createNamespacedPod({ namespace: 'quota', body: pod('c', {}, small) }));
    });

    it("holds a Deployment's pods to its namespace's quota: the ReplicaSet records the refusal as FailedCreate, as the real controller does", async () => {
      await kubectl(['create', 'namespace', 'capped']);
      await kubectl(['create', 'quota', 'two', '-n', 'capped', '--hard=pods=2']);
      await eventually('the quota counted', async () => (await sim.core.readNamespacedResourceQuota({ namespace: 'capped', name: 'two' })).status?.hard?.pods);
      await kubectl(['create', 'deployment', 'web', '-n', 'capped', '--image=gameday/web:1', '--replicas=3']);
      const refusal = await eventually('a FailedCreate event', async () => (await sim.core.listNamespacedEvent({ namespace: 'capped', fieldSelector: 'reason=FailedCreate' })).items[0]);
      expect(refusal.involvedObject.kind).to.equal('ReplicaSet');
      expect(refusal.message).to.match(/^Error creating: pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: two, requested: pods=1, used: pods=2, limited: pods=2$/);
      expect((await sim.core.listNamespacedPod({ namespace: 'capped' })).items).to.have.length(2);
    });

    it('stores Ingresses and IngressClasses and prints them as kubectl does', async () => {
      const ingressClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };
      const ingress = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'shop', namespace: 'default' },
        spec: {
          ingressClassName: 'nginx',
          tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
          rules: ['shop.example.com', 'api.example.com'].map((host) => ({ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }] } })),
        },
      };
      await kubectl(['apply', '-f', '-'], { input: [ingressClass, ingress].map((o) => stringify(o)).join('---\n') });
      const ing = (await kubectl(['get', 'ingress'])).stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
      expect(ing[0]).to.deep.equal(['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
      expect(ing[1]!.slice(0, 4)).to.deep.equal(['shop', 'nginx', 'shop.example.com,api.example.com', '80, 443']);
      const classes = (await kubectl(['get', 'ingressclass', '--no-headers'])).stdout.trim().split(/\s{2,}/);
      expect(classes.slice(0, 3)).to.deep.equal(['nginx', 'k8s.io/ingress-nginx', '<none>']);
    });
  });
  describe('events.k8s.io', () => {
    it('serves the core Events as events.k8s.io/v1 Events and stores what that API writes as core Events', async () => {
      const events = sim.kubeConfig.makeApiClient(k8s.EventsV1Api);
      const list = await events.listNamespacedEvent({ namespace: 'default' });
      const created = list.items.find((e) => e.regarding?.name === 'tick' && e.reason === 'SuccessfulCreate');
      expect(created?.note).to.match(/^Created job tick-\d+$/);
      expect(created?.deprecatedSource?.component).to.equal('cronjob-controller');

      const now = new Date();
      await events.createNamespacedEvent({
        namespace: 'default',
        body: { metadata: { name: 'drill.1' }, eventTime: now, reportingController: 'gameday.dev/runner', reportingInstance: 'runner-1', action: 'Inject', reason: 'FaultInjected', type: 'Normal', note: 'node drain started', regarding: { kind: 'Node', name: 'gameday-worker' } },
      });
      const core = await sim.core.readNamespacedEvent({ namespace: 'default', name: 'drill.1' });
      expect(core).to.deep.include({ message: 'node drain started', reportingComponent: 'gameday.dev/runner', reason: 'FaultInjected' });
      expect(core.involvedObject).to.deep.include({ kind: 'Node', name: 'gameday-worker' });
      const shown = await kubectl(['get', 'events.v1.events.k8s.io', 'drill.1', '-o', 'jsonpath={.note}/{.regarding.name}']);
      expect(shown.stdout).to.equal('node drain started/gameday-worker');
    });
  });
});
