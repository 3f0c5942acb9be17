import type * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { diskFill } from '../../../src/faults/disk-fill/fault.js';
import type { PodDiskFillState } from '../../../src/faults/disk-fill/pods.js';
import { execInPod } from '../../../src/nodes/pod-exec.js';
import { isReady, podsOf } from '../../sim/sim-fixture.js';
import { eventually } from '../../support/eventually.js';
import { clusterState, planFault, recordingContext, startFaultFixture, type FaultFixture } from '../api-fixture.js';
import { runNodeFaultExperiment, simTarget } from '../node-fault-experiment.js';

const NS = 'default';
const LIMIT = 64 * 2 ** 20;

/** One pod: `app` mounts an emptyDir of 64Mi at /data and a read-only one at /seed; `sidecar` mounts nothing. */
function storeDeployment(): k8s.V1Deployment {
  return {
    metadata: { name: 'store' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'store' } },
      template: {
        metadata: { labels: { app: 'store' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image: 'gameday/web:1',
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'seed', mountPath: '/seed', readOnly: true },
              ],
            },
            { name: 'sidecar', image: 'busybox:1.36' },
          ],
          volumes: [
            { name: 'data', emptyDir: { sizeLimit: '64Mi' } },
            { name: 'seed', emptyDir: {} },
          ],
        },
      },
    },
  };
}

