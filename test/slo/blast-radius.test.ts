import { expect } from 'chai';
import { evaluateCheck } from '../../src/slo/evaluate.js';
import { checkFunctionProblem } from '../../src/slo/functions.js';
import { CheckSyntaxError, parseCheck } from '../../src/slo/parse.js';
import { SampleIndex } from '../../src/slo/sample-index.js';

const T0 = 1_800_000_000_000;
const PROBE = 'blastRadius(shop/frontend)';

describe('blastRadius(): one field of a map that counts several things', () => {
  it('parses the field after the call, written with or without spaces around the comparison', () => {
    const expr = parseCheck('blastRadius(shop/frontend).secrets==0');
    expect(expr).to.deep.include({ fn: 'blastRadius', arg: 'shop/frontend', field: 'secrets', op: '==' });
    expect(checkFunctionProblem(expr)).to.equal(undefined);
    expect(parseCheck('blastRadius(shop/frontend).namespaces <= 2 over 10s')).to.deep.include({ field: 'namespaces', op: '<=' });
  });

  it('names what is wrong: no field, an unknown field, a field on a function without fields, a field that holds', () => {
    expect(checkFunctionProblem(parseCheck('blastRadius(shop/frontend) == 0'))).to.equal(
      'blastRadius measures several things: name one after the call, like blastRadius(shop/frontend).secrets == 0 (fields: services, namespaces, secrets, createPods, exec)',
    );
    expect(checkFunctionProblem(parseCheck('blastRadius(shop/frontend).secret == 0'))).to.equal('blastRadius has no field "secret"; did you mean "secrets"? (fields: services, namespaces, secrets, createPods, exec)');
    expect(checkFunctionProblem(parseCheck('ready(deployment/shop/web).secrets >= 1'))).to.equal('ready has no fields: write ready(deployment/shop/web) >= 3, without .secrets');
    expect(() => parseCheck('blastRadius(shop/frontend).secrets holds')).to.throw(CheckSyntaxError, 'blastRadius(shop/frontend).secrets is a number to compare, not a condition that holds; write it like blastRadius(shop/frontend).secrets == 0');
    expect(() => parseCheck('blastRadius(shop/frontend). == 0')).to.throw(CheckSyntaxError, 'expected a field name after blastRadius(shop/frontend). like secrets, found "=="');
  });

  it("judges each field from the same samples, and a failure names the field's value and what the map saw", () => {
    const idx = new SampleIndex();
    const sample = (t: number, fields: Record<string, number>, message: string) => idx.add({ t, probe: PROBE, ok: true, value: fields.services, detail: { fields, message } });
    sample(T0, { services: 1, namespaces: 1, secrets: 0, createPods: 0, exec: 0 }, 'reaches 1 Service (payments/api:80)');
    sample(T0 + 4000, { services: 2, namespaces: 1, secrets: 3, createPods: 0, exec: 0 }, 'reaches 2 Services (payments/api:80, payments/db:5432); may read Secrets in 3 namespaces (default, payments, shop)');
    const secrets = evaluateCheck(parseCheck('blastRadius(shop/frontend).secrets == 0'), idx, { from: T0, to: T0 + 9000 }, 'worst-window');
    expect(secrets.verdict).to.equal('failed');
    expect(secrets.value).to.equal(3);
    expect(secrets.message).to.equal(
      'blastRadius(shop/frontend).secrets = 3 (need == 0) at +4.0s (2 readings): reaches 2 Services (payments/api:80, payments/db:5432); may read Secrets in 3 namespaces (default, payments, shop)',
    );
    expect(evaluateCheck(parseCheck('blastRadius(shop/frontend).exec == 0'), idx, { from: T0, to: T0 + 9000 }, 'worst-window').verdict).to.equal('passed');
    expect(evaluateCheck(parseCheck('blastRadius(shop/frontend).secrets == 0'), idx, { from: T0, to: T0 + 3000 }, 'worst-window').verdict).to.equal('passed');
  });
});
