import { expect } from 'chai';
import { ESLint } from 'eslint';

/**
 * The data flow of docs/architecture.md as lint rules: the engine and the reporters meet only in src/journal
 * and src/core; reporters never import the engine or the probes; and the embedded cluster is
 * reachable only from src/sim itself, its node-access provider and the CLI. Each rule is shown to
 * fire on a file that breaks it, and to stay quiet on the imports the design allows.
 */
describe('import-direction lint rules', function () {
  this.timeout(60_000);
  const eslint = new ESLint();

  async function problems(file: string, from: string): Promise<string[]> {
    const code = `import { x } from '${from}';\nexport const y = x;\n`;
    const [result] = await eslint.lintText(code, { filePath: file });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  async function expectRefused(file: string, from: string, because: string): Promise<void> {
    const found = await problems(file, from);
    expect(found, `${file} importing ${from}`).to.have.length(1);
    expect(found[0], `${file} importing ${from}`).to.contain(because);
  }

  async function expectAllowed(file: string, from: string): Promise<void> {
    expect(await problems(file, from), `${file} importing ${from}`).to.deep.equal([]);
  }

  it('refuses an engine import in a reporter', async () => {
    await expectRefused('src/report/example.ts', '../engine/runner.js', 'never import the engine');
    await expectRefused('src/report/html/example.ts', '../../engine/recover.js', 'never import the engine');
  });

  it('refuses a report import in the engine', async () => {
    await expectRefused('src/engine/example.ts', '../report/index.js', 'never imports a reporter');
    await expectRefused('src/engine/example.ts', '../report/html/render-report.js', 'never imports a reporter');
  });

  it('refuses a probe import in a reporter, also from a probe kind in its own folder', async () => {
    await expectRefused('src/report/example.ts', '../probes/http.js', 'never import probes');
    await expectRefused('src/report/example.ts', '../probes/http/http.js', 'never import probes');
    await expectRefused('src/report/html/example.ts', '../../probes/pdb/pdb.js', 'never import probes');
  });

  it('lets the engine and the reporters meet in src/journal and src/core', async () => {
    for (const file of ['src/engine/example.ts', 'src/report/example.ts']) {
      await expectAllowed(file, '../journal/events.js');
      await expectAllowed(file, '../journal/reader.js');
      await expectAllowed(file, '../journal/observer.js');
      await expectAllowed(file, '../core/outcome.js');
    }
    await expectAllowed('src/report/html/example.ts', '../../journal/events.js');
    await expectAllowed('src/engine/example.ts', '../probes/probe.js');
  });

  it('refuses a sim import outside src/sim, the CLI and the sim node-access provider', async () => {
    for (const file of ['src/faults/example.ts', 'src/faults/node-drain/example.ts', 'src/engine/example.ts', 'src/report/example.ts', 'src/nodes/kind-node-access.ts', 'src/plan/example.ts', 'src/journal/example.ts']) {
      await expectRefused(file, '../sim/store.js', 'embedded cluster');
    }
    await expectRefused('src/probes/http/example.ts', '../../sim/index.js', 'embedded cluster');
    await expectAllowed('src/nodes/sim-node-access.ts', '../sim/store.js');
    await expectAllowed('src/cli/example.ts', '../sim/index.js');
    await expectAllowed('src/cli/commands/example.ts', '../../sim/index.js');
    await expectAllowed('src/sim/api/example.ts', '../../sim/store.js');
  });

  it('passes on the whole source tree', async function () {
    // Every file of src and test, parsed: a minute or more when the other test lane is busy too.
    this.timeout(240_000);
    const results = await eslint.lintFiles(['src', 'test']);
    const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(errors).to.deep.equal([]);
  });
});
