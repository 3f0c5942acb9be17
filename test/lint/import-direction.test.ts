import { expect } from 'chai';
import { ESLint } from 'eslint';

/**
 * The data flow of DESIGN.md as a lint rule: reporters observe and never import the engine, and
 * the embedded cluster is reachable only from src/sim itself, its node-access provider and the CLI.
 */
describe('import-direction lint rule', function () {
  this.timeout(60_000);
  const eslint = new ESLint();

  async function problems(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: file });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  it('refuses an engine import in a reporter', async () => {
    const found = await problems('src/report/example.ts', "import { runExperiment } from '../engine/runner.js';\nexport const x = runExperiment;\n");
    expect(found.join('\n')).to.contain('never import the engine');
  });

  it('refuses a sim import outside src/sim, the CLI and the sim node-access provider', async () => {
    const code = "import { ObjectStore } from '../sim/store.js';\nexport const x = ObjectStore;\n";
    expect((await problems('src/faults/example.ts', code)).join('\n')).to.contain('embedded cluster');
    expect((await problems('src/engine/example.ts', code)).join('\n')).to.contain('embedded cluster');
    expect(await problems('src/nodes/sim-node-access.ts', code)).to.deep.equal([]);
    expect(await problems('src/cli/example.ts', "import { ObjectStore } from '../sim/store.js';\nexport const x = ObjectStore;\n")).to.deep.equal([]);
  });

  it('passes on the whole source tree', async () => {
    const results = await eslint.lintFiles(['src', 'test']);
    const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(errors).to.deep.equal([]);
  });
});
