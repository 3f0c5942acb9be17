import { expect } from 'chai';
import { builtinRegistries } from '../../src/cli/registries.js';
import type { Permission } from '../../src/cluster/rbac.js';
import { runNeeds, type RunPermissionOptions } from '../../src/engine/permissions.js';
import { loadExperimentFile } from '../../src/spec/load.js';

const registries = builtinRegistries();

async function needsOf(file: string, nodeAccess: RunPermissionOptions['nodeAccess'] = 'pod') {
  return runNeeds([await loadExperimentFile(file, registries)], { registries, nodeAccess });
}

/** `verbs resource[.group] namespace|*` for every permission, to ask what a run may do. */
function grants(permissions: readonly Permission[]): Set<string> {
  const out = new Set<string>();
  for (const p of permissions) {
    for (const verb of p.verbs) out.add(`${verb} ${p.resource}${p.group ? `.${p.group}` : ''} ${p.namespace ?? '*'}${p.names ? ` ${p.names.join(',')}` : ''}`);
  }
  return out;
}

describe('the permissions a run needs', () => {
  it('a pod kill: delete pods in its namespace, its workloads by name, the plan\'s pods and the Warning events there only, and no node or exec access', async () => {
    const needs = await needsOf('experiments/pod-kill-keeps-web-up.yaml');
    const g = grants(needs.permissions);
    for (const expected of [
      'delete pods shop',
      'create deployments.apps shop',
      'update deployments.apps shop web',
      'get namespaces * shop',
      'get services/proxy shop web:80',
      'list endpointslices.discovery.k8s.io shop',
      'create events shop',
      'create leases.coordination.k8s.io kube-system',
      'update leases.coordination.k8s.io kube-system gameday-run-lock',
      // gameday stop asks the holder to stop with a merge patch of the lock.
      'patch leases.coordination.k8s.io kube-system gameday-run-lock',
      'list pods shop',
      'list events shop',
      'watch events shop',
    ]) {
      expect(g, expected).to.include(expected);
    }
    expect([...g].filter((x) => / events \*/.test(x)), 'no Warning events of every namespace').to.deep.equal([]);
    expect([...g].filter((x) => /nodes|pods\/exec|pods\/eviction|patch (?!leases)/.test(x))).to.deep.equal(['list nodes *', 'watch nodes *']);
    expect(needs.namespaces.map((ns) => ns.metadata?.name)).to.deep.equal(['shop']);
  });

  it('a drain: cordon, and evict, read the pods and watch Warning events in every namespace, since any pod may run on the node', async () => {
    const g = grants((await needsOf('experiments/drain-a-worker-keeps-web-up.yaml')).permissions);
    for (const expected of ['patch nodes *', 'create pods/eviction *', 'watch poddisruptionbudgets.policy *', 'create events default', 'list pods *', 'list events *', 'watch events *']) {
      expect(g, expected).to.include(expected);
    }
  });

  it('a node-level fault brings the permissions of the node access the run will use, and only those', async () => {
    const file = 'experiments/node-isolation-reschedules-web.yaml';
    const pod = grants((await needsOf(file, 'pod')).permissions);
    expect(pod).to.include('create pods default').and.to.include('create pods/exec default').and.to.include('get pods/exec default');
    expect([...pod].some((x) => x.includes('nodes/proxy'))).to.equal(false);
    const sim = grants((await needsOf(file, 'sim')).permissions);
    expect(sim).to.include('create nodes/proxy *').and.to.include('delete nodes/proxy *');
    expect([...sim].some((x) => x.includes('pods/exec'))).to.equal(false);
    const kind = grants((await needsOf(file, 'kind')).permissions);
    expect([...kind].some((x) => x.includes('pods/exec') || x.includes('nodes/proxy'))).to.equal(false);
    expect((await needsOf(file, 'none')).notes.join('\n')).to.match(/needs node access/);
  });

  it('a k6 probe that may fall back to a Job: the Job, its ConfigMap and its pod\'s log, and the search for a killed run\'s Job', async () => {
    const g = grants((await needsOf('experiments/k6/drain-under-k6-load.yaml')).permissions);
    for (const expected of ['create jobs.batch default', 'list jobs.batch default', 'delete configmaps default', 'get pods/log default', 'watch pods default']) expect(g, expected).to.include(expected);
  });
});
