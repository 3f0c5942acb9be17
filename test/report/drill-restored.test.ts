import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '../../src/journal/events.js';
import { HtmlReporter } from '../../src/report/html.js';
import { ResultBuilder } from '../../src/report/result.js';
import { renderSummary } from '../../src/report/summary.js';
import type { EtcdRestoreEvidence } from '../../src/slo/restored.js';
import { withTempDir } from './fixture-journals.js';
import { playEventRuns } from './html-fixture.js';

const T0 = 1_800_000_000_000;
const evidence: EtcdRestoreEvidence = {
  snapshot: { step: 'backup', file: '/tmp/gameday-cp-1/etcd-snapshot-backup.db', bytes: 466_976 },
  apiServerReadyMs: 4876,
  objects: [
    { object: 'Deployment drill/web', deletedBy: 'disaster', cameBack: true, reconciledMs: 7600, servedBy: { restoredPods: 0, newPods: 2 } },
    { object: 'ConfigMap drill/late', deletedBy: 'lose-late', cameBack: false },
  ],
};

/** A control-plane drill's journal: the restore's step event carries what came back; rto() and restored() were judged. */
const EVENTS: RunEvent[] = [
  { type: 'run.start', t: T0, journalVersion: 1, runId: 'r1', experiment: 'etcd-snapshot-restore', file: 'etcd.yaml', seed: 1, cluster: { kind: 'embedded', name: 'gameday (real control plane)' }, durationMs: 5000, gamedayVersion: '0.1.0' },
  { type: 'step', t: T0 + 1000, step: 's0', name: 'disaster', kind: 'delete', phase: 'start' },
  { type: 'step', t: T0 + 1100, step: 's0', name: 'disaster', kind: 'delete', phase: 'done' },
  { type: 'step', t: T0 + 1100, step: 's1', name: 'restore', kind: 'etcdRestore', phase: 'start' },
  { type: 'step', t: T0 + 8800, step: 's1', name: 'restore', kind: 'etcdRestore', phase: 'done', evidence },
  { type: 'check', t: T0 + 9000, role: 'slo', check: 'rto(disaster, back) < 60s', verdict: 'passed', value: 7800, message: 'rto(disaster, back) = 7.8s (need < 60s)', evidence: { from: T0, to: T0 + 9000, samples: 1 } },
  { type: 'check', t: T0 + 9000, role: 'slo', check: 'restored(restore) >= 100%', verdict: 'failed', value: 0.5, message: 'not back: ConfigMap drill/late (deleted by lose-late)', evidence: { from: T0, to: T0 + 9000, samples: 2 } },
  { type: 'run.end', t: T0 + 9500, outcome: 'failed', reason: 'SLO not met' },
];

describe('report: a control-plane drill in the Drills table', () => {
  const builder = new ResultBuilder();
  for (const e of EVENTS) builder.add(e);
  const result = builder.result();

  it('result.json lists, per disaster step, its RTO and what the restore brought back of what it deleted, valid against the schema', () => {
    expect(result.drills).to.deep.equal([
      { disaster: 'disaster', rto: [{ check: 'rto(disaster, back) < 60s', verdict: 'passed', value: 7800, until: 'back' }], rpo: [], restored: [{ object: 'Deployment drill/web', restoredBy: 'restore', cameBack: true, reconciledMs: 7600, servedBy: { restoredPods: 0, newPods: 2 } }] },
      { disaster: 'lose-late', rto: [], rpo: [], restored: [{ object: 'ConfigMap drill/late', restoredBy: 'restore', cameBack: false }] },
    ]);
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync('src/report/result.schema.json', 'utf8')) as object);
    expect(validate(JSON.parse(JSON.stringify(result))), ajv.errorsText(validate.errors)).to.equal(true);
  });

  it('summary.md and report.html say which objects came back, and when and by which pods the workload served again', async () => {
    const md = renderSummary(result, { files: [], link: false });
    expect(md).to.contain('| disaster | 7.8s (passed: `rto(disaster, back) < 60s`) | - | Deployment drill/web back after restore, ready again 7.6s after the restore began (2 new pods) |');
    expect(md).to.contain('| lose-late | - | - | ConfigMap drill/late not back after restore |');
    const html = await withTempDir(async (dir) => {
      await playEventRuns([EVENTS], [new HtmlReporter()], dir);
      return readFile(join(dir, 'r1', 'report.html'), 'utf8');
    });
    expect(html).to.contain('<td data-label="Restored"><span>Deployment drill/web back after restore, ready again 7.6s after the restore began (2 new pods)</span></td>');
    expect(html).to.contain('<span class="regression">ConfigMap drill/late not back after restore</span>');
  });
});
