import type { KubeConfig } from '@kubernetes/client-node';
import { runCommand, type CommandRunner } from './command-runner.js';
import type { ExecResult } from './node-access.js';
import { ShellNodeAccess, type ExecOptions } from './shell-node-access.js';

export interface NetnsNodeAccessOptions {
  /** Node name → network namespace name (as made by `ip netns add`). */
  readonly namespaces: Readonly<Record<string, string>>;
  /** @default runCommand (real processes) */
  readonly run?: CommandRunner;
  /** A cluster whose pods a stress of pods execs in. Absent: only nodes can be stressed. */
  readonly kubeConfig?: KubeConfig;
}

/**
 * Nodes that are Linux network namespaces: commands run with `ip netns exec <ns> …`, so the
 * iptables and tc commands of the kind and pod providers run for real on a plain Linux host (as
 * root). The mount namespace is the host's: disk fills go to whatever path the caller names.
 */
export class NetnsNodeAccess extends ShellNodeAccess {
  readonly provider = 'netns' as const;
  private readonly run: CommandRunner;

  constructor(private readonly options: NetnsNodeAccessOptions) {
    super(options.kubeConfig);
    this.run = options.run ?? runCommand;
  }

  exec(node: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const ns = this.options.namespaces[node];
    if (!ns) throw new Error(`node ${node} has no network namespace (known: ${Object.keys(this.options.namespaces).join(', ') || 'none'})`);
    return this.run(['ip', 'netns', 'exec', ns, ...argv], options);
  }
}
