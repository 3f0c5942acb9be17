import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { bundleK6Script } from '../../../src/probes/k6/script.js';

const FIXTURES = path.resolve('test/fixtures/k6');

function typeErrors(files: readonly string[]): string[] {
  const config = ts.readConfigFile(path.join(FIXTURES, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, FIXTURES);
  const program = ts.createProgram(files, parsed.options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('k6 probe', function () {
  this.timeout(30_000);

  describe('scripts', () => {
    it('type-checks a TypeScript k6 script against @types/k6, and catches a wrong one', () => {
      expect(typeErrors([path.join(FIXTURES, 'shop.ts')])).to.deep.equal([]);
      const host = ts.createCompilerHost({});
      const source = "import http from 'k6/http';\nconst r = http.get(42);\nexport default r;\n";
      const file = path.join(FIXTURES, 'inline-wrong.ts');
      const getSourceFile = host.getSourceFile.bind(host);
      host.getSourceFile = (name, lang) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang));
      const config = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(FIXTURES, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, FIXTURES);
      const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram([file], config.options, host));
      expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n')).to.contain("'number' is not assignable");
    });

    it('bundles the script into one module: local imports inlined, k6 modules left to k6', async () => {
      const js = await bundleK6Script(path.join(FIXTURES, 'shop.ts'));
      expect(js).to.match(/from "k6"/);
      expect(js).to.match(/from "k6\/http"/);
      expect(js).to.contain('/healthz');
      expect(js).not.to.contain('./lib/paths');
      expect(js).not.to.match(/: string/);
    });

    it('names the file, line and column of a script that does not compile', async () => {
      // Written at test time: a file that does not compile cannot live in the type-checked tree.
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'gameday-k6-')), 'broken.ts');
      writeFileSync(file, "import http from 'k6/http';\n\nexport default function (): void {\n  http.get('http://127.0.0.1/' +;\n}\n");
      const message = await bundleK6Script(file).then(() => '', (e: Error) => e.message);
      expect(message).to.contain(`${file}:4:`);
    });
  });
});
