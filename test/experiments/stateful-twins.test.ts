import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { checkOf, runExperimentCli, type ExperimentRun } from '../cli/run-experiment.js';

/**
 * The shipped backup and restore drill passes end to end on the embedded cluster, and bites: its
 * negative twin, the same drill with a backup taken long before the disaster, fails its recovery
 * point and the lost writes it allows, while its recovery time still passes. Each is run by the
 * built CLI against an embedded cluster of its own (no host port), both at once.
 */

const EXPERIMENT = 'backup-restore-across-zones.yaml';
const WORKLOADS = ['orders-db-zone-a.yaml', 'orders-backup.yaml', 'orders-db-restored.yaml'];
const shipped = (file: string): string => readFileSync(path.join('experiments', file), 'utf8');

interface Drill {
  spec: { duration: string; steps: { at: string; name: string }[] };
}

/** The shipped drill with its backup at the start of the fault phase and the disaster 8 s later: a backup well older than the 5 s RPO. */
function staleBackup(): string {
  const drill = parse(shipped(EXPERIMENT)) as Drill;
  for (const step of drill.spec.steps) step.at = step.name === 'backup' ? '0s' : '8s';
  drill.spec.duration = '10s';
  return stringify(drill);
}

function files(experiment: string): Record<string, string> {
  return { [EXPERIMENT]: experiment, ...Object.fromEntries(WORKLOADS.map((w) => [`workloads/${w}`, shipped(`workloads/${w}`)])) };
}

describe('the stateful drills and their negative twins (embedded cluster, built CLI)', function () {
  this.timeout(120_000);
  let drill: ExperimentRun;
  let twin: ExperimentRun;

  before(async () => {
    [drill, twin] = await Promise.all([runExperimentCli(files(shipped(EXPERIMENT)), EXPERIMENT), runExperimentCli(files(staleBackup()), EXPERIMENT)]);
  });

  it('backup-restore-across-zones passes: the store rebuilt in zone b from the zone-b backup serves within the RTO, having lost only the writes after the backup', () => {
    expect(drill.code, drill.output).to.equal(0);
    const steps = drill.journal.filter((e) => e.type === 'step' && (e as { phase?: string }).phase === 'done').map((e) => (e as { name?: string }).name);
    expect(steps).to.deep.equal(['backup', 'disaster', 'rebuild', 'restore', 'back']);
    const rpo = checkOf(drill, 'rpo(orders, disaster) < 5s');
    expect(rpo.verdict).to.equal('passed');
    // Something was lost (the writes between the backup and the disaster), and no more than the RPO's worth.
    expect(rpo.value).to.be.greaterThan(0).and.below(5000);
    const lost = checkOf(drill, 'lostWrites(orders) <= 100');
    expect(lost.value).to.be.greaterThan(0).and.at.most(100);
    expect(checkOf(drill, 'rto(disaster, back) < 30s').verdict).to.equal('passed');
  });

  it('its twin with a backup 8 s older than the disaster fails rpo(orders, disaster) < 5s and lostWrites(orders) <= 100, naming the lost orders', () => {
    expect(twin.code, twin.output).to.equal(1);
    const rpo = checkOf(twin, 'rpo(orders, disaster) < 5s');
    expect(rpo.verdict).to.equal('failed');
    expect(rpo.value).to.be.greaterThan(5000);
    expect(rpo.message).to.match(/acknowledged writes sent before it lost, the oldest sent at \+\d+\.\ds \(orders-[0-9a-f]{6}-\d{6}/);
    expect(rpo.evidence?.worst?.every((s) => s.error === 'lost')).to.equal(true);
    const lost = checkOf(twin, 'lostWrites(orders) <= 100');
    expect(lost.verdict).to.equal('failed');
    expect(lost.value).to.be.greaterThan(100);
    expect(checkOf(twin, 'rto(disaster, back) < 30s').verdict, 'the restore itself worked').to.equal('passed');
    expect(twin.result.reason).to.match(/SLOs not met/);
  });
});
