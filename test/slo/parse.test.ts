import { expect } from 'chai';
import { checkFunctionProblem, CHECK_FUNCTIONS, implicitProbeName } from '../../src/slo/functions.js';
import { CheckSyntaxError, parseCheck } from '../../src/slo/parse.js';

function syntaxError(text: string): CheckSyntaxError {
  try {
    parseCheck(text);
  } catch (err) {
    if (err instanceof CheckSyntaxError) return err;
    throw err;
  }
  throw new Error(`"${text}" parsed, but a syntax error was expected`);
}

describe('parseCheck', () => {
  it('parses a comparison with a percentage and normalizes it to a ratio', () => {
    const expr = parseCheck('availability(web) >= 99.5%');
    expect(expr).to.deep.equal({ text: 'availability(web) >= 99.5%', fn: 'availability', arg: 'web', op: '>=', threshold: { value: 0.995, unit: 'ratio', text: '99.5%' } });
  });

  it('normalizes durations to milliseconds, including compound ones', () => {
    expect(parseCheck('p99(web) < 300ms')).to.have.nested.include({ 'threshold.value': 300, 'threshold.unit': 'ms' });
    expect(parseCheck('failover(statefulset/shop/db) < 20s')).to.have.nested.include({ 'threshold.value': 20_000, 'threshold.unit': 'ms' });
    expect(parseCheck('max(web) <= 1m30s')).to.have.nested.include({ 'threshold.value': 90_000, 'threshold.text': '1m30s' });
  });

  it('reads rates per second and per minute', () => {
    expect(parseCheck('rate(web) >= 50/s')).to.have.nested.include({ 'threshold.value': 50, 'threshold.unit': 'per-second' });
    expect(parseCheck('rate(web) >= 120/m')).to.have.nested.include({ 'threshold.value': 2, 'threshold.unit': 'per-second' });
  });

  it('reads plain numbers', () => {
    expect(parseCheck('ready(deployment/shop/web) >= 3')).to.have.nested.include({ 'threshold.value': 3, 'threshold.unit': 'number', op: '>=' });
    expect(parseCheck('errors(web) == 0').op).to.equal('==');
    expect(parseCheck('errors(web) != 0.5')).to.have.nested.include({ 'threshold.value': 0.5 });
  });

  it('parses every comparator', () => {
    for (const op of ['>=', '>', '<=', '<', '==', '!='] as const) expect(parseCheck(`errors(web) ${op} 1`).op).to.equal(op);
  });

  it('parses holds, with and without a window', () => {
    expect(parseCheck('pdb(shop/web) holds')).to.deep.equal({ text: 'pdb(shop/web) holds', fn: 'pdb', arg: 'shop/web', op: 'holds' });
    const windowed = parseCheck('readiness(shop/web) holds over 2m');
    expect(windowed.op).to.equal('holds');
    expect(windowed.window?.ms).to.equal(120_000);
  });

  it('reads an optional window after the threshold', () => {
    const expr = parseCheck('availability(web) < 80% over 30s');
    expect(expr.window?.ms).to.equal(30_000);
    expect(expr).to.have.nested.include({ 'threshold.value': 0.8 });
  });

  it('tolerates spaces between the parts', () => {
    const expr = parseCheck('  availability ( web )>=99 %   over   20s ');
    expect(expr).to.include({ fn: 'availability', arg: 'web', op: '>=' });
    expect(expr.window?.ms).to.equal(20_000);
  });

  const errors: Array<[string, number, RegExp]> = [
    ['', 0, /empty/],
    ['   ', 3, /empty/],
    ['99% availability', 0, /function name/],
    ['availability web >= 99%', 13, /expected "\(" after availability/],
    ['availability() >= 99%', 13, /probe name or a target/],
    ['availability(web >= 99%', 17, /expected "\)"/],
    ['availability(web)', 17, /comparison .* or "holds"/],
    ['availability(web) => 99%', 18, /comparison/],
    ['availability(web) >=', 20, /expected a threshold/],
    ['availability(web) >= lots', 21, /expected a threshold.*"lots"/],
    ['availability(web) >= 120%', 21, /more than 100%/],
    ['availability(web) >= 99% over', 29, /window duration/],
    ['availability(web) >= 99% over 20', 30, /window duration/],
    ['availability(web) >= 99% over 0s', 30, /window of 0/],
    ['availability(web) >= 99% during 20s', 25, /unexpected "during"/],
    ['pdb(shop/web) holds firmly', 20, /unexpected "firmly"/],
    ['p99(web) < 300 ms', 15, /unexpected "ms"/],
  ];
  for (const [text, offset, message] of errors) {
    it(`rejects ${JSON.stringify(text)} at offset ${offset}`, () => {
      const err = syntaxError(text);
      expect(err.message).to.match(message);
      expect(err.offset).to.equal(offset);
    });
  }
});

