import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { validateXML } from 'xmllint-wasm';
import { JunitReporter, renderJunit } from '../../src/report/junit.js';
import { ResultBuilder } from '../../src/report/result.js';
import { xmlAttr, xmlText } from '../../src/report/xml-text.js';
import { FIXTURES, fixtureEvents, playRuns, withTempDir, type FixtureName } from './fixture-journals.js';

const XSD = readFileSync(join(FIXTURES, 'junit-10.xsd'), 'utf8');

async function expectValid(xml: string): Promise<void> {
  const result = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [XSD] });
  expect(result.valid, result.errors.map((e) => e.rawMessage).join('\n')).to.equal(true);
}

/** The counting attributes of each `<testsuite>`, and what its testcases really contain. */
function suites(xml: string): { name: string; tests: number; failures: number; errors: number; skipped: number; cases: number }[] {
  return [...xml.matchAll(/<testsuite ([^>]*)>([\s\S]*?)<\/testsuite>/g)].map((m) => {
    const attr = (name: string): string => new RegExp(`\\b${name}="([^"]*)"`).exec(m[1]!)![1]!;
    return {
      name: attr('name'),
      tests: Number(attr('tests')),
      failures: Number(attr('failures')),
      errors: Number(attr('errors')),
      skipped: Number(attr('skipped')),
      cases: (m[2]!.match(/<testcase /g) ?? []).length,
    };
  });
}

function resultOf(name: FixtureName) {
  const builder = new ResultBuilder();
  for (const e of fixtureEvents(name)) builder.add(e);
  return builder.result();
}

describe('report/junit', () => {
  const expected: Record<FixtureName, { tests: number; failures: number; errors: number; skipped: number }> = {
    // 4 checks + 1 fault that landed and was reverted.
    passing: { tests: 5, failures: 0, errors: 0, skipped: 0 },
    // The availability SLO failed.
    'failed-slo': { tests: 5, failures: 1, errors: 0, skipped: 0 },
    // A no-data SLO is skipped; the fault that did not land fails.
    'inconclusive-not-landed': { tests: 3, failures: 1, errors: 0, skipped: 1 },
    // f0's revert failed, f1 was never reached, and the interruption itself is an error.
    'interrupted-revert-failed': { tests: 4, failures: 1, errors: 1, skipped: 1 },
    // 3 checks + 1 fault; node conditions and Warning events are evidence, not testcases.
    'node-partition': { tests: 4, failures: 0, errors: 0, skipped: 0 },
    // 2 steady-state checks + 1 SLO + 1 fault, and the abort condition that came true fails.
    aborted: { tests: 5, failures: 1, errors: 0, skipped: 0 },
  };

  for (const [name, counts] of Object.entries(expected) as [FixtureName, (typeof expected)[FixtureName]][]) {
    it(`writes a valid junit.xml for the ${name} run with the right counts`, async () => {
      await withTempDir(async (dir) => {
        const [result] = await playRuns([name], [new JunitReporter()], dir);
        const xml = await readFile(join(dir, result!.runId, 'junit.xml'), 'utf8');
        await expectValid(xml);
        const [suite] = suites(xml);
        expect(suite).to.include({ name: result!.experiment, ...counts, cases: counts.tests });
        expect((xml.match(/<failure /g) ?? []).length).to.equal(counts.failures);
        expect((xml.match(/<error /g) ?? []).length).to.equal(counts.errors);
        expect((xml.match(/<skipped /g) ?? []).length).to.equal(counts.skipped);
      });
    });
  }

  it('puts the evidence of a failed check in the failure, with the check text as the testcase name', () => {
    const xml = renderJunit([resultOf('failed-slo')]);
    const failure = /<testcase classname="slo" name="availability\(web\) &gt;= 99.5%">\s*<failure message="([^"]*)" type="slo-failed">([\s\S]*?)<\/failure>/.exec(xml);
    expect(failure, xml).to.not.equal(null);
    expect(failure![1]).to.contain('availability 94.2%');
    expect(failure![2]).to.contain('first violation: 2026-01-01T00:00:22.000Z');
    expect(failure![2]).to.contain('worst samples:');
    expect(failure![2]).to.contain('&lt;html&gt;Service &amp; Co&lt;/html&gt;');
    expect(xml).to.contain('name="p99(web) &lt; 300ms"');
  });

  it('writes control characters from probe output as visible text instead of breaking the XML', async () => {
    const xml = renderJunit([resultOf('failed-slo')]);
    expect(xml).to.not.contain('\u001b');
    expect(xml).to.contain('\\u001B[31m');
    await expectValid(xml);
  });

  it('escapes every character XML cannot hold', async () => {
    const nasty = 'a\u0000b\u0007c\u001fd\uFFFEe"f\'g<h>i&j\tk\nl\rm\uD800n\uDC00o😀p';
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuite name="${xmlAttr(nasty)}" tests="1" failures="1" errors="0">`,
      `<testcase name="x"><failure message="${xmlAttr(nasty)}">${xmlText(nasty)}</failure></testcase>`,
      '</testsuite>',
    ].join('\n');
    await expectValid(xml);
    expect(xmlText(nasty)).to.contain('😀');
    expect(xmlAttr('line 1\nline 2')).to.equal('line 1&#10;line 2');
  });

  it('validation catches what CI would choke on (so the checks above can fail)', async () => {
    const xml = renderJunit([resultOf('failed-slo')]);
    const check = (doc: string) => validateXML({ xml: [{ fileName: 'junit.xml', contents: doc }], schema: [XSD] });
    expect((await check(xml.replace(/(<testsuite [^>]*?) failures="\d+"/, '$1'))).valid).to.equal(false);
    expect((await check(xml.replace('\\u001B', '\u001b'))).valid).to.equal(false);
  });

  it('writes one combined junit.xml with every suite when there are several runs', async () => {
    await withTempDir(async (dir) => {
      const names: FixtureName[] = ['passing', 'failed-slo', 'interrupted-revert-failed'];
      await playRuns(names, [new JunitReporter()], dir);
      const xml = await readFile(join(dir, 'junit.xml'), 'utf8');
      await expectValid(xml);
      const all = suites(xml);
      expect(all).to.have.length(3);
      const total = all.reduce((n, s) => n + s.tests, 0);
      expect(xml).to.match(new RegExp(`<testsuites name="gameday" tests="${total}" failures="2" errors="1"`));
    });
  });

  it('writes no combined file for a single run', async () => {
    await withTempDir(async (dir) => {
      await playRuns(['passing'], [new JunitReporter()], dir);
      const combined = await stat(join(dir, 'junit.xml')).catch(() => undefined);
      expect(combined).to.equal(undefined);
    });
  });
});
