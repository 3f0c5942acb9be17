import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDirectory } from '../../src/control-plane/locate.js';
import { runCommand } from '../../src/nodes/command-runner.js';

/** The version .ci/run builds, read from .ci/run so the two never disagree. */
export const ACTIONLINT_VERSION = /^ACTIONLINT_VERSION=(\S+)$/m.exec(readFileSync('.ci/run', 'utf8'))![1]!;

/** Where .ci/run installs actionlint: beside the control-plane build in gameday's cache directory. */
export const CACHED_ACTIONLINT = path.join(path.dirname(path.dirname(cacheDirectory())), 'tools', `actionlint-${ACTIONLINT_VERSION}`, 'actionlint');

const HOW_TO_GET =
  `run \`bash .ci/run\`, or \`GOTOOLCHAIN=local GOFLAGS=-mod=mod GOBIN=${path.dirname(CACHED_ACTIONLINT)} ` +
  `go install github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}\` (Go and the Go module proxy; about 15 s)`;

export interface LintTools {
  /** The actionlint executable, set once the `before` hook has run. */
  actionlint: string;
}

/**
 * Mocha hooks for a suite that needs actionlint: the cached build, else one on PATH, else the
 * suite is skipped saying how to get it. In CI, where .ci/run builds actionlint and installs
 * shellcheck (which actionlint checks `run:` scripts with), a missing one is a failure.
 */
export function useLintTools(): LintTools {
  const tools = {} as LintTools;
  before(async function () {
    for (const candidate of [CACHED_ACTIONLINT, 'actionlint']) {
      if ((await runCommand([candidate, '-version'])).exitCode === 0) {
        tools.actionlint = candidate;
        break;
      }
    }
    const shellcheck = (await runCommand(['shellcheck', '--version'])).exitCode === 0;
    const inCi = process.env.CI === 'true';
    if (!tools.actionlint) {
      const why = `actionlint is not installed: ${HOW_TO_GET}`;
      if (inCi) throw new Error(`actionlint must run in CI: ${why}`);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
    if (!shellcheck) {
      if (inCi) throw new Error('shellcheck must be installed in CI (.ci/run installs it), or actionlint skips every run: script');
      console.log('      note: shellcheck is not installed, so actionlint does not check the run: scripts (apt-get install shellcheck)');
    }
  });
  return tools;
}
