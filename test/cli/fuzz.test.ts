import { expect } from 'chai';
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { LISTED_ISSUES_PER_FILE } from '../../src/core/errors.js';
import { SeededRandom } from '../../src/core/rng.js';
import { MAX_EXPERIMENT_BYTES } from '../../src/spec/load.js';
import { MAX_NESTING } from '../../src/spec/yaml-source.js';
import { mutateExperiment } from '../spec/mutations.js';
import { runCli, tempDir, writeFile } from './cli-process.js';

const SHIPPED = 'experiments/pod-kill-keeps-web-up.yaml';
const FILES = 1000;
const STACK_LINE = /^\s+at .+[:(]\d+:\d+\)?$/m;

/** Runs the CLI's entry function in this process, capturing what it prints. */
async function validateInProcess(file: string): Promise<{ code: number; out: string }> {
  let out = '';
  const capture = (chunk: string | Uint8Array): boolean => ((out += String(chunk)), true);
  const [stdoutWrite, stderrWrite] = [process.stdout.write, process.stderr.write];
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    return { code: await main(['validate', file]), out };
  } finally {
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
  }
}

describe('gameday validate on mutated experiment files (fuzz)', function () {
  this.timeout(300_000);
  const dir = tempDir('gameday-fuzz-');
  cpSync('experiments/workloads', path.join(dir, 'workloads'), { recursive: true });
  const rng = new SeededRandom(424242);
  const valid = readFileSync(SHIPPED, 'utf8');
  for (let i = 0; i < FILES; i++) writeFile(dir, `m${String(i).padStart(4, '0')}.yaml`, mutateExperiment(valid, rng).text);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => path.join(dir, f));

  it(`answers each of ${FILES} files with success or a clean error, never a crash`, async () => {
    const codes = { ok: 0, invalid: 0 };
    for (const file of files) {
      const { code, out } = await validateInProcess(file);
      const context = `${file}:\n${readFileSync(file, 'utf8')}\n--- output ---\n${out}`;
      expect(code, context).to.be.oneOf([0, 2]);
      expect(out, context).not.to.match(STACK_LINE);
      expect(out, context).not.to.contain('internal error');
      if (code === 2) expect(out, context).to.match(/:\d+:\d+ /);
      codes[code === 0 ? 'ok' : 'invalid']++;
    }
    expect(codes.invalid, 'mutations rejected').to.be.greaterThan(FILES / 2);
    expect(codes.ok, 'mutations still valid').to.be.greaterThan(0);
  });

  it('gives the same clean answers from the real process, for all files at once and one by one', async () => {
    const all = await runCli(['validate', dir, '--json']);
    expect(all.code).to.equal(2);
    expect(all.stderr).not.to.match(STACK_LINE);
    const report = JSON.parse(all.stdout) as { issues: { file: string; line: number; column: number }[] };
    expect(report.issues.length).to.be.greaterThan(FILES / 2);
    for (const issue of report.issues) expect(issue.line).to.be.at.least(1);
    for (const file of files.slice(0, 10)) {
      const one = await runCli(['validate', file]);
      expect(one.code, one.stderr).to.be.oneOf([0, 2]);
      expect(one.stderr).not.to.match(STACK_LINE);
    }
  });
});