describe('check functions', () => {
  it('lists the functions with their argument, form and unit', () => {
    expect(CHECK_FUNCTIONS.get('availability')).to.include({ arg: 'probe', form: 'compare', unit: 'ratio' });
    for (const p of ['p50', 'p90', 'p95', 'p99', 'max']) expect(CHECK_FUNCTIONS.get(p)).to.include({ arg: 'probe', form: 'compare', unit: 'ms' });
    expect(CHECK_FUNCTIONS.get('errors')).to.include({ arg: 'probe', unit: 'number' });
    expect(CHECK_FUNCTIONS.get('rate')).to.include({ arg: 'probe', unit: 'per-second' });
    expect(CHECK_FUNCTIONS.get('pdb')).to.include({ arg: 'target', form: 'holds', implicitProbe: 'pdb' });
    expect(CHECK_FUNCTIONS.get('readiness')).to.include({ arg: 'target', form: 'holds', implicitProbe: 'readiness' });
    expect(CHECK_FUNCTIONS.get('failover')).to.include({ arg: 'target', form: 'compare', unit: 'ms', implicitProbe: 'failover' });
    expect(CHECK_FUNCTIONS.get('ready')).to.include({ arg: 'target', form: 'compare', unit: 'number', implicitProbe: 'ready' });
    expect(CHECK_FUNCTIONS.get('replicas')).to.include({ arg: 'target', form: 'compare', unit: 'number', implicitProbe: 'replicas' });
  });

  it('every function\'s own example parses and passes its rules', () => {
    for (const info of CHECK_FUNCTIONS.values()) expect(checkFunctionProblem(parseCheck(info.example)), info.example).to.equal(undefined);
  });

  it('names implicit probes after the call', () => {
    expect(implicitProbeName('pdb', 'shop/web')).to.equal('pdb(shop/web)');
  });

  const problems: Array<[string, RegExp]> = [
    ['p99(web) < 99%', /p99 compares a latency: write the threshold as a duration, like 300ms or 1s/],
    ['p99(web) < 300', /as a duration/],
    ['availability(web) >= 0.99', /availability compares a share .*as a percentage, like 99.5%/],
    ['errors(web) < 5%', /as a plain number/],
    ['rate(web) > 10', /as a rate, like 50\/s/],
    ['failover(statefulset/shop/db) < 20', /as a duration/],
    ['availabilty(web) >= 99%', /unknown check function "availabilty"; did you mean "availability"\?/],
    ['zzzzzzzz(web) >= 99%', /unknown check function "zzzzzzzz"; known: availability, /],
    ['pdb(shop/web) >= 1', /pdb is checked with "holds"/],
    ['availability(web) holds', /availability compares .*write a comparison, like availability\(web\) >= 99.5%/],
    ['pdb(web) holds', /pdb needs a target written as namespace\/name/],
    ['failover(shop/db) < 20s', /failover needs a target written as kind\/namespace\/name/],
    ['ready(pod/shop/web) >= 1', /kind one of deployment, statefulset/],
  ];
  for (const [text, message] of problems) {
    it(`reports ${JSON.stringify(text)}`, () => {
      expect(checkFunctionProblem(parseCheck(text))).to.match(message);
    });
  }
});
