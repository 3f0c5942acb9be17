import { expect } from 'chai';
import { parseAccessTarget } from '../../src/core/access-target.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { checkFunctionProblem } from '../../src/slo/functions.js';
import { CheckSyntaxError, parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';

const T0 = 1_800_000_000_000;
const PROBE = 'can(serviceaccount/shop/web, get, secrets)';

describe('can(): access checks with several arguments and a true/false threshold', () => {
  it('parses the arguments, written with or without spaces, into one normalised target', () => {
    const a = parseCheck('can(serviceaccount/shop/web, get, secrets) == false');
    const b = parseCheck('can( serviceaccount/shop/web,get ,secrets )==false');
    for (const expr of [a, b]) {
      expect(expr).to.deep.include({ fn: 'can', arg: 'serviceaccount/shop/web, get, secrets', op: '==' });
      expect(expr.op !== 'holds' && expr.threshold).to.deep.equal({ value: 0, unit: 'boolean', text: 'false' });
      expect(checkFunctionProblem(expr)).to.equal(undefined);
    }
    expect(parseAccessTarget('serviceaccount/shop/web, create, pods/exec, payments')).to.deep.include({ namespace: 'shop', serviceAccount: 'web', verb: 'create', resource: 'pods', subresource: 'exec', group: '', scope: 'payments' });
    expect(parseAccessTarget('serviceaccount/shop/web, list, deployments.apps')).to.deep.include({ resource: 'deployments', group: 'apps', scope: 'shop' });
  });

  it('names what is wrong: a missing separator, a numeric threshold, a target that is not a service account', () => {
    expect(() => parseCheck('can(serviceaccount/shop/web get) == true')).to.throw(CheckSyntaxError, 'expected ")" or "," after can(serviceaccount/shop/web, found "get)"');
    expect(checkFunctionProblem(parseCheck('can(serviceaccount/shop/web, get, secrets) == 1'))).to.equal('can compares whether the access is allowed: write the threshold as true or false (not 1)');
    expect(checkFunctionProblem(parseCheck('can(user/jane, get, secrets) == false'))).to.match(/^can needs a target written as serviceaccount\/namespace\/name, verb, resource\[, namespace\]/);
  });

  it('passes while the answer is what the check expects, and fails naming the moment it changed', () => {
    const idx = new SampleIndex();
    idx.add({ t: T0, probe: PROBE, ok: true, value: 0, detail: { allowed: false } });
    idx.add({ t: T0 + 5000, probe: PROBE, ok: true, value: 1, detail: { allowed: true } });
    const check = parseCheck('can(serviceaccount/shop/web, get, secrets) == false');
    expect(evaluateCheck(check, idx, { from: T0, to: T0 + 4000 }, 'latest').verdict).to.equal('passed');
    const broken = evaluateCheck(check, idx, { from: T0, to: T0 + 9000 }, 'worst-window');
    expect(broken.verdict).to.equal('failed');
    expect(broken.message).to.include('= true (need == false) at +5.0s');
  });
});
