import type { LooseJson } from '../../../src/sim/api/loose-json.js';
import { expect } from 'chai';
import { execa, execaSync } from 'execa';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDisruptionController } from '../../../src/sim/controllers/disruption.js';
import type { StoredObject } from '../../../src/sim/store.js';
import { eventually } from '../../support/eventually.js';
import { makeReady, node, pod, rawRequest, startApi, type ApiHarness } from './api-harness.js';

/** The default kubectl on PATH and the versioned binaries beside its real file. */
function kubectls(): { label: string; bin: string }[] {
  let onPath: string;
  try {
    onPath = execaSync('sh', ['-c', 'command -v kubectl']).stdout.trim();
  } catch {
    return [];
  }
  if (!onPath) return [];
  const dir = dirname(realpathSync(onPath));
  return [
    { label: 'default', bin: onPath },
    { label: '1.27', bin: join(dir, 'kubectl.1.27') },
    { label: '1.33', bin: join(dir, 'kubectl.1.33') },
  ];
}

const WEB_YAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
`;

for (const { label, bin } of kubectls()) {
  describe(`sim api: real kubectl (${label})`, function () {
    let h: ApiHarness;
    let dir: string;
    const run = (args: string[], opts: { reject?: boolean } = {}) =>
      execa(bin, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, reject: opts.reject ?? true, timeout: 30_000 });

    before(function () {
      try {
        execaSync(bin, ['version', '--client']);
      } catch {
        this.skip();
      }
    });

    beforeEach(async () => {
      h = await startApi();
      dir = mkdtempSync(join(tmpdir(), 'gameday-kubectl-'));
      writeFileSync(
        join(dir, 'kubeconfig'),
        `apiVersion: v1\nkind: Config\nclusters: [{name: sim, cluster: {server: "${h.url}"}}]\nusers: [{name: sim, user: {}}]\ncontexts: [{name: gameday-sim, context: {cluster: sim, user: sim}}]\ncurrent-context: gameday-sim\n`,
      );
      writeFileSync(join(dir, 'web.yaml'), WEB_YAML);
      h.store.create('nodes', node('node-1'));
      h.store.create('nodes', node('node-2'));
    });
    afterEach(async () => {
      await h.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates and applies manifests, then gets them with the real columns', async () => {
      const created = await run(['create', '-f', join(dir, 'web.yaml'), '--validate=false']);
      expect(created.stdout).to.equal('deployment.apps/web created\npoddisruptionbudget.policy/web created');
      const applied = await run(['apply', '-f', join(dir, 'web.yaml'), '--validate=false']);
      // kubectl finds fieldValidation in the served OpenAPI (v2 for 1.27 and 1.28, v3 from 1.29) and needs no --validate=false.
      expect((await run(['apply', '-f', join(dir, 'web.yaml')])).stdout).to.contain('deployment.apps/web unchanged');
      expect(applied.stdout).to.contain('deployment.apps/web configured');
      const deploy = await run(['get', 'deploy']);
      expect(deploy.stdout.split('\n')[0]).to.match(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
      expect(deploy.stdout.split('\n')[1]).to.match(/^web\s+0\/3\s+0\s+0\s+\d+s$/);
      const pdb = await run(['get', 'pdb']);
      expect(pdb.stdout.split('\n')[0]).to.match(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$/);
      const nodes = await run(['get', 'nodes']);
      expect(nodes.stdout).to.match(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\nnode-1\s+Ready\s+<none>\s+\d+s\s+v1\.31\.4\n/);
      const yaml = await run(['get', 'deploy', 'web', '-o', 'yaml']);
      expect(yaml.stdout).to.contain('progressDeadlineSeconds: 600');
      expect(yaml.stdout).to.contain('kubectl.kubernetes.io/last-applied-configuration');
    });

    it('gets, describes and deletes pods with a grace period', async () => {
      await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod('web-1', { app: 'web' }, { nodeName: 'node-1' }));
      makeReady(h.store, 'default', 'web-1');
      const pods = await run(['get', 'pods', '-o', 'wide']);
      expect(pods.stdout.split('\n')[0]).to.match(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
      expect(pods.stdout.split('\n')[1]).to.match(/^web-1\s+1\/1\s+Running\s+0\s+\d+s\s+10\.244\.0\.10\s+node-1\s+<none>\s+<none>$/);
      const yaml = await run(['get', 'pod', 'web-1', '-o', 'yaml']);
      expect(yaml.stdout).to.contain('key: node.kubernetes.io/unreachable');
      const described = await run(['describe', 'pod', 'web-1']);
      expect(described.stdout).to.match(/Node:\s+node-1/);
      expect(described.stdout).to.match(/Status:\s+Running/);
      const deleted = await run(['delete', 'pod', 'web-1', '--grace-period=7', '--wait=false']);
      expect(deleted.stdout).to.equal('pod "web-1" deleted');
      expect(h.store.get('pods', 'default', 'web-1')!.metadata.deletionGracePeriodSeconds).to.equal(7);
      const terminating = await run(['get', 'pod', 'web-1', '--no-headers']);
      expect(terminating.stdout).to.match(/^web-1\s+1\/1\s+Terminating\s/);
      const missing = await run(['get', 'pod', 'nope'], { reject: false });
      expect(missing.exitCode).to.equal(1);
      expect(missing.stderr).to.contain('Error from server (NotFound): pods "nope" not found');
    });

    it('watches with get -w', async () => {
      await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod('web-1', { app: 'web' }));
      const watch = run(['get', 'pods', '-w'], { reject: false });
      let out = '';
      watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const printed = (re: RegExp) => eventually(`kubectl get -w to print ${re}`, () => re.test(out), 5000);
      await printed(/web-1\s+0\/1\s+Pending/);
      await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod('web-2', { app: 'web' }));
      await printed(/web-2\s+0\/1\s+Pending/);
      watch.kill();
      await watch;
      expect(out.split('\n')[0]).to.match(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    });

    it('cordons and uncordons a node', async () => {
      expect((await run(['cordon', 'node-1'])).stdout).to.equal('node/node-1 cordoned');
      expect((h.store.get('nodes', undefined, 'node-1') as LooseJson).spec.unschedulable).to.equal(true);
      expect((await run(['get', 'node', 'node-1', '--no-headers'])).stdout).to.match(/^node-1\s+Ready,SchedulingDisabled\s/);
      expect((await run(['uncordon', 'node-1'])).stdout).to.equal('node/node-1 uncordoned');
      expect((h.store.get('nodes', undefined, 'node-1') as LooseJson).spec.unschedulable).to.equal(undefined);
    });

    if (label === 'default') {
      it('drains through the Eviction API and waits when the budget blocks', async function () {
        this.timeout(40_000);
        const controller = startDisruptionController(h.store);
        const created: string[] = [];
        const add = async (name: string, nodeName: string) => {
          await rawRequest(h.url, 'POST', '/api/v1/namespaces/default/pods', pod(name, { app: 'web' }, { nodeName }));
          makeReady(h.store, 'default', name);
          created.push(name);
        };
        // Stands in for the kubelet (removes a terminating pod) and the ReplicaSet (replaces it elsewhere).
        const evicted: string[] = [];
        const unsubscribe = h.store.subscribe('pods', (e) => {
          const p = e.object as StoredObject & { status?: { conditions?: { type: string }[] } };
          if (e.type !== 'MODIFIED' || !p.metadata.deletionTimestamp || e.previous?.metadata.deletionTimestamp) return;
          if (p.status?.conditions?.some((c) => c.type === 'DisruptionTarget')) evicted.push(p.metadata.name);
          setTimeout(() => {
            h.store.remove('pods', 'default', p.metadata.name);
            void add(`${p.metadata.name}-new`, 'node-2');
          }, 100);
        });
        try {
          await add('web-a', 'node-1');
          await add('web-b', 'node-1');
          await add('web-c', 'node-2');
          await rawRequest(h.url, 'POST', '/apis/policy/v1/namespaces/default/poddisruptionbudgets', { metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
          const drain = await run(['drain', 'node-1', '--ignore-daemonsets', '--force', '--timeout=30s']);
          const output = drain.stdout + drain.stderr;
          expect(output).to.contain('node/node-1 cordoned');
          expect(output).to.match(/evicting pod default\/web-a/);
          expect(output).to.contain("Cannot evict pod as it would violate the pod's disruption budget.");
          expect(output).to.contain('node/node-1 drained');
          expect(evicted.sort()).to.deep.equal(['web-a', 'web-b']);
          expect(h.store.list('pods', 'default').map((p) => p.metadata.name).sort()).to.deep.equal(['web-a-new', 'web-b-new', 'web-c']);
        } finally {
          unsubscribe();
          controller.stop();
        }
      });
    }
  });
}
