import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { checkOf, runExperimentCli, type ExperimentRun } from '../cli/run-experiment.js';

/**
 * The shipped security experiments bite: each runs through the built CLI on its own embedded
 * cluster, unchanged but for the workload it applies, against a cluster that should fail it, and
 * must end failed (exit 1) naming the excess permission or the admitted manifest.
 */

type Manifest = Record<string, unknown> & { kind?: string; metadata?: { name?: string; labels?: Record<string, string> }; rules?: { resources: string[] }[] };

const SECURITY = 'experiments/security';

/** The experiment and every file it names, with its workload's manifests changed by `edit` (which may add some). */
function twinFiles(experiment: string, workload: string, edit: (manifests: Manifest[]) => Manifest[], extra: readonly string[] = []): Record<string, string> {
  const text = readFileSync(path.join(SECURITY, experiment), 'utf8');
  const line = `workloads: [${workload}]`;
  if (!text.includes(line)) throw new Error(`${experiment} no longer says "${line}"`);
  const manifests = parseAllDocuments(readFileSync(path.join(SECURITY, workload), 'utf8')).map((d) => d.toJS() as Manifest);
  const files: Record<string, string> = { 'experiment.yaml': text.replace(line, 'workloads: [workload.yaml]'), 'workload.yaml': edit(manifests).map((m) => stringify(m)).join('---\n') };
  for (const file of extra) files[file] = readFileSync(path.join(SECURITY, file), 'utf8');
  return files;
}

/** The frontend's Role reads Secrets besides ConfigMaps, and orders is bound to cluster-admin. */
const overBroad = (manifests: Manifest[]): Manifest[] => [
  ...manifests.map((m) => {
    if (m.kind === 'Role' && m.metadata?.name === 'frontend') m.rules![0]!.resources.push('secrets');
    return m;
  }),
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'orders-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'orders', namespace: 'shop' }],
  },
];

/** The checkout namespace without its Pod Security labels: nothing is enforced there. */
const notEnforced = (manifests: Manifest[]): Manifest[] =>
  manifests.map((m) => {
    if (m.kind === 'Namespace') delete m.metadata!.labels;
    return m;
  });

/** Payments without its default-deny policy, and the frontend's account bound to cluster-admin: a compromised frontend reaches and may do everything. */
const wideOpen = (manifests: Manifest[]): Manifest[] => [
  ...manifests.filter((m) => !(m.kind === 'NetworkPolicy' && m.metadata?.name === 'default-deny')),
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'frontend-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'frontend', namespace: 'shop' }],
  },
];

const sloVerdicts = (r: ExperimentRun): Record<string, string> => Object.fromEntries(r.result.checks.filter((c) => c.role === 'slo').map((c) => [c.check, c.verdict]));