describe('diskFill of pods (exec) on the embedded cluster', function () {
  this.timeout(40_000);
  let f: FaultFixture;
  let pod: string;

  before(async () => {
    f = await startFaultFixture();
    await f.apps.createNamespacedDeployment({ namespace: NS, body: storeDeployment() });
    pod = await eventually('store ready', async () => (await podsOf(f.core, NS, 'store')).find(isReady)?.metadata?.name, 15_000);
  });
  after(async () => {
    await f?.cluster.stop();
  });

  /** df inside the pod, independently of the fault's own reading. */
  const dfData = async (name = pod): Promise<{ size: number; used: number }> => {
    const r = await execInPod(f.kubeConfig, { namespace: NS, pod: name, container: 'app', argv: ['df', '-B1', '--output=size,used', '/data'] });
    expect(r.exitCode, r.stderr).to.equal(0);
    const [size, used] = r.stdout.trim().split('\n').at(-1)!.trim().split(/\s+/).map(Number) as [number, number];
    return { size, used };
  };
  const lsData = async (): Promise<string> => (await execInPod(f.kubeConfig, { namespace: NS, pod, container: 'app', argv: ['ls', '/data'] })).stdout;

  it('fills the emptyDir to 80% (df inside the pod shows it), verifies, and revert frees it exactly', async () => {
    const stateBefore = await clusterState(f);
    const usageBefore = await dfData();
    expect(usageBefore).to.deep.equal({ size: LIMIT, used: 0 });
    const { params, planned } = await planFault(diskFill, { pods: { namespace: NS, labels: { app: 'store' } }, path: '/data', fill: '80%' }, f.target);
    expect(planned.touches).to.deep.equal({ nodes: [], pods: [`${NS}/${pod}`] });
    expect(planned.description).to.equal(`fill /data in pod ${NS}/${pod} to 80%`);
    const ctx = recordingContext(f.target);

    const state = (await diskFill.inject(ctx, params, planned.targets)) as PodDiskFillState;
    const filled = await dfData();
    expect(filled.used / filled.size).to.be.within(0.8, 0.81);
    expect(state[pod]).to.include({ container: 'app', volume: 'emptyDir data', method: 'fallocate', bytes: Math.ceil(0.8 * LIMIT) });
    expect(await lsData()).to.match(/^gameday-fill-[0-9a-f]{8}$/m);
    const verdict = await diskFill.verify(ctx, params, planned.targets, state);
    expect(verdict.landed, verdict.message).to.equal(true);
    expect(verdict.message).to.match(new RegExp(`^filled: ${NS}/${pod} /data 80\\.0% used`));

    await diskFill.revert(ctx, params, planned.targets, state);
    await diskFill.revert(ctx, params, planned.targets, undefined);
    expect(await dfData()).to.deep.equal(usageBefore);
    expect(await lsData()).to.equal('');
    expect(await clusterState(f)).to.deep.equal(stateBefore);
    expect(ctx.logs.filter((l) => l.includes('removed'))).to.have.length(2);
  });

  it('allocates a size: the file holds exactly that many bytes, and verify checks the file', async () => {
    const { params, planned } = await planFault(diskFill, { pods: { namespace: NS, labels: { app: 'store' } }, container: 'app', path: '/data', fill: '10Mi' }, f.target, 3);
    const ctx = recordingContext(f.target);
    const state = (await diskFill.inject(ctx, params, planned.targets)) as PodDiskFillState;
    expect(state[pod]!.bytes).to.equal(10 * 2 ** 20);
    expect((await dfData()).used).to.equal(10 * 2 ** 20);
    const verdict = await diskFill.verify(ctx, params, planned.targets, state);
    expect(verdict.landed, verdict.message).to.equal(true);
    expect(verdict.message).to.include(`${10 * 2 ** 20} in /data/gameday-fill-`);

    // Someone else removed the file: the size is no longer there, so it has not landed.
    await execInPod(f.kubeConfig, { namespace: NS, pod, container: 'app', argv: ['rm', state[pod]!.file] });
    const gone = await diskFill.verify(ctx, params, planned.targets, state);
    expect(gone.landed).to.equal(false);
    expect(gone.message).to.match(/not filled as asked \(10Mi\): .*0 in \/data\/gameday-fill-/);
    await diskFill.revert(ctx, params, planned.targets, state);
    expect((await dfData()).used).to.equal(0);
  });

  it('refuses clearly: a path on no volume, a path that does not exist, a read-only volume, a container without the mount, no such container', async () => {
    let reverted: string[] = [];
    const attempt = async (input: Record<string, unknown>): Promise<string> => {
      const { params, planned } = await planFault(diskFill, { pods: { namespace: NS, names: [pod] }, fill: '50%', ...input }, f.target);
      const ctx = recordingContext(f.target);
      try {
        await diskFill.inject(ctx, params, planned.targets);
      } catch (err) {
        await diskFill.revert(ctx, params, planned.targets, undefined);
        reverted = ctx.logs;
        return (err as Error).message;
      }
      expect.fail('inject should have refused');
    };
    expect(await attempt({ path: '/tmp' })).to.equal(
      `/tmp is not on a mounted volume in container app of pod ${NS}/${pod} (it mounts /data, /seed): give the path of a volume it mounts, or the container that mounts it (container:)`,
    );
    expect(await attempt({ path: '/data/no such\'dir' })).to.match(new RegExp(`^container app of pod ${NS}/${pod}: df /data/no such'dir failed: df: .*No such file or directory`));
    // fallocate is refused, so dd is tried too, and both answers are reported.
    expect(await attempt({ path: '/seed' })).to.match(/: could not allocate \/seed\/gameday-fill-\w+: fallocate said .*Read-only file system.*; dd said .*Read-only file system/);
    expect(await attempt({ path: '/data', container: 'sidecar' })).to.match(/^\/data is not on a mounted volume in container sidecar .*\(it mounts no volumes\)/);
    expect(await attempt({ path: '/data', container: 'db' })).to.equal(`pod ${NS}/${pod} has no container "db"; its containers: app, sidecar`);
    expect(reverted.at(-1)).to.equal(`pod ${NS}/${pod} has no container "db": nothing was filled there`);
    expect((await dfData()).used).to.equal(0);
  });

  it('an exec the API server refuses (no such pod) fails with the pod and the server\'s answer, not [object Object]', async () => {
    const failed = await execInPod(f.kubeConfig, { namespace: NS, pod: 'no-such-pod', argv: ['ls'] }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).to.be.instanceOf(Error);
    expect((failed as Error).message).to.match(new RegExp(`^exec in pod ${NS}/no-such-pod could not start: .*404`));
  });

  it('revert of a pod that is gone says so in a log line, not an error', async () => {
    const { params, planned } = await planFault(diskFill, { pods: { namespace: NS, labels: { app: 'store' } }, path: '/data', fill: '1Mi' }, f.target, 5);
    const ctx = recordingContext(f.target);
    const state = await diskFill.inject(ctx, params, planned.targets);
    await f.core.deleteNamespacedPod({ namespace: NS, name: pod, gracePeriodSeconds: 0 });
    await eventually('pod gone', async () => !(await podsOf(f.core, NS, 'store')).some((p) => p.metadata?.name === pod));
    await diskFill.revert(ctx, params, planned.targets, state);
    expect(ctx.logs.at(-1)).to.equal(`pod ${NS}/${pod} is gone: nothing to remove; an emptyDir goes with its pod`);
    pod = await eventually('replacement ready', async () => (await podsOf(f.core, NS, 'store')).find((p) => isReady(p) && !p.metadata?.deletionTimestamp)?.metadata?.name, 15_000);
  });

  it("a disk-backed emptyDir without a limit fills the node: the kubelet evicts the pod, which counts as landed, and revert says the file went with it", async () => {
    const storeNode = (await f.core.readNamespacedPod({ namespace: NS, name: pod })).spec!.nodeName!;
    const node = (await f.core.listNode()).items.map((n) => n.metadata!.name!).find((n) => n !== storeNode && !n.endsWith('control-plane'))!;
    const nodeUsed = async (): Promise<number> => ((await (await fetch(`${f.cluster.url}/gameday/v1/nodes/${node}/filesystem`)).json()) as { usedBytes: number }).usedBytes;
    await f.apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'scratch' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'scratch' } },
          template: {
            metadata: { labels: { app: 'scratch' } },
            spec: {
              nodeSelector: { 'kubernetes.io/hostname': node },
              containers: [{ name: 'app', image: 'gameday/web:1', volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
              volumes: [{ name: 'scratch', emptyDir: {} }],
            },
          },
        },
      },
    });
    const victim = await eventually('scratch running', async () => (await podsOf(f.core, NS, 'scratch')).find((p) => p.status?.phase === 'Running')?.metadata?.name, 15_000);
    const usedBefore = await nodeUsed();
    const { params, planned } = await planFault(diskFill, { pods: { namespace: NS, names: [victim] }, path: '/scratch', fill: '95%' }, f.target);
    const ctx = recordingContext(f.target);
    const state = (await diskFill.inject(ctx, params, planned.targets)) as PodDiskFillState;
    expect(state[victim]!.volume).to.equal('emptyDir scratch');
    await eventually('the pod evicted', async () => (await f.core.readNamespacedPod({ namespace: NS, name: victim })).status?.reason === 'Evicted', 10_000);
    const verdict = await diskFill.verify(ctx, params, planned.targets, state);
    expect(verdict.landed, verdict.message).to.equal(true);
    expect(verdict.message).to.match(new RegExp(`^filled: ${NS}/${victim} is Failed \\(Evicted: `));
    await diskFill.revert(ctx, params, planned.targets, state);
    expect(ctx.logs.at(-1)).to.match(new RegExp(`^pod ${NS}/${victim} is Failed \\(Evicted: .*\\): nothing to remove; an emptyDir goes with its pod$`));
    await eventually('the node given its space back', async () => (await nodeUsed()) === usedBefore);
    await f.apps.deleteNamespacedDeployment({ namespace: NS, name: 'scratch' });
    await eventually('scratch pods gone', async () => (await podsOf(f.core, NS, 'scratch')).length === 0, 10_000);
    await eventually('the disk-pressure taint lifted', async () => !(await f.core.readNode({ name: node })).spec?.taints?.some((t) => t.key === 'node.kubernetes.io/disk-pressure'));
  });

  it('runs through the engine on a cluster without node access: inject → verify → revert, and passes', async () => {
    const stateBefore = await clusterState(f);
    const yaml = `
apiVersion: gameday/v1
kind: Experiment
metadata: { name: disk-fill-pods }
spec:
  duration: 2s
  blastRadius: { maxPodPercent: 100 }
  faults:
    - { at: 0s, diskFill: { pods: { namespace: ${NS}, labels: { app: store } }, path: /data, fill: 95% } }
`;
    const filledDuringRun = eventually('95% used while the fault holds', async () => {
      const u = await dfData().catch(() => undefined);
      return u !== undefined && u.used / u.size >= 0.95;
    }, 10_000);
    const run = await runNodeFaultExperiment(simTarget(f, { nodeAccess: false }), yaml);
    expect(run.summary.outcome, run.summary.reason).to.equal('passed');
    expect(run.steps).to.deep.equal(['inject', 'injected', 'verified', 'revert', 'reverted']);
    await filledDuringRun;
    expect(run.faultEvents.find((e) => e.step === 'verified')!.message).to.match(/^filled: default\/store-\S+ \/data 95\.0% used/);
    expect((await dfData()).used).to.equal(0);
    expect(await clusterState(f)).to.deep.equal(stateBefore);
  });
});
