/**
 * `npm test`: every test file, in two mocha processes at once. Most of the suite waits on clusters,
 * timers and child processes rather than computing, so two lanes on two cores take little more
 * than half the time of one.
 *
 * Lane `cluster` holds every file that takes something only one test may have at a time: the host's
 * 127.0.0.1:30080 (the NodePort the shipped storefront and the real cluster's forward use), the
 * real control plane (heavy to start; one at a time keeps its start-up quick), and Chromium-driven
 * experiments. Lane `unit` holds the rest, with the experiment twins that reach their services only
 * through the API server's proxy. `npm test -- <files>` runs just those files in one
 * process, and GAMEDAY_TEST_LANES=1 runs everything in one process, as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Files (or folders, ending in /) that go to the `cluster` lane. */
const CLUSTER_LANE = [
  'test/control-plane/',
  'test/experiments/shipped.test.ts',
  'test/experiments/twins.test.ts',
  'test/experiments/no-netem.test.ts',
  'test/browser/',
  'test/probes/browser.test.ts',
  'test/probes/k6/',
  'test/probes/experiments.test.ts',
  'test/report/html.test.ts',
  'test/report/pdf.test.ts',
  'test/cli/in-cluster.test.ts',
];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(file);
    return entry.name.endsWith('.test.ts') ? [file] : [];
  }).sort();
}

function inClusterLane(file: string): boolean {
  return CLUSTER_LANE.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));
}

const running = new Set<ChildProcess>();

/** Runs mocha over `files`, each output line prefixed with the lane's name; resolves to its exit code. */
function mocha(lane: string, files: readonly string[], prefix: boolean): Promise<number> {
  const child = spawn(process.execPath, [path.resolve('node_modules/mocha/bin/mocha.js'), ...files], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
  });
  running.add(child);
  const pipe = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream): void => {
    let partial = '';
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) to.write(prefix ? `[${lane}] ${line}\n` : `${line}\n`);
    });
    from.on('end', () => {
      if (partial) to.write(prefix ? `[${lane}] ${partial}\n` : `${partial}\n`);
    });
  };
  pipe(child.stdout!, process.stdout);
  pipe(child.stderr!, process.stderr);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of running) child.kill(signal);
  });
}

const given = process.argv.slice(2);
let code: number;
if (given.length > 0) {
  code = await mocha('', given, false);
} else if (process.env.GAMEDAY_TEST_LANES === '1') {
  code = await mocha('', testFiles('test'), false);
} else {
  const files = testFiles('test');
  const started = Date.now();
  const codes = await Promise.all([
    mocha('cluster', files.filter(inClusterLane), true),
    mocha('unit', files.filter((f) => !inClusterLane(f)), true),
  ]);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`\nboth lanes done in ${minutes} min: cluster lane exit ${codes[0]}, unit lane exit ${codes[1]}`);
  code = Math.max(...codes);
}
process.exit(code);
