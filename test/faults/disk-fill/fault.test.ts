import { expect } from 'chai';
import { diskFill } from '../../../src/faults/disk-fill/fault.js';

describe('diskFill params: pods or nodes', () => {
  const issues = (input: unknown): string[] => {
    const r = diskFill.params.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes one of pods: and nodes:, with the keys each form has', () => {
    expect(issues({ pods: { namespace: 'shop' }, path: '/data', fill: '95%' })).to.deep.equal([]);
    expect(issues({ nodes: { names: ['w'] }, fill: '2Gi' })).to.deep.equal([]);
    expect(issues({ pods: { namespace: 'shop' }, nodes: {}, path: '/data', fill: '95%' })).to.deep.equal([
      ': give either pods: (fill a volume from inside the pods, through exec) or nodes: (fill a node filesystem through node access), not both',
    ]);
    expect(issues({ fill: '95%' })[0]).to.match(/one of them$/);
    expect(issues({ pods: { namespace: 'shop' }, fill: '95%' })).to.deep.equal(['path: a fill of pods needs path: the mount path of the volume to fill, like /data']);
    expect(issues({ nodes: {}, container: 'app', fill: '95%' })).to.deep.equal(['container: container applies to a fill of pods:, not of nodes:']);
    expect(issues({ pods: { namespace: 'shop' }, path: 'data', fill: '95%' })[0]).to.match(/^path: path is an absolute directory/);
  });

  it('needs node access only for nodes:', () => {
    const needs = diskFill.needsNodeAccess as (p: unknown) => boolean;
    expect(needs(diskFill.params.parse({ pods: { namespace: 'shop' }, path: '/data', fill: '95%' }))).to.equal(false);
    expect(needs(diskFill.params.parse({ nodes: {}, fill: '95%' }))).to.equal(true);
  });
});
