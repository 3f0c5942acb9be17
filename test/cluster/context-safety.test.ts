import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { assertContextAllowed } from '../../src/cluster/context-safety.js';
import { UsageError } from '../../src/core/errors.js';
import type { ClusterRef } from '../../src/journal/events.js';

const context = (name: string): ClusterRef => ({ kind: 'kubeconfig', name, context: name });

async function refusal(run: () => Promise<void>): Promise<string> {
  try {
    await run();
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  expect.fail('expected the context to be refused');
}

describe('assertContextAllowed', () => {
  let dir: string;
  let allowlist: string;
  const savedCwd = process.cwd();
  const savedEnv = process.env.GAMEDAY_ALLOWLIST;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gameday-allow-'));
    allowlist = path.join(dir, 'allow');
    await writeFile(allowlist, ['# contexts gameday may touch', 'staging-*', '  team-a  # with a trailing comment', '# prod-east', ''].join('\n'));
    // An empty directory, so a developer's own .gameday-allow cannot decide the tests.
    process.chdir(dir);
    delete process.env.GAMEDAY_ALLOWLIST;
  });

  afterEach(async () => {
    process.chdir(savedCwd);
    if (savedEnv === undefined) delete process.env.GAMEDAY_ALLOWLIST;
    else process.env.GAMEDAY_ALLOWLIST = savedEnv;
    await rm(dir, { recursive: true, force: true });
  });

  it('always allows the embedded cluster and the gameday-sim context', async () => {
    await assertContextAllowed({ kind: 'embedded', name: 'anything' }, { allowContexts: [] });
    await assertContextAllowed(context('gameday-sim'), { allowContexts: [] });
  });

  it('refuses a kind cluster nobody listed, naming it and both ways to allow it', async () => {
    const message = await refusal(() => assertContextAllowed(context('kind-gameday'), { allowContexts: [] }));
    expect(message).to.include('"kind-gameday"');
    expect(message).to.include('--allow-context kind-gameday');
    expect(message).to.include(path.join(dir, '.gameday-allow'));
    expect(message).to.include('$GAMEDAY_ALLOWLIST');
  });

  it('allows a context named by --allow-context, also as a glob', async () => {
    await assertContextAllowed(context('kind-gameday'), { allowContexts: ['kind-gameday'] });
    await assertContextAllowed(context('kind-ci-42'), { allowContexts: ['kind-ci-*'] });
    await refusal(() => assertContextAllowed(context('kind-ci'), { allowContexts: ['kind-ci-*'] }));
  });

  it('allows names and globs from an allowlist file and ignores comments', async () => {
    await assertContextAllowed(context('staging-eu'), { allowContexts: [], allowlistFile: allowlist });
    await assertContextAllowed(context('team-a'), { allowContexts: [], allowlistFile: allowlist });
    await refusal(() => assertContextAllowed(context('prod-east'), { allowContexts: [], allowlistFile: allowlist }));
    await refusal(() => assertContextAllowed(context('prestaging-eu'), { allowContexts: [], allowlistFile: allowlist }));
  });

  it('treats glob-free punctuation literally', async () => {
    await writeFile(allowlist, 'a.b\n');
    await refusal(() => assertContextAllowed(context('axb'), { allowContexts: [], allowlistFile: allowlist }));
    await assertContextAllowed(context('a.b'), { allowContexts: [], allowlistFile: allowlist });
  });

  it('reads .gameday-allow in the current directory by default', async () => {
    await refusal(() => assertContextAllowed(context('staging-us'), { allowContexts: [] }));
    await writeFile(path.join(dir, '.gameday-allow'), 'staging-us\n');
    await assertContextAllowed(context('staging-us'), { allowContexts: [] });
  });

  it('reads the file $GAMEDAY_ALLOWLIST names', async () => {
    process.env.GAMEDAY_ALLOWLIST = allowlist;
    await assertContextAllowed(context('staging-us'), { allowContexts: [] });
  });

  it('uses the context of the ref, falling back to its name', async () => {
    await assertContextAllowed({ kind: 'kubeconfig', name: 'staging-x' }, { allowContexts: [], allowlistFile: allowlist });
    await refusal(() => assertContextAllowed({ kind: 'kubeconfig', name: 'staging-x', context: 'prod' }, { allowContexts: [], allowlistFile: allowlist }));
  });

  it('refuses an allowlist file that was named but does not exist', async () => {
    const missing = path.join(dir, 'nope');
    const message = await refusal(() => assertContextAllowed(context('staging-eu'), { allowContexts: [], allowlistFile: missing }));
    expect(message).to.include(missing);
    expect(message).to.include('does not exist');
  });
});
