import { expect } from 'chai';
import { clusterDownCommand, clusterUpCommand } from '../../src/cli/commands/cluster.js';
import { HarnessError } from '../../src/core/errors.js';
import type { ExecResult } from '../../src/nodes/node-access.js';

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });

describe('gameday cluster up|down', () => {
  it('is a harness error (exit 4) naming what to install when kind is missing', async () => {
    const run = async (argv: readonly string[]): Promise<ExecResult> => (argv[0] === 'kind' ? { exitCode: 127, stdout: '', stderr: 'kind: command not found' } : ok());
    const err = await clusterUpCommand({ run, out: () => {} }).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(HarnessError);
    expect(err!.message).to.match(/^kind is not installed \(or not on PATH\): install it from https:\/\/kind\.sigs\.k8s\.io/);
  });

  it('says the engine is not running when docker info fails', async () => {
    const run = async (argv: readonly string[]): Promise<ExecResult> => (argv[0] === 'docker' ? { exitCode: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' } : ok());
    const err = await clusterUpCommand({ run, out: () => {} }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal('kind needs a container engine and docker is not running (`docker info` said: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start Docker (or set KIND_EXPERIMENTAL_PROVIDER=podman for podman), then run gameday cluster up again');
  });

  it('creates the cluster named in kind-config.yaml and prints the context and how to allow it', async () => {
    const shown: string[] = [];
    const lines: string[] = [];
    const code = await clusterUpCommand({ run: async () => ok(), runShown: async (argv) => (shown.push(argv.join(' ')), 0), out: (l) => lines.push(l) });
    expect(code).to.equal(0);
    expect(shown).to.have.length(1);
    expect(shown[0]).to.match(/^kind create cluster --name gameday --config \/.*\/kind-config\.yaml$/);
    expect(lines.join('\n')).to.contain('context kind-gameday').and.contain('--context kind-gameday --allow-context kind-gameday');
  });

  it('does not create it twice, and deletes it on down', async () => {
    const shown: string[] = [];
    const run = async (argv: readonly string[]): Promise<ExecResult> => (argv.join(' ') === 'kind get clusters' ? ok('gameday\n') : ok());
    await clusterUpCommand({ run, runShown: async (argv) => (shown.push(argv.join(' ')), 0), out: () => {} });
    await clusterDownCommand({ run, runShown: async (argv) => (shown.push(argv.join(' ')), 0), out: () => {} });
    expect(shown).to.deep.equal(['kind delete cluster --name gameday']);
  });
});
