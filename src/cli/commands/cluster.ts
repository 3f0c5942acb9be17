import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { HarnessError, UsageError, errorMessage } from '../../core/errors.js';
import { runCommand, type CommandRunner } from '../../nodes/command-runner.js';
import { kindEngine } from '../../nodes/kind-node-access.js';

export interface ClusterCommandOptions {
  /** @default kind-config.yaml */
  readonly config?: string;
  /** @default the name in the config file, else gameday */
  readonly name?: string;
  /** Runs the checks (kind version, engine info); injected by tests. @default real processes */
  readonly run?: CommandRunner;
  /** Runs kind create/delete with its output shown. @default real processes, inheriting stdio */
  readonly runShown?: (argv: readonly string[]) => Promise<number>;
  readonly out?: (line: string) => void;
}

async function clusterName(configFile: string, override: string | undefined): Promise<string> {
  if (override) return override;
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${configFile}: ${errorMessage(err)}; run from the repository root or pass --config`);
  }
  const name = (parse(text) as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name ? name : 'gameday';
}

const showOutput = async (argv: readonly string[]): Promise<number> => {
  const [file, ...args] = argv;
  const r = await execa(file!, args, { stdio: 'inherit', reject: false });
  return r.exitCode ?? 127;
};

/** kind and a running container engine, or a HarnessError (exit 4) saying what to install or start. */
async function assertTools(run: CommandRunner): Promise<void> {
  const kind = await run(['kind', 'version']);
  if (kind.exitCode === 127) throw new HarnessError('kind is not installed (or not on PATH): install it from https://kind.sigs.k8s.io/docs/user/quick-start/#installation, then run gameday cluster up again');
  const engine = kindEngine();
  const info = await run([engine, 'info']);
  if (info.exitCode !== 0) {
    const why = info.exitCode === 127 ? `${engine} is not installed` : `${engine} is not running (\`${engine} info\` said: ${info.stderr.trim().split('\n').at(-1) ?? `exit ${info.exitCode}`})`;
    throw new HarnessError(`kind needs a container engine and ${why}: start Docker (or set KIND_EXPERIMENTAL_PROVIDER=podman for podman), then run gameday cluster up again`);
  }
}

/**
 * `gameday cluster up`: creates the kind cluster of kind-config.yaml with the kind CLI and says how
 * to point gameday at it. A missing kind or container engine is a harness error (exit 4).
 */
export async function clusterUpCommand(options: ClusterCommandOptions = {}): Promise<number> {
  const run = options.run ?? runCommand;
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config = path.resolve(options.config ?? 'kind-config.yaml');
  const name = await clusterName(config, options.name);
  await assertTools(run);
  const existing = await run(['kind', 'get', 'clusters']);
  if (existing.stdout.split('\n').map((l) => l.trim()).includes(name)) {
    out(`kind cluster "${name}" already exists`);
  } else {
    const code = await (options.runShown ?? showOutput)(['kind', 'create', 'cluster', '--name', name, '--config', config]);
    if (code !== 0) throw new HarnessError(`kind create cluster --name ${name} failed (exit ${code}); see its output above`);
  }
  out(
    [
      '',
      `cluster ready: kubeconfig context kind-${name}`,
      'next:',
      `  gameday run experiments/ --context kind-${name} --allow-context kind-${name}`,
      `  (or add kind-${name} to .gameday-allow once); node-level faults use the kind node access automatically`,
      '  gameday cluster down   deletes it',
    ].join('\n'),
  );
  return 0;
}

/** `gameday cluster down`: deletes the kind cluster (nothing to delete is not an error, as with kind). */
export async function clusterDownCommand(options: ClusterCommandOptions = {}): Promise<number> {
  const run = options.run ?? runCommand;
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const name = await clusterName(path.resolve(options.config ?? 'kind-config.yaml'), options.name);
  await assertTools(run);
  const code = await (options.runShown ?? showOutput)(['kind', 'delete', 'cluster', '--name', name]);
  if (code !== 0) throw new HarnessError(`kind delete cluster --name ${name} failed (exit ${code}); see its output above`);
  out(`kind cluster "${name}" deleted`);
  return 0;
}
