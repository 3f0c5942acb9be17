import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { builtinRegistries } from '../../src/cli/registries.js';
import { bundleK6Script } from '../../src/probes/k6/script.js';
import { collectExperimentFiles, loadExperimentFile } from '../../src/spec/load.js';
import type { ExperimentSpec } from '../../src/spec/model.js';

/**
 * What the shipped game day promises as a whole (README, "Experiments" and "Suites"): every fault
 * kind and the k6 probe in at least one experiment, a smoke suite with every verb of the mission,
 * each experiment saying what it proves, and the README's table listing them all.
 */

const SUITES = ['smoke', 'nightly', 'release'] as const;
/** The mission's verbs, by the fault kind that does each: drain, kill, partition, fill. */
const MISSION_VERBS = ['nodeDrain', 'podKill', 'networkPartition', 'diskFill'];

describe('the shipped experiments', () => {
  let specs: ExperimentSpec[];
  before(async () => {
    const registries = builtinRegistries();
    specs = await Promise.all((await collectExperimentFiles(['experiments/'])).map((file) => loadExperimentFile(file, registries)));
  });

  const suiteOf = (s: ExperimentSpec): string | undefined => s.labels.suite;
  const faultKinds = (list: readonly ExperimentSpec[]): Set<string> => new Set(list.flatMap((s) => s.faults.map((f) => f.kind)));

  it('each carries a suite label (smoke, nightly or release) and a header saying what it proves, by which faults', () => {
    expect(specs.length).to.be.greaterThan(10);
    for (const spec of specs) {
      expect(SUITES, `${spec.file}: labels.suite`).to.include(suiteOf(spec));
      const header = readFileSync(spec.file, 'utf8').split('\napiVersion:')[0]!;
      expect(header, spec.file).to.match(/^# Proves: /m).and.to.match(/^# Faults: /m);
      expect(spec.description, spec.file).to.be.a('string');
    }
  });

  it('together use every fault kind gameday registers, and the k6 probe', () => {
    const missing = builtinRegistries().faults.kinds().filter((kind) => !faultKinds(specs).has(kind));
    expect(missing, 'fault kinds in no shipped experiment').to.deep.equal([]);
    expect(specs.some((s) => s.probes.some((p) => p.kind === 'k6'))).to.equal(true);
  });

  it('the smoke suite (--tags suite=smoke) drains, kills, partitions and fills, on the embedded cluster alone', () => {
    const smoke = specs.filter((s) => suiteOf(s) === 'smoke');
    expect([...faultKinds(smoke)]).to.include.members(MISSION_VERBS);
    // Nothing in it needs a tool besides Node.js: no k6, no browser.
    expect(smoke.flatMap((s) => s.probes.map((p) => p.kind))).to.not.include.members(['k6', 'browser']);
  });

  it("the README's table lists every shipped experiment with its suite", () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const spec of specs) {
      const row = readme.split('\n').find((line) => line.startsWith('|') && line.includes(`](${spec.file})`));
      expect(row, `README row for ${spec.file}`).to.be.a('string');
      expect(row).to.contain(`| ${suiteOf(spec)} |`);
    }
  });

  it('the k6 script type-checks against @types/k6 and bundles into one module', async () => {
    const dir = path.resolve('experiments/k6');
    const config = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(dir, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, dir);
    expect(config.fileNames).to.include(path.join(dir, 'load/browse.ts'));
    const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram(config.fileNames, config.options));
    expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).to.deep.equal([]);
    const js = await bundleK6Script(path.join(dir, 'load/browse.ts'));
    expect(js).to.match(/from "k6\/http"/);
  });
});