describe('gameday validate on huge and deeply nested files (fuzz, real process)', function () {
  this.timeout(300_000);
  const dir = tempDir('gameday-fuzz-large-');
  const HEAD = 'apiVersion: gameday/v1\nkind: Experiment\nmetadata: { name: large }\nspec: { duration: 1m }\n';
  const TOO_BIG = `an experiment file may be at most 1 MiB (${MAX_EXPERIMENT_BYTES.toLocaleString('en-US')} bytes)`;
  const TOO_DEEP = `lists and mappings nest more than ${MAX_NESTING} levels deep here`;
  /** `count` top-level keys the schema does not know, as short as they come. */
  const unknownKeys = (count: number): string => HEAD + Array.from({ length: count }, (_, i) => `x${i.toString(36)}:\n`).join('');

  async function validateClean(name: string, text: string): Promise<{ file: string; stderr: string }> {
    const file = writeFile(dir, name, text);
    const r = await runCli(['validate', file]);
    const context = `${name} (${text.length} characters):\n${r.stderr.slice(0, 2000)}`;
    expect(r.code, context).to.equal(2);
    expect(r.stderr, context).not.to.match(STACK_LINE);
    expect(r.stderr, context).not.to.contain('internal error');
    return { file, stderr: r.stderr };
  }

  it('refuses 5 MiB of opening brackets for its size, naming the file and the limit', async () => {
    const { file, stderr } = await validateClean('brackets-5mib.yaml', '['.repeat(5 * 2 ** 20));
    expect(stderr).to.contain(`${file}:1:1 the file is 5,242,880 bytes, but ${TOO_BIG}`);
    expect(stderr).to.match(/1 problem found\.\n$/);
  });

  it('refuses 5 MiB of unknown keys for its size', async () => {
    const text = unknownKeys(750_000);
    expect(text.length).to.be.greaterThan(5 * 10 ** 6);
    const { file, stderr } = await validateClean('keys-5mib.yaml', text);
    expect(stderr).to.contain(`${file}:1:1 the file is ${text.length.toLocaleString('en-US')} bytes, but ${TOO_BIG}`);
  });

  const tooDeep: Readonly<Record<string, { text: string; at: string }>> = {
    'a million opening brackets': { text: '['.repeat(1_000_000), at: `1:${MAX_NESTING + 1}` },
    'flow mappings nested half a million deep': { text: `a: ${'{a: '.repeat(250_000)}`, at: `1:${4 * MAX_NESTING}` },
    'a list of lists half a million deep': { text: `${'- '.repeat(500_000)}x\n`, at: `1:${2 * MAX_NESTING + 1}` },
    'mappings nested by indentation until the file is full': {
      text: Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      at: `${MAX_NESTING + 1}:${MAX_NESTING + 1}`,
    },
  };
  for (const [what, { text, at }] of Object.entries(tooDeep)) {
    it(`refuses ${what} at the level too deep, saying what to do`, async () => {
      expect(Buffer.byteLength(text)).to.be.at.most(MAX_EXPERIMENT_BYTES);
      const { file, stderr } = await validateClean('deep.yaml', text);
      expect(stderr).to.contain(`${file}:${at} ${TOO_DEEP}`);
      expect(stderr).to.contain('check that this is the experiment file you meant and that its brackets are closed');
    });
  }

  it('reports 125,000 unknown keys (once a stack overflow, exit 4) as the first 100 and a count of the rest', async () => {
    const { file, stderr } = await validateClean('keys-125k.yaml', unknownKeys(125_000));
    const lines = stderr.trimEnd().split('\n');
    expect(lines).to.have.length(LISTED_ISSUES_PER_FILE + 2);
    expect(lines[0]).to.equal(`${file}:5:1 x0: unknown key; allowed here: apiVersion, kind, metadata, spec`);
    expect(lines[LISTED_ISSUES_PER_FILE]).to.equal(`${file}: …and ${125_000 - LISTED_ISSUES_PER_FILE} more problems (only the first ${LISTED_ISSUES_PER_FILE} of each file are listed)`);
    expect(lines[LISTED_ISSUES_PER_FILE + 1]).to.equal('125000 problems found.');
  });

  it('reports a file of a million characters full of typos, with its --json listing every problem', async () => {
    const faults: string[] = [];
    for (let i = 0, size = HEAD.length; size < 990_000; i++) {
      const line = `    - { at: ${i}x, podKil: { pods: { namespace: shop } } }`;
      faults.push(line);
      size += line.length + 1;
    }
    const text = `${HEAD.replace('spec: { duration: 1m }\n', 'spec:\n  duration: 1m\n  faults:\n')}${faults.join('\n')}\n`;
    const { stderr } = await validateClean('typos.yaml', text);
    expect(stderr).to.contain('spec.faults[0].podKil: unknown fault "podKil"; did you mean "podKill"?');
    expect(stderr).to.contain(`${2 * faults.length} problems found.`);
    const json = await runCli(['validate', path.join(dir, 'typos.yaml'), '--json']);
    expect(json.code).to.equal(2);
    expect((JSON.parse(json.stdout) as { issues: unknown[] }).issues).to.have.length(2 * faults.length);
  });

  it('reports 250,000 extra YAML documents, and more aliases than a file may hold', async () => {
    const docs = await validateClean('documents.yaml', HEAD + '---\n'.repeat(250_000));
    expect(docs.stderr).to.contain('a file holds one experiment, but this is a second YAML document');
    expect(docs.stderr).to.contain('250000 problems found.');
    const chain = Array.from({ length: 20_000 }, (_, i) => `a${i}: &a${i} [${i === 0 ? 'x' : `*a${i - 1}`}]`).join('\n');
    const aliases = await validateClean('aliases.yaml', `${HEAD}${chain}\n`);
    expect(aliases.stderr).to.contain('aliases (*name); write some of the values out instead');
  });
});
