/**
 * How gameday reaches *into* a node for the faults the API cannot make (iptables, tc, fallocate,
 * stopping the node). One interface, four providers: kind (docker/podman exec), pod (a privileged
 * pod pinned to the node), sim (the embedded cluster's node fault endpoint), netns (tests).
 */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface NodeAccess {
  readonly provider: 'kind' | 'pod' | 'sim' | 'netns';
  /** Runs a command on the node (in its host namespaces). Never throws for a non-zero exit. */
  exec(node: string, argv: readonly string[], options?: { readonly timeoutMs?: number }): Promise<ExecResult>;
  /** Stops the node abruptly (kind: the container; sim: a node crash). Optional per provider. */
  stop?(node: string): Promise<void>;
  start?(node: string): Promise<void>;
  /** Releases anything the provider created (helper pods, connections). */
  close?(): Promise<void>;
}
