import { expect } from 'chai';
import { execa, execaSync } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import { watchHealthy } from '../support/healthy-watch.js';
import { kubectlBinary as kubectl } from '../support/kubectl.js';
import { startSim, type SimClients } from './sim-fixture.js';

/**
 * The real kubectl binaries against the whole embedded cluster (controllers and kubelets
 * running), for the everyday commands a person runs during a game day.
 */
const WEB = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: gameday/web:1
          env: [{name: GAMEDAY_SHUTDOWN, value: graceful}]
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /readyz, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: ${name}, namespace: default}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: ${name}}}
`;

for (const version of ['default', '1.27', '1.33']) {
  describe(`kubectl ${version} against the live embedded cluster`, function () {
    this.timeout(90_000);
    const bin = kubectl(version);
    let sim: SimClients;
    let dir: string;
    const run = (args: string[], reject = true) =>
      execa(bin!, args, { env: { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, reject, timeout: 60_000 });

    before(async function () {
      if (!bin) this.skip();
      try {
        execaSync(bin!, ['version', '--client']);
      } catch {
        this.skip();
      }
      sim = await startSim();
      dir = mkdtempSync(join(tmpdir(), 'gameday-kubectl-live-'));
      await sim.cluster.writeKubeconfig(join(dir, 'kubeconfig'));
      writeFileSync(join(dir, 'web.yaml'), WEB('web', 3));
    });
    after(async () => {
      await sim?.cluster.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('applies, waits for Ready, scales and follows a rollout', async () => {
      const apply = await run(['apply', '-f', join(dir, 'web.yaml')]);
      expect(apply.stdout).to.contain('deployment.apps/web created');
      const status = await run(['rollout', 'status', 'deployment/web', '--timeout=30s']);
      expect(status.stdout).to.contain('successfully rolled out');
      const wait = await run(['wait', '--for=condition=Ready', 'pod', '-l', 'app=web', '--timeout=30s']);
      expect(wait.stdout.trim().split('\n')).to.have.length(3);
      await run(['scale', 'deployment/web', '--replicas=5']);
      await run(['rollout', 'status', 'deployment/web', '--timeout=30s']);
      const pods = await run(['get', 'pods', '-l', 'app=web', '--no-headers']);
      expect(pods.stdout.trim().split('\n').filter((l) => /\s1\/1\s+Running\s/.test(l))).to.have.length(5);
      await run(['set', 'env', 'deployment/web', 'GAMEDAY_LATENCY=1ms']);
      const rolled = await run(['rollout', 'status', 'deployment/web', '--timeout=60s']);
      expect(rolled.stdout).to.contain('successfully rolled out');
      await run(['scale', 'deployment/web', '--replicas=3']);
      await run(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    });

    it('gets and describes the common kinds with the columns real kubectl shows', async () => {
      const nodes = (await run(['get', 'nodes'])).stdout.split('\n');
      expect(nodes[0]).to.match(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
      expect(nodes.find((l) => l.startsWith('gameday-control-plane'))).to.match(/\s+Ready\s+control-plane\s+\S+\s+v1\.\d+/);
      expect((await run(['get', 'svc', 'web'])).stdout.split('\n')[0]).to.match(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
      // Right after the scale-down the budget may still be counting the old pods.
      await run(['wait', '--for=jsonpath={.status.disruptionsAllowed}=1', 'pdb/web', '--timeout=30s']);
      const pdb = (await run(['get', 'pdb', 'web'])).stdout;
      expect(pdb.split('\n')[1], pdb).to.match(/^web\s+N\/A\s+1\s+1\s+\S+$/);
      expect((await run(['get', 'rs', '-l', 'app=web'])).stdout.split('\n')[0]).to.match(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE$/);
      const described: Record<string, RegExp> = {
        'deployment/web': /Replicas:\s+3 desired \| 3 updated \| 3 total \| 3 available \| 0 unavailable/,
        'pdb/web': /Max unavailable:\s+1/,
        'service/web': /Endpoints:\s+\d+\.\d+\.\d+\.\d+:8080/,
        'node/gameday-worker': /Conditions:[\s\S]*Ready\s+True/,
      };
      for (const [what, pattern] of Object.entries(described)) expect((await run(['describe', what])).stdout, what).to.match(pattern);
    });

    it('debugs a running pod with ephemeral containers: a command whose output is in its log, one to exec into, and the pod stays Ready', async () => {
      const pod = (await run(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
      await run(['debug', pod, '--image=busybox', '--container=once', '--profile=general', '--', 'sh', '-c', 'echo from-debug; hostname']);
      const log = await eventually('the debug container to have run', async () => {
        const out = (await run(['logs', pod, '-c', 'once'], false)).stdout;
        return out.includes('from-debug') ? out : undefined;
      });
      expect(log.trim().split('\n')).to.deep.equal(['from-debug', pod]);
      await run(['debug', pod, '--image=busybox', '--container=shell', '--profile=general', '--', 'sleep', '600']);
      const exec = await eventually('exec into the debug container', async () => {
        const r = await run(['exec', pod, '-c', 'shell', '--', 'echo', 'inside'], false);
        return r.exitCode === 0 ? r.stdout : undefined;
      });
      expect(exec).to.equal('inside');
      const status = JSON.parse((await run(['get', 'pod', pod, '-o', 'json'])).stdout) as { status: { ephemeralContainerStatuses: { name: string; state: Record<string, { exitCode?: number }> }[]; conditions: { type: string; status: string }[] } };
      expect(status.status.ephemeralContainerStatuses.map((c) => `${c.name} ${Object.keys(c.state)[0]}${c.state.terminated ? ` ${c.state.terminated.exitCode}` : ''}`)).to.deep.equal(['once terminated 0', 'shell running']);
      expect(status.status.conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
    });

    if (version === 'default') {
      it('shows kube-system as kind has it: CoreDNS, kube-proxy and kindnet on every node, the static control-plane pods', async () => {
        const rows = await eventually('kube-system running', async () => {
          const out = (await run(['get', 'pods', '-n', 'kube-system', '-o', 'wide', '--no-headers'])).stdout.trim().split('\n').map((l) => l.split(/\s+/));
          return out.length >= 14 && out.every((r) => r[2] === 'Running') ? out : undefined;
        });
        const on = (prefix: RegExp) => rows.filter((r) => prefix.test(r[0]!)).map((r) => r[6]).sort();
        const nodes = (await run(['get', 'nodes', '-o', 'name'])).stdout.trim().split('\n').map((n) => n.replace('node/', '')).sort();
        expect(on(/^kube-proxy-/)).to.deep.equal(nodes);
        expect(on(/^kindnet-/)).to.deep.equal(nodes);
        expect(on(/^coredns-/)).to.deep.equal(['gameday-control-plane', 'gameday-control-plane']);
        for (const c of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) expect(on(new RegExp(`^${c}-gameday-control-plane$`))).to.deep.equal(['gameday-control-plane']);
        expect((await run(['get', 'svc', 'kube-dns', '-n', 'kube-system', '--no-headers'])).stdout).to.match(/^kube-dns\s+ClusterIP\s+10\.96\.0\.10\s+<none>\s+53\/UDP,53\/TCP,9153\/TCP\s/);
        const mirror = JSON.parse((await run(['get', 'pod', 'kube-scheduler-gameday-control-plane', '-n', 'kube-system', '-o', 'json'])).stdout) as { metadata: { annotations: Record<string, string>; ownerReferences: { kind: string; name: string }[] } };
        expect(mirror.metadata.annotations['kubernetes.io/config.mirror']).to.be.a('string');
        expect(mirror.metadata.ownerReferences.map((o) => `${o.kind}/${o.name}`)).to.deep.equal(['Node/gameday-control-plane']);
      });

      it('drains a node through evictions while the budget holds and the service keeps serving', async () => {
        // Six replicas on three workers: the drained node holds at least two, so with maxUnavailable 1
        // the second eviction is refused until the first pod's replacement is ready.
        await run(['scale', 'deployment/web', '--replicas=6']);
        await run(['rollout', 'status', 'deployment/web', '--timeout=30s']);
        const pods = (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items;
        const byNode = new Map<string, number>();
        for (const p of pods) byNode.set(p.spec!.nodeName!, (byNode.get(p.spec!.nodeName!) ?? 0) + 1);
        const [target, onTarget] = [...byNode.entries()].sort((a, b) => b[1] - a[1])[0]!;
        expect(onTarget).to.be.at.least(2);

        // Traffic through the API server's service proxy for the whole drain.
        const proxy = `${sim.cluster.url}/api/v1/namespaces/default/services/web:80/proxy/`;
        let stop = false;
        const results: boolean[] = [];
        const traffic = (async () => {
          while (!stop) {
            results.push(await fetch(proxy).then((r) => r.ok, () => false));
            await new Promise((r) => setTimeout(r, 20));
          }
        })();
        // The budget must never be broken: ready, non-terminating pods never below desired healthy (6 − 1).
        const healthy = await watchHealthy(sim.kubeConfig, 'default', 'app=web');

        const drain = await run(['drain', target, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s']);
        stop = true;
        healthy.stop();
        await traffic;

        expect(drain.stdout).to.contain(`node/${target} drained`);
        const said = drain.stdout + drain.stderr;
        expect(said).to.contain('evicting pod default/web-');
        expect(said).to.contain('Cannot evict pod as it would violate the pod\'s disruption budget');
        const left = (await sim.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${target}` })).items.filter((p) => !p.metadata?.ownerReferences?.some((r) => r.kind === 'DaemonSet'));
        expect(left).to.deep.equal([]);
        expect(healthy.lowest(), 'ready pods never below the budget').to.be.at.least(5);
        expect(results.length).to.be.greaterThan(20);
        expect(results.filter((ok) => !ok), 'failed requests through the service proxy').to.deep.equal([]);
        await eventually('web available again', async () => (await sim.apps.readNamespacedDeployment({ namespace: 'default', name: 'web' })).status?.availableReplicas === 6, 30_000);
        await run(['uncordon', target]);
      });
    }
  });
}
