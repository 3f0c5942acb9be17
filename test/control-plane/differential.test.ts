import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { reviewAccess } from '../../src/cluster/access-review.js';
import { parseAccessTarget } from '../../src/core/access-target.js';
import { encodeGnosticV2 } from '../../src/sim/api/openapi/gnostic-v2.js';
import { eventually } from '../support/eventually.js';
import { kubectlBinary } from '../support/kubectl.js';
import { getBytes, normalise, startEmbeddedBackend, startRealBackend, WATCH_HISTORY, type Backend } from './backends.js';

/**
 * The same scenarios against the embedded cluster and upstream Kubernetes, compared as a client
 * sees them. A difference either gets fixed in the embedded cluster or is recorded in README's
 * fidelity table; the tests below assert the agreement that was measured.
 */
describe('differential: the embedded cluster against upstream Kubernetes', function () {
  this.timeout(120_000);
  let embedded: Backend;
  let real: Backend | undefined;

  before(async function () {
    real = await startRealBackend();
    if (!real) this.skip();
    embedded = await startEmbeddedBackend();
  });
  after(async () => {
    await real?.stop();
    await embedded?.stop();
  });

  async function onBoth<T>(scenario: (b: Backend) => Promise<T>): Promise<{ embedded: T; real: T }> {
    return { embedded: await scenario(embedded), real: await scenario(real!) };
  }

  /** Runs `use` with the environment of a kubectl that talks to `b` (its own kubeconfig and cache). */
  async function withKubeconfig(b: Backend, use: (env: Record<string, string>) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), `gameday-kubectl-${b.name}-`));
    try {
      writeFileSync(join(dir, 'kubeconfig'), b.kubeConfig.exportConfig(), { mode: 0o600 });
      await use({ KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const ns = (b: Backend, name: string) => b.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });

  it('Status bodies of everyday errors: not found, already exists, conflict, invalid', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'errors');
      const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'errors' }, data: { a: '1' } };
      const created = (await b.request('/api/v1/namespaces/errors/configmaps', { method: 'POST', body: cm })).body as { metadata: { resourceVersion: string } };
      await b.request('/api/v1/namespaces/errors/configmaps/settings', { method: 'PATCH', body: { data: { a: '2' } }, contentType: 'application/merge-patch+json' });
      const answers = {
        missingPod: await b.request('/api/v1/namespaces/errors/pods/missing'),
        missingInMissingNamespace: await b.request('/api/v1/namespaces/nowhere/configmaps/x'),
        deleteMissing: await b.request('/api/v1/namespaces/errors/configmaps/missing', { method: 'DELETE' }),
        duplicate: await b.request('/api/v1/namespaces/errors/configmaps', { method: 'POST', body: cm }),
        stale: await b.request('/api/v1/namespaces/errors/configmaps/settings', { method: 'PUT', body: { ...cm, metadata: { ...cm.metadata, resourceVersion: created.metadata.resourceVersion } } }),
        createInMissingNamespace: await b.request('/api/v1/namespaces/nowhere/configmaps', { method: 'POST', body: { ...cm, metadata: { name: 'x', namespace: 'nowhere' } } }),
        invalidName: await b.request('/api/v1/namespaces/errors/configmaps', { method: 'POST', body: { ...cm, metadata: { name: 'Bad_Name', namespace: 'errors' } } }),
      };
      return Object.fromEntries(Object.entries(answers).map(([k, r]) => [k, { status: r.status, body: normalise(r.body) }]));
    });
    // Anchors, so that two identical wrong answers cannot pass: upstream's codes and reasons.
    const reasons = Object.fromEntries(Object.entries(seen.real).map(([k, v]) => [k, `${v.status} ${(v.body as { reason?: string }).reason}`]));
    expect(reasons).to.deep.equal({
      missingPod: '404 NotFound',
      missingInMissingNamespace: '404 NotFound',
      deleteMissing: '404 NotFound',
      duplicate: '409 AlreadyExists',
      stale: '409 Conflict',
      createInMissingNamespace: '404 NotFound',
      invalidName: '422 Invalid',
    });
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('admission refusals: a CronJob schedule cron cannot parse, an unknown PriorityClass, an object count past its quota', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'refusals');
      const base = '/api/v1/namespaces/refusals';
      const lease = (name: string) => ({ method: 'POST', body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name } } });
      const cronJob = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'bad' }, spec: { schedule: '61 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } } };
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'vip' }, spec: { priorityClassName: 'vip', containers: [{ name: 'c', image: 'busybox' }] } };
      await b.request(`${base}/resourcequotas`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'leases' }, spec: { hard: { 'count/leases.coordination.k8s.io': '1' } } } });
      // Upstream enforces a quota once its controller has filled in status.hard.
      await eventually('the quota counted', async () => ((await b.request(`${base}/resourcequotas/leases`)).body as { status?: { hard?: object } }).status?.hard);
      const leases = '/apis/coordination.k8s.io/v1/namespaces/refusals/leases';
      const used = async () => ((await b.request(`${base}/resourcequotas/leases`)).body as { status?: { used?: Record<string, string> } }).status?.used?.['count/leases.coordination.k8s.io'];
      await b.request(leases, lease('first'));
      await eventually('the first lease counted', async () => (await used()) === '1');
      // Upstream's quota admission reads quotas from the API server's informer cache, which can
      // lag the status it just wrote: a create let through that way is undone and tried again.
      const overQuota = async () => {
        for (let attempt = 1; ; attempt++) {
          const answer = await b.request(leases, lease('second'));
          if (answer.status !== 201 || attempt === 5) return answer;
          await b.request(`${leases}/second`, { method: 'DELETE' });
          await eventually('the second lease uncounted', async () => (await used()) === '1');
        }
      };
      const answers = {
        schedule: await b.request('/apis/batch/v1/namespaces/refusals/cronjobs', { method: 'POST', body: cronJob }),
        priorityClass: await b.request(`${base}/pods`, { method: 'POST', body: pod }),
        quota: await overQuota(),
      };
      return Object.fromEntries(Object.entries(answers).map(([k, r]) => [k, { status: r.status, body: normalise(r.body) }]));
    });
    const reasons = Object.fromEntries(Object.entries(seen.real).map(([k, v]) => [k, `${v.status} ${(v.body as { reason?: string }).reason}`]));
    expect(reasons).to.deep.equal({ schedule: '422 Invalid', priorityClass: '403 Forbidden', quota: '403 Forbidden' });
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('paged lists: continue tokens, remainingItemCount on unfiltered pages only', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'paged');
      const leases = '/apis/coordination.k8s.io/v1/namespaces/paged/leases';
      for (const name of ['a', 'b', 'c', 'd', 'e']) await b.request(leases, { method: 'POST', body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, labels: { tier: name < 'c' ? 'x' : 'y' } } } });
      const pages: unknown[] = [];
      let token = '';
      do {
        const page = (await b.request(`${leases}?limit=2${token ? `&continue=${encodeURIComponent(token)}` : ''}`)).body as { metadata: { continue?: string; remainingItemCount?: number }; items: { metadata: { name: string } }[] };
        pages.push({ names: page.items.map((i) => i.metadata.name), remaining: page.metadata.remainingItemCount, more: page.metadata.continue !== undefined });
        token = page.metadata.continue ?? '';
      } while (token);
      const filtered = (await b.request(`${leases}?limit=1&labelSelector=tier%3Dy`)).body as { metadata: { continue?: string; remainingItemCount?: number } };
      return { pages, filtered: { more: filtered.metadata.continue !== undefined, remaining: filtered.metadata.remainingItemCount } };
    });
    expect(seen.real.pages).to.deep.equal([
      { names: ['a', 'b'], remaining: 3, more: true },
      { names: ['c', 'd'], remaining: 1, more: true },
      { names: ['e'], remaining: undefined, more: false },
    ]);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('server-side apply: managedFields of applies and updates, pruning, conflicts, force, and an apply that creates', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'ssa');
      const cms = '/api/v1/namespaces/ssa/configmaps';
      const applyAs = (manager: string, body: object, extra = '') =>
        b.request(`${cms}/settings?fieldManager=${manager}${extra}`, { method: 'PATCH', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, ...body }, contentType: 'application/apply-patch+yaml' });
      const fields = (r: { body: unknown }) =>
        ((r.body as { metadata?: { managedFields?: Record<string, unknown>[] } }).metadata?.managedFields ?? []).map(({ time: _, ...entry }) => entry);
      // Upstream lists a conflict's causes in Go map order, which varies: compared sorted.
      const conflictOf = (r: { status: number; body: unknown }) => {
        const body = normalise(r.body) as { details?: { causes?: { field: string; message: string }[] } };
        body.details?.causes?.sort((x, y) => `${x.message}${x.field}`.localeCompare(`${y.message}${y.field}`));
        return { status: r.status, body };
      };
      const steps: Record<string, unknown> = {};
      const created = await applyAs('alpha', { metadata: { name: 'settings', labels: { tier: 'web' } }, data: { a: '1', b: '2' } });
      steps.created = { status: created.status, fields: fields(created) };
      const pruned = await applyAs('alpha', { metadata: { name: 'settings', labels: { tier: 'web' } }, data: { a: '1' } });
      steps.pruned = { data: (pruned.body as { data: unknown }).data, fields: fields(pruned) };
      const patched = await b.request(`${cms}/settings?fieldManager=patcher`, { method: 'PATCH', body: { data: { a: '9', c: '3' } }, contentType: 'application/merge-patch+json' });
      steps.patched = fields(patched);
      const conflict = await applyAs('alpha', { data: { a: '1', d: '4' } });
      steps.conflict = conflictOf(conflict);
      const forced = await applyAs('alpha', { data: { a: '1', d: '4' } }, '&force=true');
      steps.forced = { data: (forced.body as { data: unknown }).data, fields: fields(forced) };
      const shared = await applyAs('beta', { data: { a: '1' } });
      steps.shared = fields(shared);
      const twoConflicts = await applyAs('gamma', { data: { a: '2', c: '4' } });
      steps.twoConflicts = conflictOf(twoConflicts);
      const noManager = await b.request(`${cms}/settings`, { method: 'PATCH', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' } }, contentType: 'application/apply-patch+yaml' });
      steps.noManager = { status: noManager.status, body: normalise(noManager.body) };
      const made = await b.request('/apis/apps/v1/namespaces/ssa/deployments?fieldManager=creator', {
        method: 'POST',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } },
      });
      steps.deploymentCreated = made.status;
      const lease = await b.request('/apis/coordination.k8s.io/v1/namespaces/ssa/leases?fieldManager=holder', { method: 'POST', body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lock', labels: { a: 'b' } }, spec: { holderIdentity: 'me', leaseDurationSeconds: 10 } } });
      steps.leaseCreated = fields(lease);
      const renewed = await b.request('/apis/coordination.k8s.io/v1/namespaces/ssa/leases/lock', { method: 'PATCH', body: { spec: { holderIdentity: 'you', leaseTransitions: 1 }, metadata: { labels: null } }, contentType: 'application/merge-patch+json', headers: { 'User-Agent': 'renewer/v1.0 (linux/amd64)' } });
      steps.leaseRenewed = fields(renewed);
      const scaled = await b.request('/apis/apps/v1/namespaces/ssa/deployments/web?fieldManager=scaler', {
        method: 'PATCH',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } } },
        contentType: 'application/apply-patch+yaml',
      });
      steps.deploymentConflict = conflictOf(scaled);
      const rescaled = await b.request('/apis/apps/v1/namespaces/ssa/deployments/web/scale?fieldManager=autoscaler', { method: 'PATCH', body: { spec: { replicas: 3 } }, contentType: 'application/merge-patch+json' });
      steps.rescaled = rescaled.status;
      const afterScale = await b.request('/apis/apps/v1/namespaces/ssa/deployments/web');
      steps.scaleEntry = fields(afterScale).filter((e) => e.manager === 'autoscaler');
      const overScale = await b.request('/apis/apps/v1/namespaces/ssa/deployments/web?fieldManager=creator&force=true', {
        method: 'PATCH',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } },
        contentType: 'application/apply-patch+yaml',
      });
      // Only the two managers at play: upstream's controllers also record their status writes, at moments that vary.
      steps.overScale = fields(overScale).filter((e) => (e.manager === 'creator' && e.operation === 'Apply') || e.manager === 'autoscaler');
      return steps;
    });
    // Anchors: upstream's own answers, so that two identical wrong answers cannot pass.
    expect((seen.real.conflict as { status: number }).status).to.equal(409);
    expect(((seen.real.conflict as { body: { message: string } }).body.message)).to.equal('Apply failed with 1 conflict: conflict with "patcher" using v1: .data.a');
    expect(seen.real.created).to.deep.equal({ status: 201, fields: [{ apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { 'f:tier': {} } } }, manager: 'alpha', operation: 'Apply' }] });
    for (const step of Object.keys(seen.real)) expect(seen.embedded[step], step).to.deep.equal(seen.real[step]);
  });

  it("managedFields of the controllers' and kubelet's writes: a Deployment, its ReplicaSet, a pod and its Service's endpoints; an HPA's scale, and an apply of replicas after it", async () => {
    type Entry = { manager: string; operation: string; subresource?: string };
    // gameday's kubelets write to the real API server as its node side: that is their manager there.
    const entries = (o: unknown) =>
      ((o as { metadata?: { managedFields?: Entry[] } }).metadata?.managedFields ?? []).map((e) => `${e.manager === 'gameday-node-side' ? 'kubelet' : e.manager} ${e.operation} ${e.subresource ?? ''}`.trim()).sort();
    const seen = await onBoth(async (b) => {
      await ns(b, 'owners');
      const deployment = '/apis/apps/v1/namespaces/owners/deployments/web';
      await b.request('/apis/apps/v1/namespaces/owners/deployments?fieldManager=creator', {
        method: 'POST',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } },
      });
      await b.request('/api/v1/namespaces/owners/services', { method: 'POST', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
      const available = (n: number) => async () => (((await b.request(deployment)).body as { status?: { availableReplicas?: number; updatedReplicas?: number } }).status?.availableReplicas === n ? true : undefined);
      await eventually(`${b.name}: rolled out`, available(1), 30_000);
      const slices = async () => ((await b.request('/apis/discovery.k8s.io/v1/namespaces/owners/endpointslices')).body as { items: { endpoints?: unknown[] }[] }).items;
      await eventually(`${b.name}: the Service's endpoint`, async () => ((await slices())[0]?.endpoints?.length ? true : undefined));
      const endpoints = { slice: entries((await slices())[0]), endpoints: entries((await b.request('/api/v1/namespaces/owners/endpoints/web')).body) };
      const owned = async () => ({
        deployment: entries((await b.request(deployment)).body),
        replicaSet: entries(((await b.request('/apis/apps/v1/namespaces/owners/replicasets')).body as { items: unknown[] }).items[0]),
        pod: entries(((await b.request('/api/v1/namespaces/owners/pods')).body as { items: unknown[] }).items[0]),
      });
      const rolledOut = await owned();
      await b.request('/apis/autoscaling/v2/namespaces/owners/horizontalpodautoscalers', {
        method: 'POST',
        body: { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] } },
      });
      // Below its minimum, the HPA scales without reading a metric.
      await eventually(`${b.name}: scaled by the HPA`, available(2), 30_000);
      const scaled = (await owned()).deployment;
      const apply = await b.request(`${deployment}?fieldManager=creator`, { method: 'PATCH', body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1 } }, contentType: 'application/apply-patch+yaml' });
      return { rolledOut, endpoints, scaled, apply: { status: apply.status, body: normalise(apply.body) } };
    });
    // Anchors: upstream's own entries, so that two identical wrong answers cannot pass.
    expect(seen.real.rolledOut).to.deep.equal({
      deployment: ['creator Update', 'kube-controller-manager Update status'],
      replicaSet: ['kube-controller-manager Update', 'kube-controller-manager Update status'],
      pod: ['kube-controller-manager Update', 'kubelet Update status'],
    });
    expect(seen.real.endpoints).to.deep.equal({ slice: ['kube-controller-manager Update'], endpoints: ['kube-controller-manager Update'] });
    expect(seen.real.scaled).to.include('kube-controller-manager Update scale');
    expect((seen.real.apply.body as { message: string }).message).to.equal('Apply failed with 1 conflict: conflict with "kube-controller-manager" with subresource "scale" using apps/v1: .spec.replicas');
    // A recorded difference (README): the embedded cluster keeps no component entries on pods, for its cost at scale.
    expect(seen.embedded.rolledOut.pod).to.deep.equal([]);
    expect({ ...seen.embedded, rolledOut: { ...seen.embedded.rolledOut, pod: seen.real.rolledOut.pod } }).to.deep.equal(seen.real);
  });

  it('a CustomResourceDefinition: its conditions, discovery, printer columns, pruning and schema errors', async () => {
    const column = (name: string, type: string, jsonPath: string, extra: object = {}) => ({ name, type, jsonPath, ...extra });
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'drills.gameday.dev' },
      spec: {
        group: 'gameday.dev',
        scope: 'Namespaced',
        names: { plural: 'drills', kind: 'Drill', shortNames: ['dr'] },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            additionalPrinterColumns: [column('Target', 'string', '.spec.target'), column('Replicas', 'integer', '.spec.replicas', { priority: 1 }), column('Ready', 'string', '.status.conditions[?(@.type=="Ready")].status'), column('Started', 'date', '.status.startedAt')],
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', required: ['target'], properties: { target: { type: 'string' }, replicas: { type: 'integer', minimum: 1 } } }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
          },
        ],
      },
    };
    const seen = await onBoth(async (b) => {
      await ns(b, 'drills');
      await b.request('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { method: 'POST', body: crd });
      const established = await eventually('the CRD Established', async () => {
        const c = (await b.request('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/drills.gameday.dev')).body as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; acceptedNames?: unknown; storedVersions?: unknown } };
        return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? c.status : undefined;
      });
      const drills = '/apis/gameday.dev/v1/namespaces/drills/drills';
      await eventually('drills served', async () => (await b.request(drills)).status === 200);
      const created = await b.request(drills, { method: 'POST', body: { apiVersion: 'gameday.dev/v1', kind: 'Drill', metadata: { name: 'zone-a' }, spec: { target: 'zone-a', replicas: 3, extra: true } } });
      const table = await b.request(`${drills}/zone-a`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      const t = table.body as { columnDefinitions: unknown[]; rows: { cells: unknown[] }[] };
      return {
        conditions: established.conditions?.map(({ type, status, reason, message }) => ({ type, status, reason, message })),
        acceptedNames: established.acceptedNames,
        storedVersions: established.storedVersions,
        group: normalise((await b.request('/apis/gameday.dev')).body),
        resources: normalise((await b.request('/apis/gameday.dev/v1')).body),
        prunedSpec: (created.body as { spec?: unknown }).spec,
        columns: t.columnDefinitions,
        cells: t.rows.map((r) => r.cells),
        invalid: normalise((await b.request(drills, { method: 'POST', body: { apiVersion: 'gameday.dev/v1', kind: 'Drill', metadata: { name: 'bad' }, spec: { replicas: 'two' } } })).body),
      };
    });
    expect(seen.real.prunedSpec).to.deep.equal({ target: 'zone-a', replicas: 3 });
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it("OpenAPI: every v2 definition and path the embedded cluster serves is upstream's, a CRD's as upstream builds them; kubectl 1.27 explains alike from v2 and v3; upstream's protobuf is gnostic's encoding of its JSON, byte for byte", async function () {
    const kubectl127 = kubectlBinary('1.27');
    if (!kubectl127) this.skip();
    // v2 has no nullable, anyOf, oneOf or defaults: upstream drops them and what depends on them.
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['target', 'window'],
          properties: {
            target: { type: 'string', description: 'What the plan disrupts.', default: 'web' },
            window: { type: 'string', nullable: true },
            maxUnavailable: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
            steps: { type: 'array', 'x-kubernetes-list-type': 'atomic', items: { type: 'object', properties: { name: { type: 'string', maxLength: 20, pattern: '^[a-z]+$' } } } },
            mode: { type: 'string', enum: ['drill', 'True'] },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
            pod: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
          },
        },
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'plans.openapi.gameday.dev' },
      spec: { group: 'openapi.gameday.dev', scope: 'Namespaced', names: { plural: 'plans', kind: 'Plan' }, versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: schema } }] },
    };
    type Swagger = { definitions: Record<string, unknown>; paths: Record<string, Record<string, { parameters?: { name?: string; $ref?: string }[]; 'x-kubernetes-group-version-kind'?: unknown }>> };
    const seen = await onBoth(async (b) => {
      await b.request('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { method: 'POST', body: crd });
      // Upstream's OpenAPI controller publishes a CRD a moment after it is established.
      const doc = await eventually('the CRD in /openapi/v2', async () => {
        const d = (await b.request('/openapi/v2')).body as Swagger;
        return d.definitions['dev.gameday.openapi.v1.Plan'] ? d : undefined;
      });
      const explained: string[] = [];
      await withKubeconfig(b, async (env) => {
        for (const field of ['plans --recursive', 'plans.spec.pod', 'deployment.spec.strategy', 'pods.spec.containers.ports']) {
          explained.push((await execa(kubectl127!, ['explain', ...field.split(' '), '--output=plaintext-openapiv2'], { env })).stdout);
        }
        // Without --output, kubectl 1.27 explains from OpenAPI v3.
        explained.push((await execa(kubectl127!, ['explain', 'deployment.spec.strategy'], { env })).stdout);
      });
      const patch = doc.paths['/apis/openapi.gameday.dev/v1/namespaces/{namespace}/plans/{name}']!.patch!;
      return {
        plan: doc.definitions['dev.gameday.openapi.v1.Plan'],
        planList: doc.definitions['dev.gameday.openapi.v1.PlanList'],
        paths: Object.fromEntries(Object.entries(doc.paths).filter(([p]) => p.includes('/plans'))),
        patch: { gvk: patch['x-kubernetes-group-version-kind'], parameters: patch.parameters?.map((p) => p.name ?? p.$ref) },
        explained,
        doc,
      };
    });
    expect(seen.real.patch.parameters).to.include('fieldValidation');
    const { doc: embeddedDoc, ...embeddedSeen } = seen.embedded;
    const { doc: realDoc, ...realSeen } = seen.real;
    expect(embeddedSeen).to.deep.equal(realSeen);
    // The built-in part of the document: the same JSON values (key order aside) for everything served.
    const differing = (of: 'definitions' | 'paths') =>
      Object.keys(embeddedDoc[of]).filter((name) => !name.includes('plans') && !name.includes('.Plan') && !isDeepStrictEqual(embeddedDoc[of][name], realDoc[of][name]));
    expect(Object.keys(embeddedDoc.definitions)).to.include('io.k8s.api.apps.v1.DeploymentStrategy');
    expect(differing('definitions')).to.deep.equal([]);
    expect(differing('paths')).to.deep.equal([]);

    const json = await getBytes(real!, '/openapi/v2', 'application/json');
    const proto = await getBytes(real!, '/openapi/v2', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf');
    expect(proto.etag).to.equal(json.etag);
    expect(encodeGnosticV2(JSON.parse(json.body.toString('utf8'))).equals(proto.body)).to.equal(true);
  });

  it('events.k8s.io/v1 and core Events: one object seen through both APIs', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'events');
      const eventTime = '2026-01-02T03:04:05.000000Z';
      await b.request('/apis/events.k8s.io/v1/namespaces/events/events', {
        method: 'POST',
        body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'drill.1' }, eventTime, reportingController: 'gameday.dev/runner', reportingInstance: 'runner-1', action: 'Inject', reason: 'FaultInjected', type: 'Normal', note: 'drain started', regarding: { kind: 'Pod', namespace: 'events', name: 'web' } },
      });
      await b.request('/api/v1/namespaces/events/events', {
        method: 'POST',
        body: { apiVersion: 'v1', kind: 'Event', metadata: { name: 'core.1' }, involvedObject: { kind: 'Pod', namespace: 'events', name: 'web' }, reason: 'Killing', message: 'Stopping container web', type: 'Normal', source: { component: 'kubelet', host: 'worker' }, count: 2, firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:05:05Z' },
      });
      // managedFields (server-side apply's bookkeeping) are not kept by the embedded cluster.
      const read = async (path: string) => {
        const o = (await b.request(path)).body as { metadata?: Record<string, unknown> };
        delete o.metadata?.['managedFields'];
        return normalise(o);
      };
      return {
        coreView: await read('/api/v1/namespaces/events/events/drill.1'),
        eventsView: await read('/apis/events.k8s.io/v1/namespaces/events/events/core.1'),
      };
    });
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('evictions: 201 within the budget, 429 with its cause beyond it, 500 for a pod under two budgets', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'evict');
      const labels = { app: 'web' };
      await b.request('/apis/apps/v1/namespaces/evict/deployments', {
        method: 'POST',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }] } } } },
      });
      await b.request('/apis/policy/v1/namespaces/evict/poddisruptionbudgets', { method: 'POST', body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 3, selector: { matchLabels: labels } } } });
      const budget = async () => ((await b.request('/apis/policy/v1/namespaces/evict/poddisruptionbudgets/web')).body as { status?: { currentHealthy?: number; desiredHealthy?: number; disruptionsAllowed?: number; expectedPods?: number; observedGeneration?: number } }).status;
      await eventually(`${b.name}: the budget to count 3 healthy pods`, async () => ((await budget())?.currentHealthy === 3 ? true : undefined), 30_000);
      const pods = ((await b.request('/api/v1/namespaces/evict/pods')).body as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name).sort();
      const names = new Map(pods.map((p, i) => [p, `pod-${i}`]));
      const evict = (pod: string) => b.request(`/api/v1/namespaces/evict/pods/${pod}/eviction`, { method: 'POST', body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'evict' } } });
      const blocked = await evict(pods[0]!);
      const statusBlocked = await budget();
      await b.request('/apis/policy/v1/namespaces/evict/poddisruptionbudgets/web', { method: 'PATCH', body: { spec: { minAvailable: 2 } }, contentType: 'application/merge-patch+json' });
      await eventually(`${b.name}: the loosened budget to allow one disruption`, async () => ((await budget())?.disruptionsAllowed === 1 ? true : undefined), 30_000);
      const allowed = await evict(pods[1]!);
      const afterAllowed = await budget();
      await b.request('/apis/policy/v1/namespaces/evict/poddisruptionbudgets', { method: 'POST', body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'second' }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } } });
      const twoBudgets = await evict(pods[2]!);
      return {
        blocked: { status: blocked.status, body: normalise(blocked.body, names) },
        budgetWhileBlocked: normalise(statusBlocked),
        allowed: { status: allowed.status, body: normalise(allowed.body, names) },
        budgetAfterEviction: { disruptionsAllowed: afterAllowed?.disruptionsAllowed },
        twoBudgets: { status: twoBudgets.status, body: normalise(twoBudgets.body, names) },
      };
    });
    expect([seen.real.blocked.status, seen.real.allowed.status, seen.real.twoBudgets.status]).to.deep.equal([429, 201, 500]);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('watch: a resource version older than the server keeps ends in 410 Expired inside the stream', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'churn');
      // More changes than the embedded cluster keeps here; upstream compacts them away (see backends.ts).
      for (let i = 0; i <= WATCH_HISTORY + 50; i++) await b.request('/api/v1/namespaces/churn/configmaps', { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } } });
      if (b.name === 'real') await new Promise((r) => setTimeout(r, 5000)); // two compactions
      const r = await b.request('/api/v1/namespaces/churn/configmaps?watch=true&resourceVersion=2&timeoutSeconds=2');
      const events = r.raw.body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: { code?: number; reason?: string; kind?: string; status?: string } });
      return { status: r.status, events: events.map((e) => ({ type: e.type, kind: e.object.kind, code: e.object.code, reason: e.object.reason, status: e.object.status })) };
    });
    expect(seen.real.events).to.deep.equal([{ type: 'ERROR', kind: 'Status', code: 410, reason: 'Expired', status: 'Failure' }]);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('watch with sendInitialEvents: the current objects, then a bookmark marking their end', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'initial');
      for (const name of ['one', 'two']) await b.request('/api/v1/namespaces/initial/configmaps', { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { made: 'here' } } } });
      // Selected by label: upstream's root-CA publisher adds kube-root-ca.crt to every namespace (README: fidelity).
      const r = await b.request('/api/v1/namespaces/initial/configmaps?watch=true&labelSelector=made%3Dhere&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2');
      const events = r.raw.body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: { metadata?: { name?: string; annotations?: Record<string, string> } } });
      return { status: r.status, events: events.map((e) => ({ type: e.type, name: e.type === 'BOOKMARK' ? undefined : e.object.metadata?.name, annotations: e.type === 'BOOKMARK' ? e.object.metadata?.annotations : undefined })) };
    });
    expect(seen.real.events.map((e) => e.type)).to.deep.equal(['ADDED', 'ADDED', 'BOOKMARK']);
    expect(seen.real.events[2]?.annotations).to.deep.include({ 'k8s.io/initial-events-end': 'true' });
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('a node that stops posting status: Ready Unknown with the controller\'s reason, both unreachable taints, and taint-based eviction of its pods', async () => {
    const seen = await onBoth(async (b) => {
      const node = 'gameday-worker3';
      await ns(b, 'lost');
      const labels = { app: 'lost' };
      await b.request('/apis/apps/v1/namespaces/lost/deployments', {
        method: 'POST',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'lost' }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { nodeSelector: { 'kubernetes.io/hostname': node }, containers: [{ name: 'web', image: 'gameday/web:1' }] } } } },
      });
      type Pod = { metadata: { name: string; deletionTimestamp?: string }; spec: { tolerations?: unknown[] }; status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
      const pods = async () => ((await b.request('/api/v1/namespaces/lost/pods')).body as { items: Pod[] }).items;
      const running = await eventually(`${b.name}: the pod pinned to ${node} to run`, async () => (await pods()).find((p) => p.status?.phase === 'Running'), 30_000);
      await b.silenceNode(node);
      type Node = { spec?: { taints?: { key: string; effect: string }[] }; status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
      const read = async () => (await b.request(`/api/v1/nodes/${node}`)).body as Node;
      const silent = await eventually(`${b.name}: ${node} to be tainted unreachable for NoExecute`, async () => {
        const n = await read();
        return n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? n : undefined;
      }, 60_000);
      const evicted = await eventually(`${b.name}: the pod on the silent node to be evicted by its taint`, async () => (await pods()).find((p) => p.metadata.name === running.metadata.name && p.metadata.deletionTimestamp), 60_000);
      return {
        tolerations: running.spec.tolerations,
        evictedCondition: evicted.status?.conditions?.filter((c) => c.type === 'DisruptionTarget').map((c) => ({ status: c.status, reason: c.reason, message: c.message })),
        conditions: silent.status?.conditions?.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })).sort((x, y) => x.type.localeCompare(y.type)),
        taints: silent.spec?.taints?.map((t) => `${t.key}:${t.effect}`).sort(),
      };
    });
    expect(seen.real.taints).to.deep.equal(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    expect(seen.real.tolerations, 'admission adds the two default tolerations').to.have.length(2);
    expect(seen.real.evictedCondition).to.deep.equal([{ status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' }]);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('EndpointSlice and Endpoints through readiness and termination: ready, serving, terminating', async () => {
    type Slice = { endpoints?: { addresses: string[]; conditions: { ready?: boolean; serving?: boolean; terminating?: boolean }; targetRef?: { name: string } }[] };
    type Subsets = { subsets?: { addresses?: unknown[]; notReadyAddresses?: unknown[] }[] };
    const seen = await onBoth(async (b) => {
      await ns(b, 'term');
      const labels = { app: 'slow-stop' };
      // Keeps serving through its grace period after SIGTERM while failing readiness, as a well-behaved server does.
      const env = [{ name: 'GAMEDAY_SHUTDOWN', value: 'graceful' }, { name: 'GAMEDAY_SHUTDOWN_DELAY', value: '20s' }];
      await b.request('/apis/apps/v1/namespaces/term/deployments', {
        method: 'POST',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'slow-stop' }, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 30, containers: [{ name: 'web', image: 'gameday/web:1', env, ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 1, failureThreshold: 1 } }] } } } },
      });
      await b.request('/api/v1/namespaces/term/services', { method: 'POST', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'slow-stop' }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } } });
      const slice = async () => ((await b.request('/apis/discovery.k8s.io/v1/namespaces/term/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dslow-stop')).body as { items: Slice[] }).items.flatMap((x) => x.endpoints ?? []);
      const endpoints = async () => ((await b.request('/api/v1/namespaces/term/endpoints/slow-stop')).body as Subsets).subsets ?? [];
      const count = (subsets: Subsets['subsets'] & object, key: 'addresses' | 'notReadyAddresses') => subsets.reduce((n, x) => n + (x[key]?.length ?? 0), 0);
      const before = await eventually(`${b.name}: two ready endpoints`, async () => {
        const e = await slice();
        return e.length === 2 && e.every((x) => x.conditions.ready) ? e : undefined;
      }, 30_000);
      const victim = before[0]!.targetRef!.name;
      await b.request(`/api/v1/namespaces/term/pods/${victim}`, { method: 'DELETE' });
      const terminating = await eventually(`${b.name}: ${victim} terminating and no longer serving`, async () => {
        const e = (await slice()).find((x) => x.targetRef?.name === victim);
        return e?.conditions.terminating && e.conditions.serving === false ? e : undefined;
      }, 30_000);
      const legacy = await endpoints();
      return {
        before: before.map((x) => x.conditions),
        terminating: terminating.conditions,
        legacy: { ready: count(legacy, 'addresses'), notReady: count(legacy, 'notReadyAddresses') },
      };
    });
    expect(seen.real.terminating).to.deep.equal({ ready: false, serving: false, terminating: true });
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('StatefulSet ordering and garbage collection: pods made one at a time in ordinal order; a Deployment deleted in the background takes its ReplicaSet and pods', async () => {
    type Pod = { metadata: { name: string; creationTimestamp: string; ownerReferences?: { kind: string }[] } };
    const seen = await onBoth(async (b) => {
      await ns(b, 'order');
      const labels = { app: 'db' };
      await b.request('/api/v1/namespaces/order/services', { method: 'POST', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: labels, ports: [{ port: 6379 }] } } });
      await b.request('/apis/apps/v1/namespaces/order/statefulsets', {
        method: 'POST',
        body: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { serviceName: 'db', replicas: 3, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'kv', image: 'gameday/kv:1', readinessProbe: { tcpSocket: { port: 6379 }, periodSeconds: 1 } }] } } } },
      });
      // Watch the order pods appear in: OrderedReady makes db-1 only once db-0 is Running and Ready.
      const order: string[] = [];
      await eventually(`${b.name}: three StatefulSet pods, seen one by one`, async () => {
        const items = ((await b.request('/api/v1/namespaces/order/pods')).body as { items: Pod[] }).items;
        for (const p of items) if (!order.includes(p.metadata.name)) order.push(p.metadata.name);
        return order.length === 3;
      }, 60_000);
      const app = { app: 'gc' };
      await b.request('/apis/apps/v1/namespaces/order/deployments', { method: 'POST', body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gc' }, spec: { replicas: 2, selector: { matchLabels: app }, template: { metadata: { labels: app }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }] } } } } });
      const owned = async () => ({
        replicaSets: ((await b.request('/apis/apps/v1/namespaces/order/replicasets')).body as { items: unknown[] }).items.length,
        pods: ((await b.request('/api/v1/namespaces/order/pods?labelSelector=app%3Dgc')).body as { items: unknown[] }).items.length,
      });
      const before = await eventually(`${b.name}: the Deployment's ReplicaSet and two pods`, async () => {
        const o = await owned();
        return o.replicaSets === 1 && o.pods === 2 ? o : undefined;
      }, 30_000);
      const deleted = await b.request('/apis/apps/v1/namespaces/order/deployments/gc', { method: 'DELETE', body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
      const after = await eventually(`${b.name}: the ReplicaSet and pods collected`, async () => {
        const o = await owned();
        return o.replicaSets === 0 && o.pods === 0 ? o : undefined;
      }, 30_000);
      return { order, deleteStatus: deleted.status, before, after };
    });
    expect(seen.real.order).to.deep.equal(['db-0', 'db-1', 'db-2']);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it("a local volume's node affinity: its claim binds, and a pod using it stays Pending with the scheduler's reason while that node is cordoned", async () => {
    type Pod = { status?: { conditions?: { type: string; reason?: string; message?: string }[] } };
    const seen = await onBoth(async (b) => {
      await ns(b, 'volumes');
      const nodes = ((await b.request('/api/v1/nodes')).body as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name).filter((n) => !n.endsWith('-control-plane')).sort();
      const node = nodes[0]!;
      const affinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } };
      const claimBody = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
      await b.request('/api/v1/namespaces/volumes/persistentvolumeclaims', { method: 'POST', body: claimBody });
      // Pre-bound to the claim, which exists already: upstream's PV controller binds at once instead of at its next 15 s resync.
      await b.request('/api/v1/persistentvolumes', {
        method: 'POST',
        body: {
          apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'volumes-local' },
          spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', local: { path: '/mnt/disks/a' }, nodeAffinity: affinity, claimRef: { namespace: 'volumes', name: 'data' } },
        },
      });
      type Claim = { spec?: { volumeName?: string }; status?: { phase?: string; capacity?: { storage?: string } } };
      const claim = await eventually(`${b.name}: the claim bound`, async () => {
        const c = (await b.request('/api/v1/namespaces/volumes/persistentvolumeclaims/data')).body as Claim;
        return c.status?.phase === 'Bound' ? c : undefined;
      }, 30_000);
      const pv = (await b.request('/api/v1/persistentvolumes/volumes-local')).body as { spec?: { persistentVolumeReclaimPolicy?: string; claimRef?: { name?: string } }; status?: { phase?: string } };
      const cordon = (unschedulable: boolean) => b.request(`/api/v1/nodes/${node}`, { method: 'PATCH', body: { spec: { unschedulable } }, contentType: 'application/merge-patch+json' });
      await cordon(true);
      try {
        const pod = (name: string, claimName: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] } });
        // The namespace's default ServiceAccount comes from the controller-manager, shortly after the namespace.
        for (const [name, claimName] of [['pinned', 'data'], ['unclaimed', 'nosuch']] as const) {
          await eventually(`${b.name}: pod ${name} created`, async () => (await b.request('/api/v1/namespaces/volumes/pods', { method: 'POST', body: pod(name, claimName) })).status === 201, 30_000);
        }
        // The filter reasons, each with its node count. The rest of the message differs by version (README: fidelity):
        // 1.34 hides the taint ("untolerated taint(s)") and appends DRA's PostFilter text.
        const reason = async (name: string) => {
          const message = await eventually(`${b.name}: pod ${name} Unschedulable`, async () => {
            const p = (await b.request(`/api/v1/namespaces/volumes/pods/${name}`)).body as Pod;
            return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable')?.message;
          }, 30_000);
          const [, nodes, reasons] = /^(0\/\d+) nodes are available: (.*?)\. /.exec(message) ?? [];
          // Counted per reason, with every taint as one reason (1.34 no longer names them, so it counts them together).
          const counts = new Map<string, number>();
          for (const r of reasons?.split(', ') ?? []) {
            const [, n, text] = /^(\d+) (.*)$/.exec(r) ?? [];
            if (text === undefined) return { nodes, reasons: [r] }; // PreFilter's message: no per-node counts
            const key = text.replace(/untolerated taint.*/, 'untolerated taint');
            counts.set(key, (counts.get(key) ?? 0) + Number(n));
          }
          return { nodes, reasons: [...counts].map(([text, n]) => `${n} ${text}`).sort() };
        };
        return {
          claim: { phase: claim.status?.phase, volumeName: claim.spec?.volumeName, capacity: claim.status?.capacity?.storage },
          volume: { phase: pv.status?.phase, claim: pv.spec?.claimRef?.name, reclaimPolicy: pv.spec?.persistentVolumeReclaimPolicy },
          pinned: await reason('pinned'),
          unclaimed: await reason('unclaimed'),
        };
      } finally {
        await cordon(false);
      }
    });
    // Anchored on upstream's own words; how many nodes each reason counts depends on what earlier tests left (a silenced worker).
    expect(seen.real.pinned.reasons?.some((r) => /^\d+ node\(s\) didn't match PersistentVolume's node affinity$/.test(r))).to.equal(true);
    expect(seen.real.unclaimed.reasons).to.deep.equal(['persistentvolumeclaim "nosuch" not found']);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('the Table columns kubectl prints for the common kinds', async () => {
    const paths = {
      pods: '/api/v1/pods',
      nodes: '/api/v1/nodes',
      namespaces: '/api/v1/namespaces',
      services: '/api/v1/services',
      configmaps: '/api/v1/configmaps',
      events: '/api/v1/events',
      deployments: '/apis/apps/v1/deployments',
      replicasets: '/apis/apps/v1/replicasets',
      statefulsets: '/apis/apps/v1/statefulsets',
      daemonsets: '/apis/apps/v1/daemonsets',
      jobs: '/apis/batch/v1/jobs',
      poddisruptionbudgets: '/apis/policy/v1/poddisruptionbudgets',
      endpointslices: '/apis/discovery.k8s.io/v1/endpointslices',
      leases: '/apis/coordination.k8s.io/v1/leases',
      networkpolicies: '/apis/networking.k8s.io/v1/networkpolicies',
      persistentvolumeclaims: '/api/v1/persistentvolumeclaims',
      persistentvolumes: '/api/v1/persistentvolumes',
      storageclasses: '/apis/storage.k8s.io/v1/storageclasses',
      secrets: '/api/v1/secrets',
      serviceaccounts: '/api/v1/serviceaccounts',
      roles: '/apis/rbac.authorization.k8s.io/v1/roles',
      rolebindings: '/apis/rbac.authorization.k8s.io/v1/rolebindings',
      clusterroles: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      clusterrolebindings: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      cronjobs: '/apis/batch/v1/cronjobs',
      ingresses: '/apis/networking.k8s.io/v1/ingresses',
      ingressclasses: '/apis/networking.k8s.io/v1/ingressclasses',
      priorityclasses: '/apis/scheduling.k8s.io/v1/priorityclasses',
      resourcequotas: '/api/v1/resourcequotas',
      limitranges: '/api/v1/limitranges',
      customresourcedefinitions: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      'events.k8s.io': '/apis/events.k8s.io/v1/events',
    };
    const seen = await onBoth(async (b) => {
      const out: Record<string, unknown> = {};
      for (const [kind, path] of Object.entries(paths)) {
        const r = await b.request(path, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
        const table = r.body as { kind?: string; columnDefinitions?: { name: string; type: string; priority: number }[] };
        out[kind] = { status: r.status, kind: table.kind, columns: table.columnDefinitions?.map((c) => `${c.name}:${c.type}:${c.priority}`) };
      }
      return out;
    });
    expect((seen.real.pods as { columns: string[] }).columns.slice(0, 5)).to.deep.equal(['Name:string:0', 'Ready:string:0', 'Status:string:0', 'Restarts:string:0', 'Age:string:0']);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  describe('RBAC: the same identity gets the same answers', () => {
    const NS = 'authz';
    const SA = `system:serviceaccount:${NS}:web`;
    const asWeb = { 'Impersonate-User': SA };
    const rbac = '/apis/rbac.authorization.k8s.io/v1';

    /** What a request as the web service account gets: the status code and the Status body. */
    const answersAsWeb = async (b: Backend) => {
      const paths: Record<string, { path: string; method?: string }> = {
        listPods: { path: `/api/v1/namespaces/${NS}/pods` },
        getSecret: { path: `/api/v1/namespaces/${NS}/secrets/db-password` },
        listNodes: { path: '/api/v1/nodes' },
        listDeployments: { path: `/apis/apps/v1/namespaces/${NS}/deployments` },
        execInPod: { path: `/api/v1/namespaces/${NS}/pods/web-1/exec?command=true&stdout=true`, method: 'POST' },
        watchOnePod: { path: `/api/v1/namespaces/${NS}/pods?watch=true&fieldSelector=metadata.name%3Dweb-1&timeoutSeconds=1` },
        readOwnNamespace: { path: `/api/v1/namespaces/${NS}` },
        nonResource: { path: '/metrics' },
      };
      const out: Record<string, unknown> = {};
      for (const [what, p] of Object.entries(paths)) {
        const r = await b.request(p.path, { headers: asWeb, ...(p.method ? { method: p.method } : {}) });
        out[what] = { status: r.status, body: r.body };
      }
      return out;
    };

    /** `kubectl auth can-i` as the service account, through each backend's kubeconfig. */
    const canI = async (b: Backend, checks: readonly string[][]): Promise<string[]> => {
      const answers: string[] = [];
      await withKubeconfig(b, async (env) => {
        for (const check of checks) answers.push((await execa('kubectl', ['auth', 'can-i', ...check, '-n', NS, '--as', SA], { env, reject: false })).stdout.trim());
      });
      return answers;
    };
    const CHECKS = [['list', 'pods'], ['get', 'secrets'], ['create', 'pods/exec'], ['watch', 'deployments.apps'], ['list', 'nodes'], ['get', 'secrets/api-key'], ['create', 'rolebindings.rbac.authorization.k8s.io']];

    it('403 Status bodies and can-i answers for a service account before and after it is bound to roles', async () => {
      const seen = await onBoth(async (b) => {
        await ns(b, NS);
        await b.request(`/api/v1/namespaces/${NS}/serviceaccounts`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web' } } });
        const unbound = { answers: await answersAsWeb(b), canI: await canI(b, CHECKS) };
        await b.request(`${rbac}/namespaces/${NS}/rolebindings`, {
          method: 'POST',
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'web-view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: NS }] },
        });
        await b.request(`${rbac}/namespaces/${NS}/roles`, {
          method: 'POST',
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'one-secret' }, rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['api-key'], verbs: ['get'] }] },
        });
        await b.request(`${rbac}/namespaces/${NS}/rolebindings`, {
          method: 'POST',
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'web-one-secret' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-secret' }, subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: NS }] },
        });
        // RBAC reads bindings through an informer upstream: wait until the binding decides.
        await eventually(`${b.name}: the view binding in effect`, async () => (await b.request(`/api/v1/namespaces/${NS}/pods`, { headers: asWeb })).status === 200, 10_000);
        return { unbound, bound: { canI: await canI(b, CHECKS) } };
      });
      const codes = Object.fromEntries(Object.entries(seen.real.unbound.answers).map(([k, v]) => [k, (v as { status: number }).status]));
      expect(codes, 'upstream denies every request of an unbound account').to.deep.equal(Object.fromEntries(Object.keys(codes).map((k) => [k, 403])));
      expect(seen.real.unbound.canI).to.deep.equal(['no', 'no', 'no', 'no', 'no', 'no', 'no']);
      expect(seen.real.bound.canI).to.deep.equal(['yes', 'no', 'no', 'yes', 'no', 'yes', 'no']);
      expect(seen.embedded).to.deep.equal(seen.real);
    });

    it('SubjectAccessReview, SelfSubjectAccessReview and SelfSubjectReview answer alike, reasons included', async () => {
      const seen = await onBoth(async (b) => {
        const sar = (resourceAttributes: Record<string, string>) =>
          b.request('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
            method: 'POST',
            body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: SA, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'], resourceAttributes } },
          });
        const ssar = (resourceAttributes: Record<string, string>) =>
          b.request('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { method: 'POST', headers: asWeb, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } } });
        const results = [
          await sar({ namespace: NS, verb: 'get', resource: 'secrets', name: 'api-key' }),
          await sar({ namespace: NS, verb: 'get', resource: 'secrets', name: 'other' }),
          await sar({ namespace: NS, verb: 'list', resource: 'pods' }),
          await ssar({ namespace: NS, verb: 'delete', resource: 'pods' }),
          await ssar({ namespace: NS, verb: 'get', resource: 'pods', subresource: 'log' }),
          await b.request('/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', headers: asWeb, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }),
        ];
        // What can() checks ask, through the client code a game day uses.
        const checks = [`serviceaccount/${NS}/web, get, secrets`, `serviceaccount/${NS}/web, list, pods`, `serviceaccount/${NS}/web, create, pods/exec`, `serviceaccount/${NS}/web, list, deployments.apps, default`];
        const can: unknown[] = [];
        for (const check of checks) can.push(await reviewAccess(b.kubeConfig, parseAccessTarget(check)));
        return { reviews: results.map((r) => ({ status: r.status, answer: (r.body as { status?: unknown }).status })), can };
      });
      expect(seen.real.reviews.map((r) => r.status)).to.deep.equal([201, 201, 201, 201, 201, 201]);
      expect(seen.real.can.map((a) => (a as { allowed: boolean }).allowed)).to.deep.equal([false, true, false, false]);
      expect(seen.embedded).to.deep.equal(seen.real);
    });

    it('LocalSubjectAccessReview and SelfSubjectRulesReview: the same rules, bootstrap roles included', async () => {
      const reader = `system:serviceaccount:${NS}:reader`;
      const seen = await onBoth(async (b) => {
        await b.request(`/api/v1/namespaces/${NS}/serviceaccounts`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } } });
        await b.request(`${rbac}/namespaces/${NS}/rolebindings`, {
          method: 'POST',
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'reader-one-secret' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-secret' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NS }] },
        });
        const localReview = (namespace: string | undefined) =>
          b.request(`/apis/authorization.k8s.io/v1/namespaces/${NS}/localsubjectaccessreviews`, {
            method: 'POST',
            body: { apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', spec: { user: reader, groups: ['system:authenticated'], resourceAttributes: { ...(namespace ? { namespace } : {}), verb: 'get', resource: 'secrets', name: 'api-key' } } },
          });
        const local = await eventually(`${b.name}: the reader's binding in effect`, async () => {
          const r = await localReview(NS);
          return (r.body as { status?: { allowed?: boolean } }).status?.allowed ? r : undefined;
        });
        const withoutNamespace = await localReview(undefined);
        const rules = await eventually(`${b.name}: the reader's rules to include its Role`, async () => {
          const r = await b.request('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { method: 'POST', headers: { 'Impersonate-User': reader }, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: NS } } });
          const status = (r.body as { status: { resourceRules: { resources: string[] }[]; nonResourceRules: unknown[] } }).status;
          return status.resourceRules.some((rule) => rule.resources.includes('secrets')) ? status : undefined;
        });
        const sorted = (list: unknown[]) => list.map((x) => JSON.stringify(x)).sort();
        // Upstream records managedFields on the review it answers; the embedded cluster keeps none anywhere.
        const { spec, status } = local.body as { spec: unknown; status: unknown };
        return { local: { status: local.status, spec, answer: status }, withoutNamespace: { status: withoutNamespace.status, body: withoutNamespace.body }, resourceRules: sorted(rules.resourceRules), nonResourceRules: sorted(rules.nonResourceRules) };
      });
      expect(seen.real.withoutNamespace.status).to.equal(422);
      expect(seen.real.resourceRules.length).to.be.greaterThan(1);
      expect(seen.embedded).to.deep.equal(seen.real);
    });

    it('can() asks about cluster-scoped resources at the cluster scope: a namespace admin may not list nodes', async () => {
      const seen = await onBoth(async (b) => {
        await b.request(`/api/v1/namespaces/${NS}/serviceaccounts`, { method: 'POST', body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'ops' } } });
        await b.request(`${rbac}/namespaces/${NS}/rolebindings`, {
          method: 'POST',
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'ops-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'ops', namespace: NS }] },
        });
        const ask = (check: string) => reviewAccess(b.kubeConfig, parseAccessTarget(`serviceaccount/${NS}/ops, ${check}`));
        await eventually(`${b.name}: the ops binding in effect`, async () => (await ask('delete, pods')).allowed);
        return { nodes: (await ask('list, nodes')).allowed, namespaces: (await ask('delete, namespaces')).allowed, pods: (await ask('delete, pods')).allowed };
      });
      expect(seen.real).to.deep.equal({ nodes: false, namespaces: false, pods: true });
      expect(seen.embedded).to.deep.equal(seen.real);
    });

    it('tokens: a TokenRequest token authenticates its account; one for another audience, or one neither cluster issued, gets the same 401', async () => {
      const seen = await onBoth(async (b) => {
        const token = async (audiences: string[]) =>
          ((await b.request(`/api/v1/namespaces/${NS}/serviceaccounts/web/token`, { method: 'POST', body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences } } })).body as { status: { token: string } }).status.token;
        const whoami = async (bearer: string) => {
          const r = await b.request('/apis/authentication.k8s.io/v1/selfsubjectreviews', { method: 'POST', headers: { authorization: `Bearer ${bearer}` }, body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
          const user = (r.body as { status?: { userInfo?: { username: string; groups: string[] } } }).status?.userInfo;
          return { status: r.status, ...(user ? { username: user.username, groups: user.groups } : { body: r.body }) };
        };
        return { own: await whoami(await token([])), otherAudience: await whoami(await token(['vault'])), forged: await whoami('eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl') };
      });
      expect(seen.real.own).to.deep.include({ status: 201, username: SA });
      expect([seen.real.otherAudience.status, seen.real.forged.status]).to.deep.equal([401, 401]);
      expect(seen.embedded).to.deep.equal(seen.real);
    });
  });

  it('Pod Security admission: enforce refuses with the same message, warn answers with the same warning', async () => {
    const pod = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }], ...spec } });
    const hardened = { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'web', image: 'gameday/web:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] };
    const reckless = {
      hostNetwork: true,
      hostPID: true,
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
      initContainers: [{ name: 'setup', image: 'gameday/web:1', securityContext: { runAsUser: 0, capabilities: { add: ['NET_ADMIN', 'SYS_TIME'] } } }],
      containers: [{ name: 'web', image: 'gameday/web:1', ports: [{ containerPort: 8080, hostPort: 8080 }], securityContext: { privileged: true, seccompProfile: { type: 'Unconfined' } } }],
    };
    const seen = await onBoth(async (b) => {
      const labelled = (name: string, labels: Record<string, string>) => b.request('/api/v1/namespaces', { method: 'POST', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } } });
      await labelled('psa-restricted', { 'pod-security.kubernetes.io/enforce': 'restricted' });
      await labelled('psa-baseline', { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted' });
      // Upstream's ServiceAccount admission refuses pods until the namespace's default account exists.
      for (const ns of ['psa-restricted', 'psa-baseline']) await eventually(`${b.name}: ${ns}'s default account`, async () => (await b.request(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200);
      const create = async (namespace: string, body: unknown) => {
        const r = await b.request(`/api/v1/namespaces/${namespace}/pods?dryRun=All`, { method: 'POST', body });
        return { status: r.status, message: (r.body as { message?: string }).message, warning: r.raw.headers.warning };
      };
      return {
        plainInRestricted: await create('psa-restricted', pod('plain', {})),
        hardenedInRestricted: await create('psa-restricted', pod('hardened', hardened)),
        recklessInRestricted: await create('psa-restricted', pod('reckless', reckless)),
        recklessInBaseline: await create('psa-baseline', pod('reckless', reckless)),
        plainInBaseline: await create('psa-baseline', pod('plain', {})),
        // A dry run stores nothing, and a name already taken is still a conflict (after admission).
        notStored: { status: (await b.request('/api/v1/namespaces/psa-baseline/pods/plain')).status },
        takenName: await b.request('/api/v1/namespaces/psa-baseline/pods', { method: 'POST', body: pod('taken', {}) }).then(() => create('psa-baseline', pod('taken', {}))),
      };
    });
    expect(Object.values(seen.real).map((r) => r.status)).to.deep.equal([403, 201, 403, 403, 201, 404, 409]);
    expect(seen.real.plainInBaseline.warning).to.match(/^299 - "would violate PodSecurity/);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('fieldValidation: Strict refuses unknown fields with their paths, Warn and the default drop them with a warning each, Ignore drops them silently; on create, update and patches', async () => {
    const cm = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, bogusMeta: 1 }, data: { a: '1' }, colour: 'red', ...extra });
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'strict' },
      spec: {
        replicas: 1,
        speed: 'fast',
        selector: { matchLabels: { app: 'strict' } },
        template: { metadata: { labels: { app: 'strict' } }, spec: { containers: [{ name: 'web', image: 'gameday/web:1', imagex: 'typo', ports: [{ containerPort: 80, portx: 1 }] }] } },
      },
    };
    const seen = await onBoth(async (b) => {
      await ns(b, 'fields');
      const answer = async (path: string, options: Parameters<Backend['request']>[1]) => {
        const r = await b.request(path, options);
        const body = r.body as { message?: string; colour?: unknown; metadata?: Record<string, unknown> };
        return { status: r.status, message: body.message, warning: r.raw.headers.warning, kept: r.status < 300 ? { colour: body.colour, bogusMeta: body.metadata?.bogusMeta } : undefined };
      };
      const at = '/api/v1/namespaces/fields/configmaps';
      return {
        strictCreate: await answer(`${at}?fieldValidation=Strict`, { method: 'POST', body: cm('strict') }),
        strictDeployment: await answer('/apis/apps/v1/namespaces/fields/deployments?fieldValidation=Strict&dryRun=All', { method: 'POST', body: deployment }),
        warnCreate: await answer(`${at}?fieldValidation=Warn`, { method: 'POST', body: cm('warn') }),
        defaultCreate: await answer(at, { method: 'POST', body: cm('default') }),
        ignoreCreate: await answer(`${at}?fieldValidation=Ignore`, { method: 'POST', body: cm('ignore') }),
        strictUpdate: await answer(`${at}/warn?fieldValidation=Strict`, { method: 'PUT', body: cm('warn') }),
        strictMergePatch: await answer(`${at}/warn?fieldValidation=Strict`, { method: 'PATCH', body: { colour: 'blue' }, contentType: 'application/merge-patch+json' }),
        strictStrategicPatch: await answer(`${at}/warn?fieldValidation=Strict`, { method: 'PATCH', body: { colour: 'blue' }, contentType: 'application/strategic-merge-patch+json' }),
        warnMergePatch: await answer(`${at}/warn?fieldValidation=Warn`, { method: 'PATCH', body: { colour: 'blue', data: { b: '2' } }, contentType: 'application/merge-patch+json' }),
        unsupported: await answer(`${at}?fieldValidation=Loose`, { method: 'POST', body: cm('loose') }),
      };
    });
    // A strict merge patch quotes the patched object: its metadata (uid, times, managers) is each
    // cluster's own, so that quote is compared as its top-level keys and its non-metadata content.
    const quoted = (message: string | undefined) => {
      const m = /^( "" is invalid: patch: Invalid value: )(".*")(: strict decoding error: .*)$/.exec(message ?? '');
      if (!m) return message;
      const object = JSON.parse(JSON.parse(m[2]!) as string) as Record<string, unknown>;
      return { before: m[1], keys: Object.keys(object), content: { ...object, metadata: undefined }, after: m[3] };
    };
    for (const side of [seen.embedded, seen.real]) (side.strictMergePatch as { message: unknown }).message = quoted(side.strictMergePatch.message);
    expect(Object.fromEntries(Object.entries(seen.real).map(([k, v]) => [k, v.status]))).to.deep.equal({
      strictCreate: 400,
      strictDeployment: 400,
      warnCreate: 201,
      defaultCreate: 201,
      ignoreCreate: 201,
      strictUpdate: 400,
      strictMergePatch: 422,
      strictStrategicPatch: 422,
      warnMergePatch: 200,
      unsupported: 422,
    });
    expect(seen.real.warnCreate.warning).to.equal('299 - "unknown field \\"metadata.bogusMeta\\"", 299 - "unknown field \\"colour\\""');
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it("strategic merge patches order lists as upstream does: a new item before the server's, $setElementOrder's order, a reordering without changes", async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'ordering');
      const env = (names: string[]) => names.map((name) => ({ name, value: name.toLowerCase() }));
      // A Deployment's template carries named lists, and nothing runs while it has 0 replicas.
      const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'order' }, spec: { replicas: 0, selector: { matchLabels: { app: 'order' } }, template: { metadata: { labels: { app: 'order' } }, spec: { containers: [{ name: 'main', image: 'gameday/web:1', env: env(['A', 'B', 'C']) }] } } } };
      await b.request('/apis/apps/v1/namespaces/ordering/deployments', { method: 'POST', body: deployment });
      const patch = async (body: unknown) => {
        const r = await b.request('/apis/apps/v1/namespaces/ordering/deployments/order', { method: 'PATCH', body, contentType: 'application/strategic-merge-patch+json' });
        const containers = (r.body as { spec: { template: { spec: { containers: { name: string; env?: { name: string }[] }[] } } } }).spec.template.spec.containers;
        return containers.map((c) => `${c.name}: ${(c.env ?? []).map((e) => e.name).join(',')}`);
      };
      const container = (changes: Record<string, unknown>) => ({ spec: { template: { spec: { containers: [{ name: 'main', ...changes }] } } } });
      return {
        newEnv: await patch(container({ env: env(['D']) })),
        changedAndNew: await patch(container({ env: env(['E', 'B']) })),
        ordered: await patch(container({ env: env(['F']), '$setElementOrder/env': [{ name: 'A' }, { name: 'F' }, { name: 'B' }, { name: 'C' }, { name: 'D' }, { name: 'E' }] })),
        reorderedOnly: await patch(container({ '$setElementOrder/env': [{ name: 'F' }, { name: 'E' }, { name: 'D' }, { name: 'C' }, { name: 'B' }, { name: 'A' }] })),
        newContainer: await patch({ spec: { template: { spec: { containers: [{ name: 'side', image: 'busybox' }] } } } }),
      };
    });
    expect(seen.real).to.deep.equal({
      newEnv: ['main: D,A,B,C'],
      changedAndNew: ['main: E,D,A,B,C'],
      ordered: ['main: A,F,B,C,D,E'],
      reorderedOnly: ['main: F,E,D,C,B,A'],
      newContainer: ['side: ', 'main: F,E,D,C,B,A'],
    });
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('pods/ephemeralcontainers: one added by a strategic merge patch and defaulted; refused on create, when removed, and under a name the pod has', async () => {
    const seen = await onBoth(async (b) => {
      await ns(b, 'debugging');
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'box', namespace: 'debugging' }, spec: { containers: [{ name: 'main', image: 'gameday/web:1' }] } };
      const debug = { name: 'debugger', image: 'busybox', command: ['sh'], stdin: true, tty: true };
      const path = '/api/v1/namespaces/debugging/pods/box/ephemeralcontainers';
      // The real controller-manager makes the namespace's default account a moment later; pods wait for it.
      await eventually(`${b.name}: debugging's default account`, async () => (await b.request('/api/v1/namespaces/debugging/serviceaccounts/default')).status === 200);
      const onCreate = await b.request('/api/v1/namespaces/debugging/pods', { method: 'POST', body: { ...pod, metadata: { name: 'early', namespace: 'debugging' }, spec: { ...pod.spec, ephemeralContainers: [debug] } } });
      await b.request('/api/v1/namespaces/debugging/pods', { method: 'POST', body: pod });
      const added = await b.request(path, { method: 'PATCH', body: { spec: { ephemeralContainers: [debug] } }, contentType: 'application/strategic-merge-patch+json' });
      const read = await b.request(path);
      const current = read.body as { metadata: Record<string, unknown>; spec: { ephemeralContainers: unknown[] } };
      // Unconditional (no resourceVersion): the kubelet may have written the pod's status since the read.
      const removed = await b.request(path, { method: 'PUT', body: { ...current, metadata: { ...current.metadata, resourceVersion: undefined }, spec: { ...current.spec, ephemeralContainers: [] } } });
      const clash = await b.request(path, { method: 'PATCH', body: { spec: { ephemeralContainers: [{ name: 'main', image: 'busybox' }] } }, contentType: 'application/strategic-merge-patch+json' });
      return {
        onCreate: { status: onCreate.status, body: normalise(onCreate.body) },
        added: { status: added.status, ephemeralContainers: (added.body as { spec: { ephemeralContainers: unknown } }).spec.ephemeralContainers },
        readKind: (read.body as { kind: string }).kind,
        removed: { status: removed.status, body: normalise(removed.body) },
        clash: { status: clash.status, body: normalise(clash.body) },
      };
    });
    expect([seen.real.onCreate.status, seen.real.added.status, seen.real.removed.status, seen.real.clash.status]).to.deep.equal([422, 200, 422, 422]);
    expect(seen.embedded).to.deep.equal(seen.real);
  });

  it('/version: the same fields in the same order, and the same minor version; kubectl reads the same server version from both', async () => {
    const seen = await onBoth(async (b) => {
      const version = (await b.request('/version')).body as Record<string, string>;
      let fromKubectl: { major: string; minor: string } | undefined;
      await withKubeconfig(b, async (env) => {
        const out = JSON.parse((await execa('kubectl', ['version', '--output=json'], { env })).stdout) as { serverVersion: { major: string; minor: string } };
        fromKubectl = { major: out.serverVersion.major, minor: out.serverVersion.minor };
      });
      return { fields: Object.keys(version), major: version.major, minor: version.minor, emulationMinor: version.emulationMinor, fromKubectl };
    });
    expect(seen.embedded).to.deep.equal(seen.real);
    expect(seen.real.minor).to.equal('34');
  });

  it('the Table rows of the system PriorityClasses', async () => {
    const rows = await onBoth(async (b) => {
      const r = await b.request('/apis/scheduling.k8s.io/v1/priorityclasses?fieldSelector=metadata.name%3Dsystem-node-critical', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
      return (r.body as { rows: { cells: unknown[] }[] }).rows.map((row) => row.cells.filter((_, i) => i !== 3));
    });
    expect(rows.embedded).to.deep.equal(rows.real);
  });
});
