import { expect } from 'chai';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';
import { specError } from '../spec/spec-error.js';

const T0 = 1_800_000_000_000;
const RANGE = { from: T0, to: T0 + 60_000 };

/** What an etcdRestore step named `restore` emits: one sample per object the disaster deleted, ok when it came back. */
function restoredSamples(objects: readonly [string, string, boolean][]): SampleIndex {
  const idx = new SampleIndex();
  objects.forEach(([object, deletedBy, back], i) => idx.add({ t: T0 + 20_000 + i, probe: 'restored(restore)', ok: back, detail: { object, deletedBy } }));
  return idx;
}

const evaluate = (check: string, idx: SampleIndex) => evaluateCheck(parseCheck(check), idx, RANGE, 'worst-window');

const drill = (steps: string, slos: string): string => `apiVersion: gameday/v1
kind: Experiment
metadata: { name: drill }
spec:
  duration: 10s
  blastRadius: { allowDeleteIn: [drill] }
  steps:
${steps}
  slos: [ ${slos} ]
`;

describe('restored(step): what a restore of the control plane brought back', () => {
  it('is the share of deleted objects back, and a failure names each one that is not', () => {
    const o = evaluate(
      'restored(restore) >= 100%',
      restoredSamples([
        ['Deployment drill/web', 'disaster', true],
        ['ConfigMap drill/late', 'lose-late', false],
      ]),
    );
    expect(o.verdict).to.equal('failed');
    expect(o.value).to.equal(0.5);
    expect(o.message).to.equal('restored(restore) = 50.0% (need >= 100%): 1 of 2 deleted objects back after restore; not back: ConfigMap drill/late (deleted by lose-late)');
    expect(o.evidence.worst?.map((s) => s.detail?.object)).to.deep.equal(['ConfigMap drill/late']);
  });

  it('passes when every deleted object came back, and has no data when the step never restored', () => {
    const all = evaluate('restored(restore) >= 100%', restoredSamples([['ConfigMap drill/settings', 'disaster', true]]));
    expect([all.verdict, all.message]).to.deep.equal(['passed', 'restored(restore) = 100.0% (need >= 100%): 1 of 1 deleted object back after restore; every one came back']);
    const none = evaluate('restored(restore) >= 100%', new SampleIndex());
    expect([none.verdict, none.message]).to.deep.equal(['no-data', 'restored(restore) >= 100%: step restore never restored a snapshot, so no deleted object was looked for']);
  });

  it('in an experiment, names an etcdRestore step, which restores an etcdSnapshot step before it', () => {
    const message = specError(
      drill(
        `    - { at: 1s, name: disaster, delete: { kind: ConfigMap, namespace: drill, name: settings } }
    - { at: 1s, name: restore, etcdRestore: {} }
    - { at: 1s, name: backup, etcdSnapshot: {} }
    - { at: 1s, name: again, etcdRestore: { snapshot: disaster } }`,
        '"restored(disaster) >= 100%"',
      ),
    );
    expect(message).to.match(/drill\.yaml:9:\d+ spec\.steps\[1\]\.etcdRestore: restores a snapshot, and no etcdSnapshot step comes before it; add one before the disaster/);
    expect(message).to.match(/drill\.yaml:11:\d+ spec\.steps\[3\]\.etcdRestore\.snapshot: "disaster" is no etcdSnapshot step before this one; those are backup/);
    expect(message).to.match(/drill\.yaml:12:\d+ spec\.slos\[0\]: restored\(\) names "disaster", which is no etcdRestore step; the etcdRestore steps are restore, again/);
    const unit = specError(drill('    - { at: 1s, name: backup, etcdSnapshot: {} }\n    - { at: 1s, name: restore, etcdRestore: {} }', '"restored(restore) >= 1"'));
    expect(unit).to.match(/drill\.yaml:10:\d+ spec\.slos\[0\]: restored compares a share of the deleted objects: write the threshold as a percentage, like 99\.5% \(not 1\)/);
  });
});
