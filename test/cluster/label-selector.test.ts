import { expect } from 'chai';
import type { V1LabelSelector } from '@kubernetes/client-node';
import { selectorMatches } from '../../src/cluster/label-selector.js';

const web = { app: 'web', tier: 'front', zone: 'a' };

describe('selectorMatches (metav1.LabelSelector)', () => {
  it('matches nothing without a selector, and everything with an empty one (policy/v1 budgets)', () => {
    expect(selectorMatches(undefined, web)).to.equal(false);
    expect(selectorMatches(null, web)).to.equal(false);
    expect(selectorMatches({}, web)).to.equal(true);
    expect(selectorMatches({ matchLabels: {}, matchExpressions: [] }, web)).to.equal(true);
    expect(selectorMatches({}, undefined)).to.equal(true);
    expect(selectorMatches({}, {})).to.equal(true);
  });

  it('needs every matchLabels entry, with the same value', () => {
    expect(selectorMatches({ matchLabels: { app: 'web' } }, web)).to.equal(true);
    expect(selectorMatches({ matchLabels: { app: 'web', tier: 'front' } }, web)).to.equal(true);
    expect(selectorMatches({ matchLabels: { app: 'web', tier: 'back' } }, web)).to.equal(false);
    expect(selectorMatches({ matchLabels: { app: 'web', track: 'canary' } }, web)).to.equal(false);
    expect(selectorMatches({ matchLabels: { app: 'web' } }, undefined)).to.equal(false);
    expect(selectorMatches({ matchLabels: { app: '' } }, {})).to.equal(false);
    expect(selectorMatches({ matchLabels: { app: '' } }, { app: '' })).to.equal(true);
  });

  it('reads In, NotIn, Exists and DoesNotExist as Kubernetes does', () => {
    const expr = (operator: string, key: string, values?: string[]): V1LabelSelector => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });
    expect(selectorMatches(expr('In', 'zone', ['a', 'b']), web)).to.equal(true);
    expect(selectorMatches(expr('In', 'zone', ['b', 'c']), web)).to.equal(false);
    expect(selectorMatches(expr('In', 'rack', ['a']), web), 'In needs the label').to.equal(false);
    expect(selectorMatches(expr('NotIn', 'zone', ['b', 'c']), web)).to.equal(true);
    expect(selectorMatches(expr('NotIn', 'zone', ['a']), web)).to.equal(false);
    expect(selectorMatches(expr('NotIn', 'rack', ['a']), web), 'NotIn matches a missing label').to.equal(true);
    expect(selectorMatches(expr('Exists', 'tier'), web)).to.equal(true);
    expect(selectorMatches(expr('Exists', 'rack'), web)).to.equal(false);
    expect(selectorMatches(expr('DoesNotExist', 'rack'), web)).to.equal(true);
    expect(selectorMatches(expr('DoesNotExist', 'tier'), web)).to.equal(false);
  });

  it('ANDs matchLabels and every expression', () => {
    const selector: V1LabelSelector = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['a', 'b'] },
        { key: 'track', operator: 'DoesNotExist' },
      ],
    };
    expect(selectorMatches(selector, web)).to.equal(true);
    expect(selectorMatches(selector, { ...web, track: 'canary' })).to.equal(false);
    expect(selectorMatches(selector, { ...web, zone: 'c' })).to.equal(false);
    expect(selectorMatches(selector, { ...web, app: 'db' })).to.equal(false);
  });

  it('matches nothing with a selector the API server would refuse to parse', () => {
    const refused: V1LabelSelector[] = [
      { matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] },
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: [] }] },
      { matchExpressions: [{ key: 'zone', operator: 'NotIn' }] },
      { matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] },
      { matchExpressions: [{ key: 'rack', operator: 'DoesNotExist', values: ['a'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['0'] }] },
    ];
    for (const selector of refused) expect(selectorMatches(selector, web), JSON.stringify(selector)).to.equal(false);
  });

  it('reads only the labels themselves, never what every object inherits', () => {
    expect(selectorMatches({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, web)).to.equal(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }, web)).to.equal(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'hasOwnProperty', operator: 'NotIn', values: ['x'] }] }, web)).to.equal(true);
  });
});
