import { expect } from 'chai';
import { formatPlan } from '../../src/plan/format.js';
import type { Plan } from '../../src/plan/model.js';
import { planExperiment } from '../../src/plan/plan.js';
import { buildSpec, holds, options, sampleSnapshot } from './fixtures.js';

function samplePlan(): Plan {
  const spec = buildSpec({
    faults: [
      { kind: 'testPodFault', at: '2m', for: '30s', name: 'kill-db', params: { pods: { namespace: 'shop', labels: { app: 'db' } }, count: 1 } },
      { kind: 'testNodeFault', at: '30s', params: { nodes: { labels: { role: 'worker' } }, count: 1 } },
    ],
    probes: [{ name: 'web', kind: 'http', params: {}, path: 'spec.probes.web' }],
    slos: [holds('pdb', 'shop/web')],
  });
  return planExperiment(spec, sampleSnapshot(), options(42));
}

function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(title);
  expect(start, `section ${title}`).to.be.greaterThan(-1);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end);
}

describe('formatPlan', () => {
  const plan = samplePlan();
  const text = formatPlan(plan);

  it('names the experiment, the cluster and the seed to replay', () => {
    expect(text).to.include('plan-test (experiments/test.yaml)');
    expect(text).to.include('embedded cluster gameday-sim');
    expect(text).to.include('--seed 42');
    expect(text).to.include('5m');
  });

  it('lists the faults in the order they start, in aligned columns', () => {
    const rows = section(text, 'Timeline');
    expect(rows[0]).to.match(/^\s+AT\s+FOR\s+FAULT\s+TARGETS$/);
    expect(rows[1]).to.match(/^\s+30s\s+to the end\s+testNodeFault#1 \(f1\)\s+poke node w\d$/);
    expect(rows[2]).to.match(/^\s+2m\s+30s\s+kill-db \(f0\)\s+kill pod shop\/db-\d$/);
    const column = rows[0]!.indexOf('TARGETS');
    expect(rows[1]!.indexOf('poke')).to.equal(column);
    expect(rows[2]!.indexOf('kill pod')).to.equal(column);
  });

  it('shows declared and implicit probes', () => {
    const rows = section(text, 'Probes');
    expect(rows[1]).to.match(/^\s+web\s+http\s+spec\.probes\.web$/);
    expect(rows[2]).to.match(/^\s+pdb\(shop\/web\)\s+pdb\s+implicit, for the check at spec\.slos\[0\]$/);
  });

  it('shows what is touched against the limits', () => {
    const rows = section(text, 'Blast radius');
    expect(rows[0]).to.match(new RegExp(`nodes\\s+1 of at most 1: ${plan.touches.nodes[0]}$`));
    expect(rows[1]).to.match(new RegExp(`pods\\s+1: ${plan.touches.pods[0]}$`));
    expect(rows[2]).to.match(/StatefulSet\/db in shop: 1 of 2 \(50%, at most 50%\)$/);
  });

  it('ends by saying nothing was changed, and has no warnings section without warnings', () => {
    expect(text.trimEnd().split('\n').at(-1)).to.match(/^Nothing was changed/);
    expect(text).to.not.include('Warnings');
  });

  it('lists warnings when there are some', () => {
    const rows = section(formatPlan({ ...plan, warnings: ['first thing', 'second thing'] }), 'Warnings');
    expect(rows).to.deep.equal(['  - first thing', '  - second thing']);
  });

  it('says so when there are no faults and names a kubeconfig context', () => {
    const empty = formatPlan({ ...plan, faults: [], cluster: { kind: 'kubeconfig', name: 'staging', context: 'staging', server: 'https://10.0.0.1:6443' } });
    expect(section(empty, 'Timeline')).to.deep.equal(['  no faults']);
    expect(empty).to.include('context staging (https://10.0.0.1:6443)');
  });

  it('is stable: the same plan prints the same text', () => {
    expect(formatPlan(samplePlan())).to.equal(text);
  });
});
