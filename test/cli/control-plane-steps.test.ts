import { expect } from 'chai';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCli, tempDir } from './cli-process.js';

const DRILL = 'experiments/control-plane/etcd-snapshot-restore.yaml';

/**
 * The etcd drill steps act on a control plane gameday runs itself. On the embedded cluster (which
 * has no etcd) `run` and `plan` refuse the file before anything is applied, naming each step by
 * its place in the file and saying what to run instead; `validate` does not know where the file
 * will run, so it accepts it.
 */
describe('etcd drill steps outside --control-plane real (real CLI process)', () => {
  const refusal = (step: string, kind: string, line: number): string =>
    `${DRILL}:${line}:45 spec.steps[${step}].${kind}: step ${kind === 'etcdSnapshot' ? 'backup' : 'restore'} (${kind}) acts on the control plane's etcd, which gameday reaches only in a control plane it runs itself, and cluster gameday is not one: run it with gameday run --control-plane real (without --context or --kubeconfig)`;

  it('gameday run refuses them with exit 2, before any workload is applied or any run directory written', async () => {
    const out = path.join(tempDir(), 'reports');
    const r = await runCli(['run', DRILL, '--out', out]);
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.contain(refusal('0', 'etcdSnapshot', 31)).and.to.contain(refusal('3', 'etcdRestore', 34));
    expect(r.stderr).to.not.contain('workloads:');
    expect(existsSync(out), 'a run directory').to.equal(false);
  });

  it('gameday plan refuses them with exit 2 before applying the workloads; gameday validate accepts the file', async () => {
    const plan = await runCli(['plan', DRILL]);
    expect(plan.code, plan.stderr).to.equal(2);
    expect(plan.stderr).to.contain(refusal('0', 'etcdSnapshot', 31));
    expect(plan.stderr).to.not.contain('workloads:');
    const validate = await runCli(['validate', DRILL]);
    expect(validate.code, validate.stderr).to.equal(0);
  });
});
