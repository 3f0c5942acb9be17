import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { runCli, type CliResult } from './cli-process.js';

describe('gameday rbac (real CLI process)', () => {
  let printed: CliResult;
  before(async () => {
    printed = await runCli(['rbac', 'experiments/pod-kill-keeps-web-up.yaml', '--service-account', 'ci/runner', '--name', 'chaos']);
  });

  it('prints the roles, named as asked and bound to the service account it names', () => {
    const r = printed;
    expect(r.code, r.stderr).to.equal(0);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; subjects?: unknown[] });
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name}`)).to.deep.equal([
      'Namespace /shop',
      'ClusterRole /chaos',
      'ClusterRoleBinding /chaos',
      'Role default/chaos',
      'RoleBinding default/chaos',
      'Role kube-system/chaos',
      'RoleBinding kube-system/chaos',
      'Role shop/chaos',
      'RoleBinding shop/chaos',
    ]);
    for (const d of docs.filter((d) => d.kind.endsWith('Binding'))) expect(d.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'runner', namespace: 'ci' }]);
  });

  it("grants what gameday stop and gameday recover do too: a merge patch of the run lock, and the helper-pod search in the helper pods' namespace", () => {
    const docs = parseAllDocuments(printed.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: unknown[] });
    const lockRole = docs.find((d) => d.kind === 'Role' && d.metadata.namespace === 'kube-system')!;
    expect(lockRole.rules).to.deep.include({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['gameday-run-lock'], verbs: ['get', 'update', 'patch'] });
    expect(printed.stdout).to.include('  # gameday stop: read the run lock, and ask its holder to stop (an annotation, merge-patched)\n');
    expect(printed.stdout).to.include("  # gameday recover: look for the node-access helper pods a killed run left, in the helper pods' namespace\n");
    const helperRole = docs.find((d) => d.kind === 'Role' && d.metadata.namespace === 'default')!;
    expect(helperRole.rules).to.deep.include({ apiGroups: [''], resources: ['pods'], verbs: ['list'] });
  });

  it('grants a pod kill confined to one namespace no pod or event reads cluster-wide', () => {
    const docs = parseAllDocuments(printed.stdout).map((d) => d.toJS() as { kind: string; rules?: { resources: string[] }[] });
    const clusterWide = docs.filter((d) => d.kind === 'ClusterRole').flatMap((d) => d.rules!.flatMap((r) => r.resources));
    expect(clusterWide).to.not.include.members(['pods']);
    expect(clusterWide).to.not.include.members(['events']);
  });

  it('grants the cluster watch\'s Warning events in the experiment\'s namespace, and not cluster-wide', () => {
    const docs = parseAllDocuments(printed.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: { resources: string[]; verbs: string[] }[] });
    const verbsOn = (kind: string, namespace: string | undefined, resource: string) =>
      docs.filter((d) => d.kind === kind && d.metadata.namespace === namespace).flatMap((d) => d.rules!.filter((r) => r.resources.includes(resource)).flatMap((r) => r.verbs));
    expect(verbsOn('ClusterRole', undefined, 'events')).to.deep.equal([]);
    expect(verbsOn('Role', 'shop', 'events')).to.include.members(['list', 'watch']);
    expect(printed.stdout).to.include('  # cluster watch: Warning events during the run\n');
  });

  it('refuses a service account that is not namespace/name, and a node access it does not know, with exit 2', async () => {
    const sa = await runCli(['rbac', 'experiments/pod-kill-keeps-web-up.yaml', '--service-account', 'runner']);
    expect(sa.code).to.equal(2);
    expect(sa.stderr).to.include('--service-account runner: give it as namespace/name');
    const access = await runCli(['rbac', 'experiments/', '--node-access', 'ssh']);
    expect(access.code).to.equal(2);
    expect(access.stderr).to.include('--node-access ssh: give one of pod, sim, kind, none');
  });
});
