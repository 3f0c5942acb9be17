import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { mergePermissions, rbacManifestsYaml, type Permission } from '../../src/cluster/rbac.js';
import { watchPermission } from '../../src/cluster/kube-watch.js';

const sa = { namespace: 'gameday', name: 'runner' };

describe('RBAC from permissions', () => {
  it('merges verbs per namespace and resource, and keeps named grants apart from grants on any object', () => {
    const grants = mergePermissions([
      { why: 'b', verbs: ['delete', 'get'], resource: 'pods', namespace: 'shop' },
      { why: 'a', verbs: ['get', 'list'], resource: 'pods', namespace: 'shop' },
      { why: 'c', verbs: ['create'], resource: 'deployments', group: 'apps', namespace: 'shop' },
      { why: 'd', verbs: ['update', 'get'], resource: 'deployments', group: 'apps', namespace: 'shop', names: ['web'] },
      { why: 'e', verbs: ['get'], resource: 'deployments', group: 'apps', namespace: 'shop', names: ['db'] },
    ]);
    expect(grants.cluster).to.deep.equal([]);
    expect(grants.namespaces.get('shop')).to.deep.equal([
      { group: '', resource: 'pods', verbs: ['get', 'list', 'delete'], why: ['a', 'b'] },
      { group: 'apps', resource: 'deployments', verbs: ['create'], why: ['c'] },
      { group: 'apps', resource: 'deployments', verbs: ['get'], names: ['db', 'web'], why: ['d', 'e'] },
      { group: 'apps', resource: 'deployments', verbs: ['update'], names: ['web'], why: ['d'] },
    ]);
  });

  it('leaves out what a cluster-wide grant already gives in a namespace, and nothing else', () => {
    const grants = mergePermissions([
      { why: 'snapshot', verbs: ['list'], resource: 'pods' },
      { why: 'probe', verbs: ['list', 'watch'], resource: 'pods', namespace: 'shop' },
      { why: 'lock', verbs: ['get'], resource: 'leases', group: 'coordination.k8s.io', names: ['lock'] },
      { why: 'lock here', verbs: ['get'], resource: 'leases', group: 'coordination.k8s.io', namespace: 'kube-system', names: ['lock'] },
      { why: 'probe lease', verbs: ['get'], resource: 'leases', group: 'coordination.k8s.io', namespace: 'kube-system', names: ['other'] },
    ]);
    expect(grants.namespaces.get('shop')).to.deep.equal([{ group: '', resource: 'pods', verbs: ['watch'], why: ['probe'] }]);
    expect(grants.namespaces.get('kube-system')).to.deep.equal([{ group: 'coordination.k8s.io', resource: 'leases', verbs: ['get'], names: ['other'], why: ['probe lease'] }]);
  });

  it('derives a watch\'s permission from its API path, by name when it selects one object', () => {
    expect(watchPermission('w', '/apis/policy/v1/namespaces/shop/poddisruptionbudgets', 'web')).to.deep.equal({
      why: 'w',
      verbs: ['list', 'watch'],
      resource: 'poddisruptionbudgets',
      group: 'policy',
      namespace: 'shop',
      names: ['web'],
    });
    expect(watchPermission('w', '/api/v1/events')).to.deep.equal({ why: 'w', verbs: ['list', 'watch'], resource: 'events' });
    expect(() => watchPermission('w', '/api/v1/namespaces/shop')).to.throw(/not the API path of a collection/);
  });

  it('prints a ClusterRole and a Role per namespace, each bound to the service account, each rule saying why', () => {
    const permissions: Permission[] = [
      { why: 'plan: list the nodes', verbs: ['list'], resource: 'nodes' },
      { why: 'podKill: delete the chosen pods', verbs: ['delete'], resource: 'pods', namespace: 'shop' },
      { why: 'run lock', verbs: ['get', 'update'], resource: 'leases', group: 'coordination.k8s.io', namespace: 'kube-system', names: ['gameday-run-lock'] },
    ];
    const text = rbacManifestsYaml(mergePermissions(permissions), {
      name: 'gameday',
      serviceAccount: sa,
      before: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }],
      header: ['for: pod-kill'],
    });
    expect(text.startsWith('# for: pod-kill\n')).to.equal(true);
    expect(text).to.include('  # podKill: delete the chosen pods\n  - apiGroups: [""]\n    resources: [pods]\n    verbs: [delete]\n');
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; rules?: unknown[]; roleRef?: { kind: string }; subjects?: unknown[] });
    expect(docs.map((d) => `${d.kind} ${d.metadata.namespace ?? ''}/${d.metadata.name}`)).to.deep.equal([
      'Namespace /shop',
      'ClusterRole /gameday',
      'ClusterRoleBinding /gameday',
      'Role kube-system/gameday',
      'RoleBinding kube-system/gameday',
      'Role shop/gameday',
      'RoleBinding shop/gameday',
    ]);
    expect(docs[3]!.rules).to.deep.equal([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['gameday-run-lock'], verbs: ['get', 'update'] }]);
    for (const binding of [docs[2]!, docs[4]!, docs[6]!]) expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'runner', namespace: 'gameday' }]);
  });
});
