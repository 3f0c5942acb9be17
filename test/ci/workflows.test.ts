import { expect } from 'chai';
import { execa } from 'execa';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { OUTCOMES } from '../../src/core/outcome.js';
import { runCommand } from '../../src/nodes/command-runner.js';
import { tempDir } from '../cli/cli-process.js';
import { compositeActionProblems, stepsAsWorkflow, type CompositeAction } from './composite-action.js';
import { useLintTools } from './lint-tools.js';

const WORKFLOWS = '.github/workflows';
const ACTION = '.github/actions/game-day/action.yml';

type Step = Record<string, unknown> & { readonly with?: Record<string, string>; readonly env?: Record<string, string> };
type Workflow = { readonly jobs: Record<string, { readonly steps: readonly Step[] }> };

function workflowFiles(): string[] {
  return readdirSync(WORKFLOWS)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(WORKFLOWS, f));
}

function readYaml<T>(file: string): T {
  return parse(readFileSync(file, 'utf8')) as T;
}

describe('GitHub Actions workflows and the game-day action, linted by actionlint', function () {
  this.timeout(30_000);
  const tools = useLintTools();
  let dir: string;
  before(() => (dir = tempDir('gameday-actionlint-')));
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  async function actionlint(files: readonly string[]): Promise<{ exitCode: number; output: string }> {
    const r = await runCommand([tools.actionlint, '-no-color', '-oneline', ...files]);
    return { exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`.trim() };
  }

  it('passes every workflow, with the inputs each passes to the game-day action', async () => {
    const files = workflowFiles();
    expect(files).to.include.members([`${WORKFLOWS}/ci.yml`, `${WORKFLOWS}/nightly-game-day.yml`]);
    const r = await actionlint(files);
    expect(r.output, 'actionlint output').to.equal('');
    expect(r.exitCode).to.equal(0);
  });

  it("passes the game-day action's steps, checked as a job with the action's inputs", async () => {
    const file = path.join(dir, 'game-day-steps.yml');
    writeFileSync(file, stepsAsWorkflow(readYaml<CompositeAction>(ACTION)));
    const r = await actionlint([file]);
    expect(r.output, `actionlint on the steps of ${ACTION}`).to.equal('');
    expect(r.exitCode).to.equal(0);
  });

  it('flags a broken workflow: a misspelt action input and an expression naming no step', async () => {
    const file = path.join(dir, 'broken.yml');
    writeFileSync(
      file,
      [
        'on: push',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - uses: actions/checkout@v6',
        '        with: { fetch-dept: 1 }',
        '      - run: echo "${{ steps.missing.outputs.code }}"',
        '',
      ].join('\n'),
    );
    const r = await actionlint([file]);
    expect(r.exitCode).to.equal(1);
    expect(r.output).to.contain('broken.yml:7:').and.to.contain('"fetch-dept" is not defined');
    expect(r.output).to.contain('broken.yml:8:').and.to.contain('missing');
  });
});

describe('the game-day composite action', () => {
  const text = readFileSync(ACTION, 'utf8');
  const action = parse(text) as CompositeAction;

  it('declares its name, description and inputs, a shell on every script, and uses only what it declares', () => {
    expect(compositeActionProblems(text)).to.deep.equal([]);
  });

  it('rejects an action with a script without shell, an undeclared input and a missing step id', () => {
    const broken = [
      'name: broken',
      'description: a composite action GitHub would refuse to load',
      'inputs: { tags: { description: which experiments } }',
      'outputs: { code: { description: exit code, value: "${{ steps.gameday.outputs.code }}" } }',
      'runs:',
      '  using: composite',
      '  steps:',
      '    - run: gameday run --tags "${{ inputs.tag }}"',
      '',
    ].join('\n');
    expect(compositeActionProblems(broken)).to.deep.equal([
      'runs.steps[0]: runs a script without shell: (composite steps have no default shell)',
      'inputs.tag: used in an expression but not declared under inputs:',
      'steps.gameday: used in an expression but no step has id: gameday',
    ]);
    expect(compositeActionProblems('name: x\nruns: { using: node20 }\n')).to.include.members([
      'description: required, a non-empty string',
      'inputs: required, a mapping of input names',
      'runs.using: is "node20", must be composite',
    ]);
  });

  it("describes its exit-code output with gameday's exit-code table", () => {
    const listed = /\((.*)\)/.exec(action.outputs!['exit-code']!.description!)![1];
    expect(listed).to.equal(OUTCOMES.map((o) => `${o.exitCode} ${o.outcome}`).join(', '));
  });

  describe('its run step, with gameday replaced by a stand-in that records its arguments', function () {
    this.timeout(20_000);
    const step = action.runs!.steps!.find((s) => s.id === 'run') as Step & { run: string };
    let home: string;
    before(() => {
      home = tempDir('gameday-action-');
      mkdirSync(path.join(home, 'dist/cli'), { recursive: true });
      writeFileSync(
        path.join(home, 'dist/cli/main.js'),
        "require('node:fs').writeFileSync(process.env.ARGV_FILE, JSON.stringify(process.argv.slice(2)));\nprocess.exit(Number(process.env.STAND_IN_EXIT));\n",
      );
    });
    after(() => home && rmSync(home, { recursive: true, force: true }));

    /** The step as the runner runs it: its env: with the expressions filled in, under `bash -eo pipefail`. */
    async function runStep(inputs: Record<string, string>, exitCode: number) {
      const value = (name: string): string => inputs[name] ?? action.inputs![name]?.default ?? '';
      const env = Object.fromEntries(
        Object.entries(step.env!).map(([k, v]) => [
          k,
          v.replace(/\$\{\{\s*(inputs\.([\w-]+)|github\.action_path)\s*\}\}/g, (_, _expr: string, input?: string) =>
            input ? value(input) : path.join(home, '.github/actions/game-day'),
          ),
        ]),
      );
      const script = path.join(home, 'step.sh');
      const outputFile = path.join(home, 'github-output');
      writeFileSync(script, step.run);
      writeFileSync(outputFile, '');
      const argvFile = path.join(home, 'argv.json');
      const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
        cwd: home,
        reject: false,
        env: { ...env, GITHUB_OUTPUT: outputFile, ARGV_FILE: argvFile, STAND_IN_EXIT: String(exitCode) },
      });
      const outputs = Object.fromEntries(
        readFileSync(outputFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => line.split(/=(.*)/s).slice(0, 2)),
      );
      return { exitCode: r.exitCode, stdout: r.stdout, argv: JSON.parse(readFileSync(argvFile, 'utf8')) as string[], outputs };
    }

    it('turns the inputs into gameday run arguments, word by word and never as globs', async () => {
      const r = await runStep(
        {
          experiments: 'experiments/\nmore/*.yaml',
          context: 'kind-gameday',
          'allow-context': 'kind-gameday kind-*',
          tags: 'suite=nightly',
          'reports-dir': 'out',
          args: '--seed 42',
        },
        0,
      );
      expect(r.argv).to.deep.equal([
        'run', 'experiments/', 'more/*.yaml', '--out', path.join(home, 'out'),
        '--context', 'kind-gameday', '--allow-context', 'kind-gameday', '--allow-context', 'kind-*',
        '--tags', 'suite=nightly', '--seed', '42',
      ]);
      expect(r.exitCode).to.equal(0);
      expect(r.outputs).to.deep.equal({
        'reports-dir': path.join(home, 'out'),
        'junit-files': path.join(home, 'out/*/junit.xml'),
        'history-file': path.join(home, 'out/history.ndjson'),
        'exit-code': '0',
      });
    });

    it('runs on the embedded cluster with the defaults', async () => {
      const r = await runStep({}, 0);
      expect(r.argv).to.deep.equal(['run', 'experiments/', '--out', path.join(home, 'reports')]);
    });

    it("fails the step with gameday's exit code, or with fail-on-outcome false only reports it", async () => {
      const failing = await runStep({}, 3);
      expect(failing.exitCode).to.equal(3);
      expect(failing.outputs['exit-code']).to.equal('3');
      expect(failing.stdout).to.contain('::error title=Game day did not pass::gameday exited 3');
      const reported = await runStep({ 'fail-on-outcome': 'false' }, 3);
      expect(reported.exitCode).to.equal(0);
      expect(reported.outputs['exit-code']).to.equal('3');
    });
  });
});

describe('the nightly game-day workflow', () => {
  const steps = readYaml<Workflow>(`${WORKFLOWS}/nightly-game-day.yml`).jobs['game-day']!.steps;
  const named = (uses: string): Step => steps.find((s) => typeof s.uses === 'string' && s.uses.startsWith(uses))!;
  const gameDay = named('./.github/actions/game-day');
  const reports = gameDay.with!['reports-dir']!;

  it("runs the game day on the context of kind-config.yaml's cluster, allowed explicitly", () => {
    const kind = named('helm/kind-action').with!;
    expect(kind.config).to.equal('kind-config.yaml');
    const configName = readYaml<{ name: string }>('kind-config.yaml').name;
    expect(kind.cluster_name).to.equal(configName);
    expect(gameDay.with!.context).to.equal(`kind-${configName}`);
    expect(gameDay.with!['allow-context']).to.equal(`kind-${configName}`);
  });

  it('restores the history before the game day and saves it after, even when the game day failed', () => {
    const restore = named('actions/cache/restore');
    const save = named('actions/cache/save');
    expect(steps.indexOf(restore)).to.be.lessThan(steps.indexOf(gameDay));
    expect(steps.indexOf(save)).to.be.greaterThan(steps.indexOf(gameDay));
    for (const cache of [restore, save]) expect(cache.with!.path).to.equal(`${reports}/history.ndjson`);
    expect(save.if).to.match(/^always\(\)/);
    expect(restore.with!['restore-keys']).to.be.a('string').and.satisfy((prefix: string) => restore.with!.key!.startsWith(prefix));
  });

  it("uploads the reports and publishes the JUnit files whatever happened, then ends the job by gameday's exit code", () => {
    expect(named('actions/upload-artifact').with!.path).to.equal(`${reports}/`);
    expect(named('mikepenz/action-junit-report').with!.report_paths).to.equal(`${reports}/*/junit.xml`);
    for (const s of [named('actions/upload-artifact'), named('mikepenz/action-junit-report')]) expect(s.if).to.match(/^always\(\)/);
    expect(gameDay.with!['fail-on-outcome']).to.equal('false');
    const last = steps.at(-1)!;
    expect(last.env!.EXIT_CODE).to.equal(`\${{ steps.${gameDay.id as string}.outputs.exit-code }}`);
    expect(last.run).to.contain('exit "${EXIT_CODE');
  });
});

describe("the project's CI workflow", () => {
  it('lints, typechecks, and runs .ci/run (which runs npm test)', () => {
    const jobs = readYaml<Workflow>(`${WORKFLOWS}/ci.yml`).jobs;
    const scripts = Object.values(jobs).flatMap((j) => j.steps.map((s) => s.run).filter(Boolean));
    expect(scripts).to.include.members(['npm run lint', 'npm run typecheck', 'bash .ci/run']);
    expect(readFileSync('.ci/run', 'utf8')).to.match(/^npm test$/m);
  });
});
