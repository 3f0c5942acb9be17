import * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { eventually } from './eventually.js';

/**
 * The client-go informer program (control-plane/cmd/client-go-informer), built by .ci/run into
 * gameday's cache under a name that changes with its source and go.sum: so a stale build is
 * never used.
 */
export function clientGoInformer(): { path: string } | { missing: string } {
  const sources = ['control-plane/cmd/client-go-informer/main.go', 'control-plane/go.sum'].map((f) => readFileSync(f));
  const hash = createHash('sha256').update(Buffer.concat(sources)).digest('hex').slice(0, 12);
  const cache = process.env.GAMEDAY_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'gameday');
  const file = path.join(cache, 'tools', `client-go-informer-${hash}`, 'client-go-informer');
  if (existsSync(file)) return { path: file };
  const why = `no client-go informer program at ${file}: build it as .ci/run does (needs Go and the module proxy)`;
  if (process.env.CI === 'true') throw new Error(why);
  return { missing: why };
}

interface InformerLine {
  readonly synced?: boolean;
  readonly version?: string;
  readonly kind?: string;
  readonly event?: string;
  readonly name?: string;
  readonly phase?: string;
  readonly ready?: number;
  readonly terminating?: boolean;
}

/**
 * client-go's shared informers against a cluster: they sync, then see a Deployment's pods come to
 * Running and its ready count reach 2, and see a deleted pod go (terminating first, then gone).
 */
export async function informersFollowARollout(binary: string, kubeconfig: string, kubeConfig: k8s.KubeConfig, namespace: string): Promise<{ version: string }> {
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const apps = kubeConfig.makeApiClient(k8s.AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const child = execa(binary, ['--kubeconfig', kubeconfig, '--namespace', namespace, '--for', '120s'], { reject: false });
  const lines: InformerLine[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as InformerLine));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const synced = await eventually(`client-go's caches to sync (${stderr})`, () => lines.find((l) => l.synced), 30_000);
    await apps.createNamespacedDeployment({
      namespace,
      body: { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'web', image: 'gameday/web:1' }] } } } },
    });
    await eventually('client-go to see the Deployment with 2 ready replicas', () => lines.some((l) => l.kind === 'Deployment' && l.name === 'web' && l.ready === 2), 30_000);
    const running = new Set(lines.filter((l) => l.kind === 'Pod' && l.phase === 'Running').map((l) => l.name));
    expect(running.size, JSON.stringify(lines)).to.equal(2);
    const victim = [...running][0]!;
    await core.deleteNamespacedPod({ namespace, name: victim });
    await eventually(`client-go to see ${victim} terminating, then deleted`, () => {
      const mine = lines.filter((l) => l.kind === 'Pod' && l.name === victim);
      return mine.some((l) => l.terminating) && mine.at(-1)?.event === 'delete';
    }, 30_000);
    return { version: synced.version ?? '' };
  } finally {
    child.kill();
    await child;
  }
}
