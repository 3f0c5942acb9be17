import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessProbe } from '../../src/probes/access.js';
import { runCli, writeFile } from '../cli/cli-process.js';
import { collectingContext, embeddedTarget } from '../probes/collecting-context.js';
import { eventually } from '../support/eventually.js';
import { kubectlBinary } from '../support/kubectl.js';
import { startSim, type SimClients } from './sim-fixture.js';

/**
 * Authentication and RBAC in the embedded cluster, through client-node (which sends bearer
 * tokens) and the real kubectl (which sends none over plain http, so it acts as the admin and
 * takes other identities with --as, as on any cluster).
 */
const NS = 'shop';
const SA = `system:serviceaccount:${NS}:web`;

describe('sim: authentication, RBAC and access reviews', function () {
  this.timeout(60_000);
  let sim: SimClients;
  let dir: string;
  const bin = kubectlBinary('default');
  const kubectl = (args: string[]) =>
    execa(bin!, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, reject: false, timeout: 30_000 });
  /** A client that authenticates with `token`, as a pod's in-cluster config does. */
  const clientWith = (token: string): k8s.KubeConfig => {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: sim.cluster.url, skipTLSVerify: true }],
      users: [{ name: 'u', token }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  };
  const tokenFor = async (name: string): Promise<string> =>
    (await sim.core.createNamespacedServiceAccountToken({ namespace: NS, name, body: { spec: { audiences: [] } } })).status!.token;
  /** The 403 Status a request gets, as the client saw it. */
  const statusOf = async (call: Promise<unknown>): Promise<{ code: number; message: string }> => {
    try {
      await call;
    } catch (err) {
      const e = err as { code: number; body: string };
      return { code: e.code, message: (JSON.parse(e.body) as { message: string }).message };
    }
    throw new Error('the request succeeded');
  };

  before(async function () {
    if (!bin) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'gameday-rbac-'));
    sim = await startSim();
    await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
    await sim.core.createNamespace({ body: { metadata: { name: NS } } });
    await sim.core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'web' } } });
  });

  after(async () => {
    await sim?.cluster.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives every namespace a default ServiceAccount, shown by kubectl get as the real server prints it', async () => {
    await eventually('the default ServiceAccount', () => sim.core.readNamespacedServiceAccount({ namespace: NS, name: 'default' }));
    const out = await kubectl(['get', 'serviceaccounts', '-n', NS]);
    expect(out.stdout.split('\n')[0]).to.match(/^NAME\s+SECRETS\s+AGE$/);
    expect(out.stdout).to.match(/^web\s+0\s+/m);
  });

  it('denies a service account with the real 403 messages, for lists, subresources, named objects and cluster scope', async () => {
    const kc = clientWith(await tokenFor('web'));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    expect(await statusOf(core.listNamespacedPod({ namespace: NS }))).to.deep.equal({
      code: 403,
      message: `pods is forbidden: User "${SA}" cannot list resource "pods" in API group "" in the namespace "${NS}"`,
    });
    expect(await statusOf(core.readNamespacedSecret({ namespace: NS, name: 'db-password' }))).to.deep.equal({
      code: 403,
      message: `secrets "db-password" is forbidden: User "${SA}" cannot get resource "secrets" in API group "" in the namespace "${NS}"`,
    });
    expect(await statusOf(core.listNode())).to.deep.equal({ code: 403, message: `nodes is forbidden: User "${SA}" cannot list resource "nodes" in API group "" at the cluster scope` });
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    expect((await statusOf(apps.listNamespacedDeployment({ namespace: NS }))).message).to.equal(
      `deployments.apps is forbidden: User "${SA}" cannot list resource "deployments" in API group "apps" in the namespace "${NS}"`,
    );
    const out = await kubectl(['exec', '-n', NS, 'nowhere', '--as', SA, '--', 'true']);
    expect(out.stderr).to.include(`pods "nowhere" is forbidden: User "${SA}" cannot get resource "pods" in API group "" in the namespace "${NS}"`);
  });

  it('answers kubectl auth can-i from the bindings, before and after a RoleBinding to the view ClusterRole', async () => {
    const canI = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, '-n', NS, '--as', SA])).stdout.trim();
    expect(await canI('list', 'pods')).to.equal('no');
    const bound = await kubectl(['create', 'rolebinding', 'web-view', '--clusterrole=view', `--serviceaccount=${NS}:web`, '-n', NS]);
    expect(bound.exitCode, bound.stderr).to.equal(0);
    expect(await canI('list', 'pods')).to.equal('yes');
    expect(await canI('watch', 'deployments.apps')).to.equal('yes');
    expect(await canI('get', 'secrets')).to.equal('no');
    expect(await canI('create', 'pods/exec')).to.equal('no');
    expect(await canI('list', 'nodes')).to.equal('no');
    const wide = await kubectl(['get', 'rolebindings', '-n', NS, '-o', 'wide']);
    expect(wide.stdout).to.match(/^web-view\s+ClusterRole\/view\s+\S+\s+shop\/web$/m);
    const list = await kubectl(['auth', 'can-i', '--list', '-n', NS, '--as', SA]);
    expect(list.stdout).to.match(/^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    expect(list.stdout).not.to.match(/^secrets\s/m);
  });

  it('allows exactly what a Role names: verbs, subresources and resource names', async () => {
    const rbac = sim.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: NS,
      body: {
        metadata: { name: 'one-secret' },
        rules: [
          { apiGroups: [''], resources: ['secrets'], resourceNames: ['api-key'], verbs: ['get'] },
          { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({ namespace: NS, body: { metadata: { name: 'web-one-secret' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'one-secret' }, subjects: [{ kind: 'ServiceAccount', name: 'web' }] } });
    const authz = sim.kubeConfig.makeApiClient(k8s.AuthorizationV1Api);
    const sar = async (verb: string, resource: string, name?: string, subresource?: string) =>
      (await authz.createSubjectAccessReview({
        body: { spec: { user: SA, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'], resourceAttributes: { namespace: NS, verb, resource, ...(name ? { name } : {}), ...(subresource ? { subresource } : {}) } } },
      })).status!;
    expect(await sar('get', 'secrets', 'api-key')).to.deep.equal({ allowed: true, reason: `RBAC: allowed by RoleBinding "web-one-secret/${NS}" of Role "one-secret" to ServiceAccount "web/${NS}"` });
    expect((await sar('get', 'secrets', 'other')).allowed).to.equal(false);
    expect((await sar('list', 'secrets')).allowed).to.equal(false);
    expect((await sar('create', 'pods', 'web-1', 'exec')).allowed).to.equal(true);
    expect((await sar('create', 'pods')).allowed).to.equal(false);
  });

  it('tells each user who they are (kubectl auth whoami), and refuses a token it did not issue with 401', async () => {
    const admin = await kubectl(['auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(admin.stdout).status.userInfo).to.deep.equal({ username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
    const authn = clientWith(await tokenFor('web')).makeApiClient(k8s.AuthenticationV1Api);
    const me = (await authn.createSelfSubjectReview({ body: {} })).status!.userInfo!;
    expect(me.username).to.equal(SA);
    expect(me.groups).to.deep.equal(['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated']);
    const forged = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods`, { headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' } });
    expect(forged.status).to.equal(401);
    expect(await forged.json()).to.deep.equal({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it("mounts the pod's service account token, which works from inside the pod until the pod is gone", async () => {
    await sim.core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'web-1' }, spec: { serviceAccountName: 'web', terminationGracePeriodSeconds: 0, containers: [{ name: 'web', image: 'gameday/web:1' }] } } });
    await eventually('web-1 running', async () => (await sim.core.readNamespacedPod({ namespace: NS, name: 'web-1' })).status?.phase === 'Running');
    const cat = await kubectl(['exec', '-n', NS, 'web-1', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/token']);
    expect(cat.exitCode, cat.stderr).to.equal(0);
    const token = cat.stdout.trim();
    const fromPod = clientWith(token);
    const me = (await fromPod.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} })).status!.userInfo!;
    expect(me.username).to.equal(SA);
    expect(me.extra?.['authentication.kubernetes.io/pod-name']).to.deep.equal(['web-1']);
    const pods = await fromPod.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: NS });
    expect(pods.items.map((p) => p.metadata?.name)).to.include('web-1');
    await sim.core.deleteNamespacedPod({ namespace: NS, name: 'web-1', gracePeriodSeconds: 0 });
    await eventually('the token refused', async () => (await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods`, { headers: { Authorization: `Bearer ${token}` } })).status === 401);
  });

  it('the access probe behind can() answers through SubjectAccessReview and follows a change of binding', async () => {
    const ctx = collectingContext({ cluster: await embeddedTarget(sim.cluster), name: 'can(serviceaccount/shop/web, delete, pods)' });
    const running = await accessProbe.start(ctx, accessProbe.params.parse({ target: 'serviceaccount/shop/web, delete, pods', every: '50ms' }));
    try {
      const rbac = sim.kubeConfig.makeApiClient(k8s.RbacAuthorizationV1Api);
      await rbac.createNamespacedRoleBinding({ namespace: NS, body: { metadata: { name: 'web-edit' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'web', namespace: NS }] } });
      await eventually('the probe to see the new binding', () => ctx.samples.length === 2);
    } finally {
      await running.stop();
    }
    expect(ctx.samples.map((s) => [s.ok, s.value])).to.deep.equal([[true, 0], [true, 1]]);
    const reason = `RBAC: allowed by RoleBinding "web-edit/${NS}" of ClusterRole "edit" to ServiceAccount "web/${NS}"`;
    expect(ctx.samples[1]!.detail).to.deep.equal({ allowed: true, reason, message: reason });
  });

  it('gameday run judges can() checks through the cluster: an allowed access passes, an expected one that is denied fails the run', async () => {
    const file = writeFile(dir, 'least-privilege.yaml', `apiVersion: gameday/v1
kind: Experiment
metadata: { name: least-privilege }
spec:
  duration: 1s
  slos:
    - can(serviceaccount/${NS}/default, create, selfsubjectaccessreviews.authorization.k8s.io) == true
    - can(serviceaccount/${NS}/default, get, secrets) == true
`);
    const r = await runCli(['run', file, '--kubeconfig', join(dir, 'kubeconfig'), '--allow-context', 'gameday-sim', '--out', join(dir, 'reports'), '--reporter', 'terminal'], { cwd: dir });
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stdout).to.match(/slo passed can\(serviceaccount\/shop\/default, create, selfsubjectaccessreviews\.authorization\.k8s\.io\) == true/);
    expect(r.stdout).to.include('slo FAILED can(serviceaccount/shop/default, get, secrets) == true: can(serviceaccount/shop/default, get, secrets) = false (need == true)');
  });

  it('Pod Security admission: kubectl sees a privileged pod refused under enforce, and the warning under warn', async () => {
    await kubectl(['create', 'namespace', 'locked']);
    await kubectl(['label', 'namespace', 'locked', 'pod-security.kubernetes.io/enforce=baseline', 'pod-security.kubernetes.io/warn=restricted']);
    const privileged = await kubectl(['run', 'root-shell', '-n', 'locked', '--image', 'gameday/web:1', '--dry-run=server', '--overrides', '{"spec":{"containers":[{"name":"root-shell","image":"gameday/web:1","securityContext":{"privileged":true}}]}}']);
    expect(privileged.exitCode).to.equal(1);
    expect(privileged.stderr).to.include('pods "root-shell" is forbidden: violates PodSecurity "baseline:latest": privileged (container "root-shell" must not set securityContext.privileged=true)');
    const plain = await kubectl(['run', 'plain', '-n', 'locked', '--image', 'gameday/web:1', '--dry-run=server']);
    expect(plain.exitCode, plain.stderr).to.equal(0);
    expect(plain.stderr).to.include('Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "plain" must set securityContext.allowPrivilegeEscalation=false)');
  });

  it('lets only those allowed to impersonate use Impersonate-User, with the real message', async () => {
    const res = await fetch(`${sim.cluster.url}/api/v1/namespaces/${NS}/pods`, { headers: { Authorization: `Bearer ${await tokenFor('web')}`, 'Impersonate-User': 'jane' } });
    expect(res.status).to.equal(403);
    expect(((await res.json()) as { message: string }).message).to.equal(`users "jane" is forbidden: User "${SA}" cannot impersonate resource "users" in API group "" at the cluster scope`);
  });
});
