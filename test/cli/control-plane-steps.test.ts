import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunResult } from '../../src/report/result.js';
import { runCli, tempDir } from './cli-process.js';

const DRILL = 'experiments/control-plane/etcd-snapshot-restore.yaml';

/**
 * The etcd drill steps act on a control plane gameday runs itself. On the embedded cluster (which
 * has no etcd) they are refused before anything is applied, naming each step by its place in the
 * file and saying what to run instead: by `plan`, and by `run` (the experiment's run is invalid;
 * others in the same `gameday run` still run). `validate` does not know where the
 * file will run, so it accepts it.
 */
describe('etcd drill steps outside --control-plane real (real CLI process)', () => {
  const refusal = (step: string, kind: string, line: number): string =>
    `${DRILL}:${line}:45 spec.steps[${step}].${kind}: step ${kind === 'etcdSnapshot' ? 'backup' : 'restore'} (${kind}) acts on the control plane's etcd, which gameday reaches only in a control plane it runs itself, and cluster gameday is not one: run it with gameday run --control-plane real (without --context or --kubeconfig)`;

  it('gameday run refuses them with exit 2 before anything is applied: no workload, step or fault, and the result says why', async () => {
    const out = path.join(tempDir(), 'reports');
    const r = await runCli(['run', DRILL, '--out', out, '--reporter', 'json']);
    expect(r.code, r.stderr).to.equal(2);
    const [runDir] = readdirSync(out);
    const result = JSON.parse(readFileSync(path.join(out, runDir!, 'result.json'), 'utf8')) as RunResult;
    expect(result.outcome).to.equal('invalid');
    expect(result.reason).to.contain(refusal('0', 'etcdSnapshot', 31)).and.to.contain(refusal('3', 'etcdRestore', 34));
    expect(result.steps, 'steps run').to.equal(undefined);
    expect(readFileSync(path.join(out, runDir!, 'journal.ndjson'), 'utf8')).to.not.contain('workloads: applied');
    expect(result.faults).to.deep.equal([]);
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
