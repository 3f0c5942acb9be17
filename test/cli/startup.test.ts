import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { runCli, tempDir } from './cli-process.js';

/**
 * A module-resolution hook, loaded into the CLI process through NODE_OPTIONS, that appends every
 * module URL the process resolves to the file named by $GAMEDAY_IMPORT_TRACE. Written
 * synchronously, so the list is complete even though the CLI ends with process.exit().
 */
const TRACE_HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.GAMEDAY_IMPORT_TRACE, resolved.url + '\\n');
  return resolved;
}`;
const REGISTER_TRACE = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(TRACE_HOOKS)}`)});`;

/** Runs the built CLI and returns the package names of every module it loaded from node_modules. */
async function packagesLoadedBy(args: readonly string[]): Promise<Set<string>> {
  const trace = path.join(tempDir(), 'imports.txt');
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --import=data:text/javascript,${encodeURIComponent(REGISTER_TRACE)}`.trim();
  const r = await runCli(args, { env: { NODE_OPTIONS: nodeOptions, GAMEDAY_IMPORT_TRACE: trace } });
  expect(r.code, r.stderr).to.equal(0);
  const urls = readFileSync(trace, 'utf8').split('\n');
  return new Set(urls.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter((name) => name !== undefined));
}

describe('CLI start-up: what a command that needs no browser does not load', function () {
  this.timeout(30_000);

  it('gameday validate never loads playwright-core', async () => {
    const loaded = await packagesLoadedBy(['validate', 'experiments/']);
    expect(loaded, 'the trace saw the YAML parser validate needs').to.include('yaml');
    expect(loaded).to.not.include('playwright-core');
  });

  it('gameday --help never loads playwright-core', async () => {
    const loaded = await packagesLoadedBy(['--help']);
    expect(loaded, 'the trace saw the argument parser').to.include('commander');
    expect(loaded).to.not.include('playwright-core');
    expect(loaded, 'no command module is loaded for --help').to.not.include('@kubernetes/client-node');
  });
});
