import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SpecError, UsageError, type SourceIssue } from '../../src/core/errors.js';
import { z } from 'zod';
import { Percent } from '../../src/core/quantity.js';
import { collectExperimentFiles, loadExperimentFile, loadExperiments, loadExperimentText, MAX_EXPERIMENT_BYTES } from '../../src/spec/load.js';
import { durationSchema } from '../../src/spec/value-schemas.js';
import { MAX_ALIASES, MAX_NESTING } from '../../src/spec/yaml-source.js';
import { testRegistries } from './test-registries.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/spec');
const fixture = (name: string) => join(FIXTURES, name);
const registries = testRegistries();

function issuesOf(text: string, file = fixture('inline.yaml'), regs = registries): SourceIssue[] {
  try {
    loadExperimentText(text, file, regs);
  } catch (err) {
    if (err instanceof SpecError) return [...err.issues];
    throw err;
  }
  throw new Error('the text loaded, but problems were expected');
}

/** Issues as `line:column path: message`, which is what a user reads. */
const shown = (issues: readonly SourceIssue[]) => issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);

const minimal = (spec: string) => `apiVersion: gameday/v1
kind: Experiment
metadata:
  name: minimal
spec:
${spec}`;

describe('loadExperimentText', () => {
  describe('a valid file', () => {
    const file = fixture('valid.yaml');
    const spec = loadExperimentText(readFileSync(file, 'utf8'), file, registries);

    it('keeps metadata and resolves workloads against the file', () => {
      expect(spec).to.include({ file, name: 'drain-a-worker-keeps-web-up', description: "Draining one worker keeps the shop's web tier available.", dir: FIXTURES });
      expect(spec.labels).to.deep.equal({ suite: 'nightly' });
      expect(spec.workloads).to.deep.equal([join(FIXTURES, 'workloads/web.yaml')]);
    });

    it('parses durations and fills defaults', () => {
      expect(spec.duration.ms).to.equal(180_000);
      expect(spec.steadyState.recoverWithin.ms).to.equal(90_000);
      expect(spec.steadyState.timeout.ms).to.equal(60_000);
      expect(spec.blastRadius).to.deep.equal({ maxNodes: 2, maxPodPercent: 50, allowZoneOutage: false, allowDeleteIn: [] });
    });

    it('lists probes by name with their kind and parsed params', () => {
      expect(spec.probes.map((p) => [p.name, p.kind, p.path])).to.deep.equal([
        ['web', 'testProbe', 'spec.probes.web'],
        ['api', 'testProbe', 'spec.probes.api'],
      ]);
      const web = spec.probes[0]!.params as { rate: number; timeout: { ms: number } };
      expect(web.rate).to.equal(50);
      expect(web.timeout.ms).to.equal(1000);
    });

    it('numbers and names faults', () => {
      expect(spec.faults.map((f) => [f.id, f.index, f.kind, f.name, f.at.ms, f.for?.ms, f.path])).to.deep.equal([
        ['f0', 0, 'testFault', 'testFault#0', 30_000, undefined, 'spec.faults[0]'],
        ['f1', 1, 'fillFault', 'fill-db-disk', 90_000, 60_000, 'spec.faults[1]'],
      ]);
      expect(spec.faults[0]).to.not.have.property('for');
      const fill = (spec.faults[1]!.params as { fill: unknown }).fill;
      expect(fill).to.be.instanceOf(Percent);
      expect((fill as Percent).fraction).to.equal(0.95);
    });

    it('parses every check and remembers where it is', () => {
      expect(spec.steadyState.checks.map((c) => c.path)).to.deep.equal(['spec.steadyState.checks[0]']);
      expect(spec.steadyState.checks[0]!.expr.window?.ms).to.equal(20_000);
      expect(spec.slos.map((c) => [c.path, c.expr.fn, c.expr.arg, c.expr.op])).to.deep.equal([
        ['spec.slos[0]', 'availability', 'web', '>='],
        ['spec.slos[1]', 'p99', 'api', '<'],
        ['spec.slos[2]', 'pdb', 'shop/web', 'holds'],
      ]);
      expect(spec.abort[0]!.expr).to.deep.include({ text: 'availability(web) < 80% over 30s', threshold: { value: 0.8, unit: 'ratio', text: '80%' } });
    });

    it('locates dotted paths in the file', () => {
      expect(spec.locate('spec.faults[1].at')).to.deep.equal({ line: 20, column: 11 });
      expect(spec.locate('spec.probes.api')).to.deep.equal({ line: 17, column: 10 });
      expect(spec.locate('spec.slos[2]')).to.deep.equal({ line: 27, column: 7 });
      // A path that is not in the file points at its nearest parent.
      expect(spec.locate('spec.faults[0].for')).to.deep.equal({ line: 19, column: 7 });
    });
  });

  it('fills every default for a minimal file', () => {
    const spec = loadExperimentText(minimal('  duration: 1m\n'), fixture('inline.yaml'), registries);
    expect(spec.labels).to.deep.equal({});
    expect(spec).to.not.have.property('description');
    expect([spec.workloads, spec.probes, spec.faults, spec.slos, spec.abort, spec.steadyState.checks]).to.deep.equal([[], [], [], [], [], []]);
    expect(spec.steadyState.recoverWithin.ms).to.equal(60_000);
    expect(spec.steadyState.timeout.ms).to.equal(60_000);
    expect(spec.blastRadius).to.deep.equal({ maxNodes: 1, maxPodPercent: 50, allowZoneOutage: false, allowDeleteIn: [] });
  });

  it('reports every schema problem of a broken file with its position', () => {
    const file = fixture('broken.yaml');
    const issues = issuesOf(readFileSync(file, 'utf8'), file);
    expect(issues.every((i) => i.file === file)).to.equal(true);
    expect(shown(issues)).to.deep.equal([
      '1:13 apiVersion: apiVersion must be "gameday/v1"',
      '4:9 metadata.name: "Broken_Name" is not a valid name: use lowercase letters, digits and "-", starting and ending with a letter or digit, like drain-a-worker',
      '7:3 spec.faluts: unknown key; did you mean "faults"?',
      '9:15 spec.steadyState.checks[0]: availability compares a share of good samples: write the threshold as a percentage, like 99.5% (not 99)',
      '11:53 spec.probes.web.testProbe.rate: a rate needs its unit: write 50/s',
      '11:57 spec.probes.web.testProbe.timeot: unknown key; did you mean "timeout"?',
      '12:12 spec.probes.api.tstProbe: unknown probe "tstProbe"; did you mean "testProbe"?',
      '14:18 spec.faults[0].testFualt: unknown fault "testFualt"; did you mean "testFault"?',
      '15:11 spec.faults[1].at: a duration needs a unit: write 3s or 3ms, not 3',
      '16:45 spec.faults[1].testFault.nodes.labels.zone: a label value is text; quote it: "1"',
      '16:59 spec.faults[1].testFault.count: must be at least 1',
      '19:7 spec.slos[1]: p99 compares a latency: write the threshold as a duration, like 300ms or 1s (not 99%)',
      '20:7 spec.slos[2]: unknown check function "latency"; known: availability, p50, p90, p95, p99, max, errors, rate, lostWrites, duplicates, staleReads, lag, prom, pdb, readiness, failover, ready, replicas, maxReplicas, restarts, oomKills, evictions, can, reachable, admits, denies, blastRadius, rto, rpo, restored',
    ]);
  });

  it('reports every rule a schema-valid file breaks, with its position', () => {
    const file = fixture('broken-rules.yaml');
    expect(shown(issuesOf(readFileSync(file, 'utf8'), file))).to.deep.equal([
      `6:35 spec.workloads[1]: no such file: ${join(FIXTURES, 'workloads/missing.yaml')} (workload paths are relative to the experiment file)`,
      '9:29 spec.steadyState.checks[0]: no probe named "wbe"; did you mean "web"?',
      '14:13 spec.faults[1].at: starts at 2m, but the run ends at 2m (spec.duration); start it earlier or lengthen the run',
      '15:23 spec.faults[2].for: holds until 2m30s, but the run ends at 2m (spec.duration); hold it for at most 30s or lengthen the run',
      '15:33 spec.faults[2].name: the fault name "same" is already used by spec.faults[0]; fault names must be unique',
      '17:11 spec.slos[0]: no probe named "nosuch"; declared probes: web',
      '18:7 spec.slos[1]: failover(…) checks need the probe kind "failover", which this gameday does not have (probe kinds: pdb, testProbe)',
    ]);
  });

  it('says a target check needs its implicit probe kind when the registry lacks it', () => {
    const text = minimal('  duration: 1m\n  slos: [ "pdb(shop/web) holds" ]\n');
    expect(shown(issuesOf(text, undefined, testRegistries({ withPdbProbe: false })))).to.deep.equal([
      '7:11 spec.slos[0]: pdb(…) checks need the probe kind "pdb", which this gameday does not have (probe kinds: testProbe)',
    ]);
    expect(() => loadExperimentText(text, fixture('inline.yaml'), registries)).to.not.throw();
  });

  it('says prom() reads only a prometheus probe', () => {
    const text = minimal('  duration: 1m\n  probes: { web: { testProbe: { service: shop/web:80 } } }\n  slos: [ "prom(web) < 1%" ]\n');
    expect(shown(issuesOf(text))).to.deep.equal(['8:17 spec.slos[0]: prom(…) reads the value of a prometheus probe; "web" is a testProbe probe']);
  });

  it('points a check syntax error at the offending character', () => {
    const text = minimal('  duration: 1m\n  slos:\n    - availability(web) >> 99%\n  abort: [ "errors(web) > x" ]\n');
    expect(shown(issuesOf(text))).to.deep.equal([
      '8:26 spec.slos[0]: expected a threshold after availability(web) >: a number (3), a percentage (99.5%), a duration (300ms, 20s) or a rate (50/s); found ">"',
      '9:27 spec.abort[0]: expected a threshold after errors(web) >: a number (3), a percentage (99.5%), a duration (300ms, 20s) or a rate (50/s); found "x"',
    ]);
  });

  it('points a missing key at its parent mapping', () => {
    const text = 'apiVersion: gameday/v1\nkind: Experiment\nmetadata:\n  labels: { a: b }\nspec:\n  probes: {}\n';
    expect(shown(issuesOf(text))).to.deep.equal([
      '4:3 metadata.name: missing; this key is required',
      '6:3 spec.duration: missing; this key is required',
    ]);
    expect(shown(issuesOf('apiVersion: gameday/v1\n'))).to.deep.equal([
      '1:1 kind: missing; this key is required',
      '1:1 metadata: missing; this key is required',
      '1:1 spec: missing; this key is required',
    ]);
  });

  it('demands exactly one kind key per fault and per probe', () => {
    const text = minimal(`  duration: 1m
  probes:
    web: {}
  faults:
    - { at: 1s }
    - { at: 2s, testFault: { nodes: {}, count: 1 }, fillFault: { pods: { namespace: a }, path: /d, fill: 1Gi } }
`);
    expect(shown(issuesOf(text))).to.deep.equal([
      '8:10 spec.probes.web: needs a probe kind: one of pdb, testProbe',
      '10:7 spec.faults[0]: needs a fault kind: one of fillFault, testFault',
      '11:7 spec.faults[1]: has "fillFault" and "testFault", but takes exactly one fault kind; split it into one fault each',
    ]);
  });

  it('does not count a kind whose parameters have defaults as present when its key is absent', () => {
    const regs = testRegistries();
    regs.probes.register({ kind: 'defaultsProbe', summary: 'all parameters optional', params: z.strictObject({ every: durationSchema.optional() }).default({}), start: () => Promise.reject(new Error('unused')) });
    const text = minimal('  duration: 1m\n  probes:\n    web: { testProbe: { service: a } }\n    tick: { defaultsProbe: {} }\n');
    const spec = loadExperimentText(text, fixture('inline.yaml'), regs);
    expect(spec.probes.map((p) => [p.name, p.kind])).to.deep.equal([
      ['web', 'testProbe'],
      ['tick', 'defaultsProbe'],
    ]);
  });

  it('suggests fault fields and lists kinds when nothing is close', () => {
    const text = minimal('  duration: 1m\n  faults:\n    - { at: 1s, fro: 2s, testFault: { nodes: {}, count: 1 } }\n    - { at: 1s, zzzzzzzzzz: {} }\n');
    expect(shown(issuesOf(text))).to.deep.equal([
      '8:17 spec.faults[0].fro: unknown key; did you mean "for"?',
      '9:17 spec.faults[1].zzzzzzzzzz: unknown fault "zzzzzzzzzz"; known: fillFault, testFault (a fault also takes at, for, name)',
    ]);
  });

  it('reports duplicate keys along with the other problems', () => {
    const text = minimal(`  duration: 1m
  probes:
    web: { testProbe: { service: a } }
    web: { testProbe: { service: b } }
  slos: [ "p99(web) < 1" ]
`);
    expect(shown(issuesOf(text))).to.deep.equal([
      '9:5 spec.probes.web: duplicate key; each key may appear only once in a mapping',
      '10:11 spec.slos[0]: p99 compares a latency: write the threshold as a duration, like 300ms or 1s (not 1)',
    ]);
  });

  it('says how to write each kind of value', () => {
    const text = minimal(`  duration: 0s
  blastRadius: { maxNodes: 1.5, maxPodPercent: 150 }
  steadyState: { timeout: soon }
  probes:
    web: { testProbe: { service: 80, rate: fast } }
  faults:
    - { at: 1s, fillFault: { pods: { namespace: a }, path: /d, fill: 120% } }
    - { at: 1s, fillFault: { pods: { namespace: a }, path: /d, fill: lots } }
`);
    expect(shown(issuesOf(text))).to.deep.equal([
      '6:13 spec.duration: must be longer than 0s',
      '7:28 spec.blastRadius.maxNodes: expected a whole number, got 1.5',
      '7:48 spec.blastRadius.maxPodPercent: must be at most 100',
      '8:27 spec.steadyState.timeout: "soon" is not a duration; write it like 500ms, 30s, 2m or 1m30s',
      '10:34 spec.probes.web.testProbe.service: expected text, got 80',
      '10:44 spec.probes.web.testProbe.rate: "fast" is not a rate; write it like 50/s (per second) or 120/m (per minute)',
      '12:70 spec.faults[0].fillFault.fill: a percentage is at most 100%',
      '13:70 spec.faults[1].fillFault.fill: "lots" is neither a size nor a percentage; write it like 512Mi, 2Gi or 95%',
    ]);
  });

  it('rejects probe names that checks could not name', () => {
    const text = minimal('  duration: 1m\n  probes:\n    "my probe": { testProbe: { service: a } }\n');
    expect(shown(issuesOf(text))).to.deep.equal(['8:5 spec.probes["my probe"]: "my probe" cannot name a probe: use letters, digits, "_" and "-", starting with a letter']);
  });

  it('reports YAML that cannot be an experiment', () => {
    expect(shown(issuesOf(''))).to.deep.equal(['1:1 : the file is empty; an experiment starts with "apiVersion: gameday/v1" and "kind: Experiment"']);
    expect(shown(issuesOf('# nothing but a comment\n'))).to.have.length(1);
    expect(shown(issuesOf('- a\n- b\n'))).to.deep.equal(['1:1 : an experiment is a YAML mapping of keys (apiVersion, kind, metadata, spec), but this file holds a list']);
    expect(shown(issuesOf(`${minimal('  duration: 1m\n')}---\napiVersion: gameday/v1\n`))).to.deep.equal([
      '7:1 : a file holds one experiment, but this is a second YAML document (after "---"); put each experiment in its own file',
    ]);
    const syntax = issuesOf('apiVersion: gameday/v1\nmetadata: { name: x\nspec: 1\n');
    expect(syntax).to.have.length.greaterThan(0);
    expect(syntax[0]!.message).to.match(/^YAML syntax: /);
    expect(syntax[0]!.line).to.be.greaterThan(1);
    expect(shown(issuesOf('apiVersion: &a [*a]\n'))).to.deep.equal(['1:17 apiVersion[0]: alias *a refers to a value that contains it, which never ends']);
    expect(shown(issuesOf(minimal('  duration: 1m\n  probes:\n    __proto__: { testProbe: { service: a } }\n')))).to.deep.equal([
      '8:5 spec.probes.__proto__: the key "__proto__" is not allowed',
    ]);
  });

  it('refuses aliases that expand without bound', () => {
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const name of 'bcdefgh') laughs.push(`${name}: &${name} [${Array(9).fill(`*${String.fromCharCode(name.charCodeAt(0) - 1)}`).join(', ')}]`);
    const issues = issuesOf(`${laughs.join('\n')}\n`);
    expect(issues).to.have.length(1);
    expect(issues[0]!.message).to.match(/^cannot expand this YAML: Excessive alias count/);
  });

  it('refuses more than MAX_ALIASES aliases, at the first one too many', () => {
    const aliases = Array.from({ length: MAX_ALIASES + 50 }, () => '*x').join(', ');
    expect(shown(issuesOf(minimal(`  duration: 1m\n  x: &x 1\n  y: [${aliases}]\n`)))).to.deep.equal([
      `8:${7 + 4 * MAX_ALIASES} spec.y[${MAX_ALIASES}]: this is alias number ${MAX_ALIASES + 1}, but a file may hold at most ${MAX_ALIASES} aliases (*name); write some of the values out instead`,
    ]);
  });

  it('refuses keys that are not plain text', () => {
    expect(shown(issuesOf(minimal('  duration: 1m\n  ? [a, b]\n  : 1\n')))).to.deep.equal(['7:5 spec: a key must be plain text, not a list or mapping']);
  });

  it('refuses lists and mappings nested deeper than MAX_NESTING, where the level too many opens', () => {
    const tooDeep = `lists and mappings nest more than ${MAX_NESTING} levels deep here, which gameday refuses (an experiment needs fewer than 10); check that this is the experiment file you meant and that its brackets are closed`;
    expect(shown(issuesOf('['.repeat(1_000_000)))).to.deep.equal([`1:${MAX_NESTING + 1} : ${tooDeep}`]);
    expect(shown(issuesOf(`a: ${'{b: '.repeat(MAX_NESTING)}1${'}'.repeat(MAX_NESTING)}\n`))).to.deep.equal([`1:${4 * MAX_NESTING} : ${tooDeep}`]);
    expect(shown(issuesOf(`${'- '.repeat(500_000)}x\n`))).to.deep.equal([`1:${2 * MAX_NESTING + 1} : ${tooDeep}`]);
    const indented = Array.from({ length: 2 * MAX_NESTING }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
    expect(shown(issuesOf(`${indented}\n`))).to.deep.equal([`${MAX_NESTING + 1}:${MAX_NESTING + 1} : ${tooDeep}`]);
  });

  it('reads lists and mappings nested MAX_NESTING deep', () => {
    // The document and spec mappings are two levels; the lists make up the rest.
    const lists = MAX_NESTING - 2;
    const text = minimal(`  duration: 1m\n  x: ${'['.repeat(lists)}1${']'.repeat(lists)}\n`);
    expect(shown(issuesOf(text))).to.deep.equal(['7:3 spec.x: unknown key; allowed here: workloads, duration, blastRadius, steadyState, probes, faults, steps, slos, abort']);
  });

  it('refuses text larger than MAX_EXPERIMENT_BYTES, naming the limit', () => {
    const text = `${minimal('  duration: 1m\n')}#${'x'.repeat(MAX_EXPERIMENT_BYTES)}\n`;
    const bytes = Buffer.byteLength(text).toLocaleString('en-US');
    expect(shown(issuesOf(text))).to.deep.equal([
      `1:1 : the file is ${bytes} bytes, but an experiment file may be at most 1 MiB (1,048,576 bytes); check that this is the experiment file you meant, or split it into several experiments`,
    ]);
  });

  it('locates every one of many unknown keys on its own line', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1`);
    const issues = issuesOf(minimal(`  duration: 1m\n${keys.join('\n')}\n`));
    expect(issues).to.have.length(keys.length);
    issues.forEach((issue, i) => expect(`${issue.line}:${issue.column} ${issue.path}`).to.equal(`${i + 7}:3 spec.k${i}`));
  });

  it('resolves anchors and aliases', () => {
    const text = minimal(`  duration: 1m
  faults:
    - { at: 1s, testFault: &drain { nodes: { labels: { role: worker } }, count: 1 } }
    - { at: 2s, testFault: *drain }
`);
    const spec = loadExperimentText(text, fixture('inline.yaml'), registries);
    expect(spec.faults[1]!.params).to.deep.equal(spec.faults[0]!.params);
  });
});

describe('loading files', () => {
  let dir: string;
  const valid = (name: string) => `apiVersion: gameday/v1\nkind: Experiment\nmetadata: { name: ${name} }\nspec: { duration: 1m }\n`;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gameday-spec-'));
    await mkdir(join(dir, 'nested/workloads'), { recursive: true });
    await mkdir(join(dir, '.hidden'));
    await writeFile(join(dir, 'b.yaml'), valid('b'));
    await writeFile(join(dir, 'a.yml'), valid('a'));
    await writeFile(join(dir, 'notes.txt'), 'not an experiment');
    await writeFile(join(dir, 'nested/c.yaml'), 'apiVersion: gameday/v1\nkind: Experiment\nmetadata: { name: c }\nspec: { duration: soon }\n');
    await writeFile(join(dir, 'nested/workloads/web.yaml'), 'apiVersion: apps/v1\nkind: Deployment\n');
    await writeFile(join(dir, '.hidden/d.yaml'), valid('d'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('collects experiment files from directories, sorted, skipping manifests and hidden directories', async () => {
    expect(await collectExperimentFiles([dir])).to.deep.equal([join(dir, 'a.yml'), join(dir, 'b.yaml'), join(dir, 'nested/c.yaml')]);
  });

  it('takes a named file as it is', async () => {
    expect(await collectExperimentFiles([join(dir, 'notes.txt')])).to.deep.equal([join(dir, 'notes.txt')]);
  });

  it('names a path that does not exist', async () => {
    const missing = join(dir, 'nope.yaml');
    const err = await collectExperimentFiles([dir, missing]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(UsageError);
    expect((err as Error).message).to.contain(missing);
  });

  it('loads one file, or reports a missing one as a SpecError', async () => {
    expect((await loadExperimentFile(join(dir, 'b.yaml'), registries)).name).to.equal('b');
    const err = await loadExperimentFile(join(dir, 'gone.yaml'), registries).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SpecError);
    expect((err as SpecError).issues[0]).to.include({ file: join(dir, 'gone.yaml'), line: 1, column: 1 });
  });

  it('refuses a file larger than MAX_EXPERIMENT_BYTES as a SpecError naming it', async () => {
    const big = join(dir, 'big.yaml');
    await writeFile(big, `${valid('big')}#${'x'.repeat(MAX_EXPERIMENT_BYTES)}\n`);
    const err = await loadExperimentFile(big, registries).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SpecError);
    expect((err as SpecError).issues).to.have.length(1);
    expect((err as SpecError).issues[0]).to.include({ file: big, line: 1, column: 1 });
    expect((err as SpecError).issues[0]!.message).to.contain('at most 1 MiB');
  });

  it('reports a path with nothing there along with the other files\' problems', async () => {
    const missing = join(dir, 'nope.yaml');
    const { files, issues } = await loadExperiments([missing, join(dir, 'nested')], registries);
    expect(files).to.deep.equal([join(dir, 'nested/c.yaml')]);
    expect(issues.map((i) => `${i.file} ${i.message}`)).to.deep.equal([
      `${missing} no such file or directory`,
      `${join(dir, 'nested/c.yaml')} "soon" is not a duration; write it like 500ms, 30s, 2m or 1m30s`,
    ]);
  });

  it('loads every experiment and gathers every file\'s issues', async () => {
    const { specs, issues } = await loadExperiments([dir], registries);
    expect(specs.map((s) => s.name)).to.deep.equal(['a', 'b']);
    expect(shown(issues)).to.deep.equal(['4:19 spec.duration: "soon" is not a duration; write it like 500ms, 30s, 2m or 1m30s']);
    expect(issues[0]!.file).to.equal(join(dir, 'nested/c.yaml'));
  });
});