describe('negative twins of the shipped security experiments (real CLI, embedded cluster)', function () {
  this.timeout(120_000);
  let leastPrivilege: Promise<ExperimentRun>;
  let admission: Promise<ExperimentRun>;
  let blastRadius: Promise<ExperimentRun>;
  before(() => {
    // Both at once: each is its own CLI process with its own embedded cluster.
    leastPrivilege = runExperimentCli(twinFiles('least-privilege.yaml', 'workloads/shop-accounts.yaml', overBroad), 'experiment.yaml');
    admission = runExperimentCli(twinFiles('admission-refuses-privileged.yaml', 'workloads/restricted-namespace.yaml', notEnforced, ['pods/privileged.yaml', 'pods/compliant.yaml']), 'experiment.yaml');
    // After the first to finish, so that no more than two embedded clusters run at once.
    blastRadius = Promise.race([leastPrivilege, admission])
      .catch(() => undefined)
      .then(() => runExperimentCli(twinFiles('compromised-frontend.yaml', 'workloads/payments.yaml', wideOpen), 'experiment.yaml'));
    // Settled here, so that a rejection is not unhandled while another one runs.
    for (const run of [leastPrivilege, admission, blastRadius]) run.catch(() => undefined);
  });

  it('least privilege: an over-broad Role and a ClusterRoleBinding to cluster-admin fail exactly the checks of the excess permissions, each naming the binding that allows it (exit 1)', async () => {
    const r = await leastPrivilege;
    expect(r.code, r.output).to.equal(1);
    const frontendSecrets = checkOf(r, 'can(serviceaccount/shop/frontend, list, secrets) == false');
    expect(frontendSecrets.verdict).to.equal('failed');
    expect(frontendSecrets.message).to.contain('= true (need == false)').and.to.contain('RBAC: allowed by RoleBinding "frontend/shop" of Role "frontend" to ServiceAccount "frontend/shop"');
    const ordersExec = checkOf(r, 'can(serviceaccount/shop/orders, create, pods/exec) == false');
    expect(ordersExec.verdict).to.equal('failed');
    expect(ordersExec.message).to.contain('RBAC: allowed by ClusterRoleBinding "orders-admin" of ClusterRole "cluster-admin" to ServiceAccount "orders/shop"');
    expect(r.output).to.contain('slo FAILED can(serviceaccount/shop/orders, create, pods/exec) == false');
    // What the grants do not reach still holds: the frontend's Role stays in shop, and the needed grants stay allowed.
    expect(sloVerdicts(r)).to.deep.equal({
      'can(serviceaccount/shop/frontend, get, configmaps) == true': 'passed',
      'can(serviceaccount/shop/orders, update, leases.coordination.k8s.io) == true': 'passed',
      'can(serviceaccount/shop/orders, create, events) == true': 'passed',
      'can(serviceaccount/shop/frontend, get, secrets) == false': 'failed',
      'can(serviceaccount/shop/frontend, list, secrets) == false': 'failed',
      'can(serviceaccount/shop/frontend, create, pods/exec) == false': 'passed',
      'can(serviceaccount/shop/frontend, create, pods) == false': 'passed',
      'can(serviceaccount/shop/frontend, get, secrets, payments) == false': 'passed',
      'can(serviceaccount/shop/orders, list, secrets) == false': 'failed',
      'can(serviceaccount/shop/orders, create, pods/exec) == false': 'failed',
      'can(serviceaccount/shop/orders, delete, pods) == false': 'failed',
    });
  });

  it('admission: in a checkout namespace without the enforce label, denies(pods/privileged.yaml) == true fails, naming the admitted manifest (exit 1)', async () => {
    const r = await admission;
    expect(r.code, r.output).to.equal(1);
    const denied = checkOf(r, 'denies(pods/privileged.yaml) == true');
    expect(denied.verdict).to.equal('failed');
    expect(denied.message).to.contain('= false (need == true)').and.to.contain('pods/privileged.yaml: the API server admitted Pod checkout/privileged (dry run, nothing stored)');
    expect(denied.evidence!.worst![0]!.detail).to.deep.include({ manifest: 'pods/privileged.yaml', admitted: true, object: 'Pod checkout/privileged' });
    expect(r.output).to.contain('slo FAILED denies(pods/privileged.yaml) == true');
    // The manifest written inline under a probe is admitted too, and named by its object.
    expect(checkOf(r, 'denies(host-pid) == true').message).to.contain('inline Pod checkout/host-pid: the API server admitted Pod checkout/host-pid');
    expect(checkOf(r, 'admits(pods/compliant.yaml) == true').verdict).to.equal('passed');
  });

  it('blast radius: with payments open and the frontend bound to cluster-admin, every bound of blastRadius(shop/frontend) fails, naming the reached database and the namespaces of Secrets (exit 1)', async () => {
    const r = await blastRadius;
    expect(r.code, r.output).to.equal(1);
    const secrets = checkOf(r, 'blastRadius(shop/frontend).secrets == 0');
    expect(secrets.verdict).to.equal('failed');
    expect(secrets.value).to.be.greaterThan(2);
    expect(secrets.message).to.match(/may read Secrets in \d+ namespaces \([^)]*payments[^)]*shop[^)]*\)/);
    const services = checkOf(r, 'blastRadius(shop/frontend).services <= 1');
    expect(services.verdict).to.equal('failed');
    expect(services.value).to.equal(2);
    expect(services.message).to.contain('reaches 2 Services (payments/api:80, payments/db:5432) in 1 namespace');
    const detail = services.evidence!.worst![0]!.detail!;
    expect(detail).to.deep.include({ serviceAccount: 'shop/frontend' });
    expect(detail.pod).to.match(/^shop\/frontend-/);
    // Every API verb the account is allowed, from its own rules review: cluster-admin's everything.
    const payments = (detail.access as { namespace: string; rules: string[] }[]).find((a) => a.namespace === 'payments')!;
    expect(payments.rules).to.include('* *.*');
    expect(sloVerdicts(r)).to.deep.equal({
      'blastRadius(shop/frontend).secrets == 0': 'failed',
      'blastRadius(shop/frontend).createPods == 0': 'failed',
      'blastRadius(shop/frontend).exec == 0': 'failed',
      'blastRadius(shop/frontend).services <= 1': 'failed',
      // Every Service in reach is still in payments.
      'blastRadius(shop/frontend).namespaces <= 1': 'passed',
    });
  });
});
