import { readFileSync } from 'node:fs';
import { startNodeSide, type NodeSideOptions } from './node-side.js';

/**
 * The node side as its own process, for the real control plane: it runs inside the cluster's
 * network namespace, so that pod and node addresses are local there and nowhere else.
 * Usage: `node main.js <config.json>` (NodeSideOptions as JSON). It prints one line,
 * `{"ready":true,"nodes":[…]}`, once its kubelets have started, and stops cleanly on SIGTERM.
 */
async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node-side <config.json>');
  const options = JSON.parse(readFileSync(file, 'utf8')) as NodeSideOptions;
  const side = await startNodeSide({ ...options, onRefused: (what, answer) => process.stderr.write(`refused: ${what}: ${answer}\n`) });
  process.stdout.write(`${JSON.stringify({ ready: true, nodes: side.nodes })}\n`);
  const stop = (): void => void side.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`node side failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
