import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, KubeConfig, type CoreV1Event } from '@kubernetes/client-node';
import { recordFaultEvent } from '../../src/cluster/fault-events.js';
import { eventually } from '../support/eventually.js';
import { startCli, tempDir, writeFile, type RunningCli } from './cli-process.js';

interface JournalLine {
  readonly type: string;
  readonly t: number;
  readonly runId?: string;
}

/**
 * Each fault is visible as Kubernetes Events on its targets. Every run is a real `gameday run`
 * process against one `gameday sim serve` cluster, as game days share a real cluster.
 */
describe('game days on one shared cluster (real CLI processes)', function () {
  this.timeout(60_000);
  let sim: RunningCli | undefined;
  const dir = tempDir('gameday-shared-cluster-');
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const kc = new KubeConfig();
  let core: CoreV1Api;

  before(async () => {
    sim = startCli(['sim', 'serve', '--nodes', '2', '--kubeconfig', kubeconfig]);
    await eventually('gameday sim serve to start', () => sim!.output().stdout.includes('Press Ctrl-C'), 30_000);
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
  });

  after(async () => {
    sim?.child.kill('SIGINT');
    await sim?.done;
  });

  /** An experiment that cordons the worker of `zone` (gameday-worker is in a, gameday-worker2 in b) for its whole `duration`. */
  function cordonExperiment(name: string, zone: 'a' | 'b', duration: string): string {
    return writeFile(
      dir,
      `${name}.yaml`,
      `apiVersion: gameday/v1
kind: Experiment
metadata: { name: ${name} }
spec:
  duration: ${duration}
  faults:
    - { at: 0s, nodeCordon: { nodes: { labels: { topology.kubernetes.io/zone: ${zone} } } } }
`,
    );
  }

  function startRun(file: string, out: string, ...extra: string[]): RunningCli {
    return startCli(['run', file, '--kubeconfig', kubeconfig, '--allow-context', 'gameday-sim', '--out', path.join(dir, out), '--reporter', 'json', ...extra]);
  }

  /** The journal of the one run under `out`, or undefined before the run has started. */
  function journalOf(out: string): JournalLine[] | undefined {
    const outDir = path.join(dir, out);
    const runs = existsSync(outDir) ? readdirSync(outDir) : [];
    if (runs.length === 0) return undefined;
    expect(runs, `one run under ${out}`).to.have.length(1);
    const file = path.join(outDir, runs[0]!, 'journal.ndjson');
    if (!existsSync(file)) return undefined;
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.endsWith('}'))
      .map((line) => JSON.parse(line) as JournalLine);
  }

  const runIdOf = (journal: readonly JournalLine[]): string => journal.find((e) => e.type === 'run.start')!.runId!;

  it('records each fault\'s inject and revert as Events on its target node', async () => {
    const run = await startRun(cordonExperiment('visible', 'b', '1s'), 'visible').done;
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    const runId = runIdOf(journalOf('visible')!);
    const events = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=gameday-worker2' })).items.filter((e) => e.message?.includes(runId));
    const byReason = (reason: string): CoreV1Event | undefined => events.find((e) => e.reason === reason);
    for (const reason of ['GamedayFaultInjected', 'GamedayFaultReverted']) {
      const event = byReason(reason);
      expect(event, `${reason} on node gameday-worker2 for run ${runId}`).to.not.equal(undefined);
      expect(event!.type).to.equal('Normal');
      expect(event!.message).to.contain(`gameday run ${runId}`).and.contain('nodeCordon#0');
      expect(event!.source?.component).to.equal('gameday');
      expect(event!.reportingComponent).to.equal('gameday');
      // kubectl describe node finds a node's Events by uid = node name, as the kubelet writes them.
      expect(event!.involvedObject).to.include({ kind: 'Node', name: 'gameday-worker2', uid: 'gameday-worker2' });
    }
  });

  it('puts a pod\'s fault Events on that pod, by its uid, so kubectl describe pod shows them', async () => {
    const pod = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'event-target' }, spec: { containers: [{ name: 'web', image: 'gameday/web:1' }] } } });
    await recordFaultEvent(kc, { kind: 'Pod', namespace: 'default', name: 'event-target' }, 'GamedayFaultInjected', 'gameday run r1: injected podKill fault "p"');
    const events = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.uid=${pod.metadata!.uid}` })).items.filter((e) => e.source?.component === 'gameday');
    expect(events.map((e) => e.reason)).to.deep.equal(['GamedayFaultInjected']);
    expect(events[0]!.involvedObject).to.include({ kind: 'Pod', namespace: 'default', name: 'event-target' });
  });
});
