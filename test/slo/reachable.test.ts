import { expect } from 'chai';
import { parseReachabilityTarget } from '../../src/core/reachability-target.js';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { checkFunctionProblem } from '../../src/slo/functions.js';
import { CheckSyntaxError, parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';

const T0 = 1_800_000_000_000;
const PATH = 'shop/frontend -> payments/db:5432';

describe('reachable(): network path checks written with an arrow', () => {
  it('parses the path, with or without spaces around the arrow, into one normalised target', () => {
    for (const text of [`reachable(${PATH}) == false`, 'reachable( shop/frontend->payments/db:5432 )==false']) {
      const expr = parseCheck(text);
      expect(expr).to.deep.include({ fn: 'reachable', arg: PATH, op: '==' });
      expect(checkFunctionProblem(expr)).to.equal(undefined);
    }
    expect(parseReachabilityTarget(PATH)).to.deep.equal({ source: { namespace: 'shop', app: 'frontend' }, destination: { kind: 'service', namespace: 'payments', name: 'db', port: 5432, text: 'payments/db:5432' }, text: PATH });
    expect(parseReachabilityTarget('shop/frontend -> pod/payments/db-0:5432').destination).to.deep.include({ kind: 'pod', name: 'db-0' });
    // A name with a dash is one name, not the start of an arrow.
    expect(parseCheck('reachable(shop/web-front -> payments/db-main:5432) == false').arg).to.equal('shop/web-front -> payments/db-main:5432');
  });

  it('names what is wrong: a missing destination, a destination without a port, a numeric threshold', () => {
    expect(() => parseCheck('reachable(shop/frontend -> ) == false')).to.throw(CheckSyntaxError, 'expected a destination after shop/frontend ->, found ")"');
    expect(checkFunctionProblem(parseCheck('reachable(shop/frontend -> payments/db) == false'))).to.match(/^reachable needs a target written as namespace\/app -> namespace\/service:port/);
    expect(checkFunctionProblem(parseCheck(`reachable(${PATH}) == 0`))).to.equal('reachable compares whether any source pod can connect: write the threshold as true or false (not 0)');
    expect(() => parseReachabilityTarget('shop/frontend -> payments/db:70000')).to.throw('port 70000 is not between 1 and 65535');
  });

  it('fails once any source pod got through, naming the open path the probe saw', () => {
    const probe = `reachable(${PATH})`;
    const idx = new SampleIndex();
    idx.add({ t: T0, probe, ok: true, value: 0, detail: { to: 'payments/db:5432', message: 'denied from 2 pods' } });
    idx.add({ t: T0 + 3000, probe, ok: true, value: 1, detail: { to: 'payments/db:5432', message: 'open: shop/frontend-1 -> payments/db:5432' } });
    const check = parseCheck(`reachable(${PATH}) == false`);
    expect(evaluateCheck(check, idx, { from: T0, to: T0 + 2000 }, 'worst-window').verdict).to.equal('passed');
    const open = evaluateCheck(check, idx, { from: T0, to: T0 + 5000 }, 'worst-window');
    expect(open.verdict).to.equal('failed');
    expect(open.message).to.equal(`reachable(${PATH}) = true (need == false) at +3.0s (2 readings): open: shop/frontend-1 -> payments/db:5432`);
  });
});
