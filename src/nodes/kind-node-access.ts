import type { KubeConfig } from '@kubernetes/client-node';
import { runCommand, type CommandRunner } from './command-runner.js';
import type { ExecResult, NodeStopMode } from './node-access.js';
import { NodeCommandError, ShellNodeAccess, type ExecOptions } from './shell-node-access.js';

export type ContainerEngine = 'docker' | 'podman';

export interface KindNodeAccessOptions {
  /** The kind cluster's name (`kind-gameday` context → `gameday`). */
  readonly clusterName: string;
  /** @default from KIND_EXPERIMENTAL_PROVIDER, as kind itself chooses; else docker */
  readonly engine?: ContainerEngine;
  /** @default runCommand (real processes) */
  readonly run?: CommandRunner;
  /** The cluster's, for a stress in a pod's container (through exec). Absent: only nodes can be stressed. */
  readonly kubeConfig?: KubeConfig;
}

/** The engine kind uses: `KIND_EXPERIMENTAL_PROVIDER=podman` switches it, anything else is docker. */
export function kindEngine(env: NodeJS.ProcessEnv = process.env): ContainerEngine {
  return env.KIND_EXPERIMENTAL_PROVIDER?.trim().toLowerCase() === 'podman' ? 'podman' : 'docker';
}

/**
 * Nodes of a kind cluster, which are containers: commands through `docker exec <node> …` (or
 * podman), stop and pause through the engine. A node must be one of `kind get nodes --name
 * <cluster>`, so a container that merely shares a node's name is never touched.
 */
export class KindNodeAccess extends ShellNodeAccess {
  readonly provider = 'kind' as const;
  readonly engine: ContainerEngine;
  private readonly run: CommandRunner;
  private nodes?: Promise<readonly string[]>;

  constructor(private readonly options: KindNodeAccessOptions) {
    super(options.kubeConfig);
    this.engine = options.engine ?? kindEngine();
    this.run = options.run ?? runCommand;
  }

  /** The cluster's node containers, as kind lists them (read once). */
  listNodes(): Promise<readonly string[]> {
    this.nodes ??= this.run(['kind', 'get', 'nodes', '--name', this.options.clusterName]).then((r) => {
      if (r.exitCode !== 0) {
        this.nodes = undefined;
        throw new Error(`cannot list the nodes of kind cluster "${this.options.clusterName}": \`kind get nodes --name ${this.options.clusterName}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
      }
      return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    });
    return this.nodes;
  }

  private async container(node: string): Promise<string> {
    const nodes = await this.listNodes();
    if (!nodes.includes(node)) throw new Error(`node ${node} is not a node of kind cluster "${this.options.clusterName}" (its nodes: ${nodes.join(', ') || 'none'})`);
    return node;
  }

  async exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.run([this.engine, 'exec', await this.container(node), ...argv], options);
  }

  async stop(node: string, mode: NodeStopMode): Promise<void> {
    const container = await this.container(node);
    // --time 0: the node dies at once, as a power loss would, instead of shutting down cleanly.
    const argv = mode === 'pause' ? [this.engine, 'pause', container] : [this.engine, 'stop', '--time', '0', container];
    const r = await this.run(argv);
    if (r.exitCode !== 0 && !/is already paused/i.test(r.stderr)) throw new NodeCommandError(node, argv, r);
  }

  async start(node: string, mode: NodeStopMode): Promise<void> {
    const container = await this.container(node);
    const argv = mode === 'pause' ? [this.engine, 'unpause', container] : [this.engine, 'start', container];
    const r = await this.run(argv);
    if (r.exitCode !== 0 && !/is not paused/i.test(r.stderr)) throw new NodeCommandError(node, argv, r);
  }

  async isStopped(node: string): Promise<boolean> {
    const argv = [this.engine, 'inspect', '--format', '{{.State.Status}}', await this.container(node)];
    const r = await this.run(argv);
    if (r.exitCode !== 0) throw new NodeCommandError(node, argv, r);
    return r.stdout.trim() !== 'running';
  }
}
