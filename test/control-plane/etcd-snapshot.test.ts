import { expect } from 'chai';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { locateEtcdTools } from '../../src/control-plane/locate.js';
import type { RunResult } from '../../src/report/result.js';
import { realControlPlaneUnavailable } from './real-cluster.js';

const SHIPPED = 'experiments/control-plane/etcd-snapshot-restore.yaml';
const SHIPPED_WORKLOAD = 'experiments/control-plane/workloads/web-and-settings.yaml';

/**
 * The negative twin: the shipped drill in a namespace of its own, with one more ConfigMap created
 * after the snapshot and deleted with the rest. No restore can bring that one back, and
 * `restored(restore)` must say so by name.
 */
function writeTwin(dir: string): string {
  const experiment = readFileSync(SHIPPED, 'utf8')
    .replace('name: etcd-snapshot-restore', 'name: etcd-snapshot-restore-twin')
    .replace('workloads: [workloads/web-and-settings.yaml]', 'workloads: [workload.yaml]')
    .replaceAll('drill/', 'late-drill/')
    .replaceAll('namespace: drill', 'namespace: late-drill')
    .replace('allowDeleteIn: [drill]', 'allowDeleteIn: [late-drill]')
    .replace(
      '    - { at: 1s, name: disaster,',
      [
        '    - { at: 1s, name: add-late, apply: { file: late.yaml } }',
        '    - { at: 1s, name: lose-late, delete: { kind: ConfigMap, namespace: late-drill, name: late } }',
        '    - { at: 1s, name: disaster,',
      ].join('\n'),
    );
  if (!experiment.includes('name: lose-late')) throw new Error(`${SHIPPED} no longer has the disaster step the twin adds to`);
  writeFileSync(path.join(dir, 'twin.yaml'), experiment);
  writeFileSync(path.join(dir, 'workload.yaml'), readFileSync(SHIPPED_WORKLOAD, 'utf8').replaceAll('name: drill', 'name: late-drill').replaceAll('namespace: drill', 'namespace: late-drill'));
  writeFileSync(path.join(dir, 'late.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: late, namespace: late-drill }\ndata: { made: after-the-snapshot }\n');
  return path.join(dir, 'twin.yaml');
}

/**
 * The control plane's backup drill as a user runs it: `gameday run --control-plane real` with the
 * shipped experiment and its negative twin, one control plane for both. The shipped drill passes
 * (RTO, every deleted object back, the Deployment served again by pods started after the
 * restore); the twin fails on the one object created after the snapshot, named in the check.
 */
describe('etcd snapshot drill: gameday run --control-plane real', function () {
  this.timeout(240_000);
  let dir: string;
  let run: { exitCode?: number; stdout: string; all: string };
  const result = (experiment: string): RunResult => {
    const runDir = readdirSync(path.join(dir, 'reports')).find((d) => new RegExp(`^\\d{8}-\\d{6}-${experiment}-[0-9a-f]{4}$`).test(d))!;
    return JSON.parse(readFileSync(path.join(dir, 'reports', runDir, 'result.json'), 'utf8')) as RunResult;
  };

  before(async function () {
    const why = (await realControlPlaneUnavailable()) ?? etcdToolsMissing();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    dir = mkdtempSync(path.join(tmpdir(), 'gameday-etcd-drill-'));
    mkdirSync(path.join(dir, 'kube-cache'));
    const twin = writeTwin(dir);
    run = await execa('node', [path.resolve('dist/cli/main.js'), 'run', SHIPPED, twin, '--control-plane', 'real', '--out', path.join(dir, 'reports'), '--reporter', 'json,summary', '--json'], {
      reject: false,
      all: true,
      env: { KUBECACHEDIR: path.join(dir, 'kube-cache'), KUBERNETES_SERVICE_HOST: '', GITHUB_STEP_SUMMARY: '' },
    });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the shipped drill passes: the API server is back with every deleted object, and web is served again within the RTO', () => {
    const summary = JSON.parse(run.stdout) as { runs: { experiment: string; outcome: string }[] };
    expect(summary.runs.map((r) => [r.experiment, r.outcome]), run.all).to.deep.equal([
      ['etcd-snapshot-restore', 'passed'],
      ['etcd-snapshot-restore-twin', 'failed'],
    ]);
    const r = result('etcd-snapshot-restore');
    const drill = r.drills?.find((d) => d.disaster === 'disaster');
    expect(drill?.rto.map((o) => [o.check, o.verdict]), JSON.stringify(r.drills)).to.deep.equal([['rto(disaster, back) < 60s', 'passed']]);
    expect(drill!.rto[0]!.value).to.be.a('number').within(1, 60_000);
    const restored = r.drills!.flatMap((d) => d.restored ?? []);
    expect(restored.map((o) => [o.object, o.cameBack])).to.deep.equal([
      ['Deployment drill/web', true],
      ['ConfigMap drill/settings', true],
    ]);
    expect(restored[0]!.reconciledMs, JSON.stringify(restored[0])).to.be.a('number').greaterThan(0);
    // Served by two Ready pods, whether the nodes ran the snapshot's pods again or the ReplicaSet made new ones.
    expect(restored[0]!.servedBy!.restoredPods + restored[0]!.servedBy!.newPods).to.equal(2);
    expect(r.checks.find((c) => c.check === 'restored(restore) >= 100%')?.verdict).to.equal('passed');
    const snapshot = r.steps!.find((s) => s.kind === 'etcdSnapshot')!.evidence as { bytes: number };
    expect(snapshot.bytes).to.be.greaterThan(0);
  });

  it('the twin fails, exit 1: the object created after the snapshot does not come back, and the check names it', () => {
    expect(run.exitCode, run.all).to.equal(1);
    const r = result('etcd-snapshot-restore-twin');
    const check = r.checks.find((c) => c.check === 'restored(restore) >= 100%')!;
    expect(check.verdict).to.equal('failed');
    expect(check.message).to.contain('2 of 3 deleted objects back after restore; not back: ConfigMap late-drill/late (deleted by lose-late)');
    expect(r.drills!.find((d) => d.disaster === 'lose-late')?.restored).to.deep.equal([{ object: 'ConfigMap late-drill/late', restoredBy: 'restore', cameBack: false }]);
    // The objects the snapshot held came back all the same.
    expect(r.drills!.flatMap((d) => d.restored ?? []).filter((o) => o.cameBack).map((o) => o.object)).to.deep.equal(['Deployment late-drill/web', 'ConfigMap late-drill/settings']);
  });
});

function etcdToolsMissing(): string | undefined {
  try {
    locateEtcdTools();
    return undefined;
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return (err as Error).message;
  }
}
