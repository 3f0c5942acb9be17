import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { httpProbe, type HttpProbeSummary } from '../../src/probes/http.js';
import type { ProbeContext } from '../../src/probes/probe.js';

/**
 * The http probe against autocannon at a fixed arrival rate on the same local target: does the
 * probe keep its schedule at 2,000 requests/s, what latency does each tool see, and what does
 * each cost in CPU. The server runs in a child process so it never shares the client's event loop.
 * Run: npx tsx test/bench/http-probe-bench.ts [--rate 2000] [--seconds 10] [--rounds 2]
 * Writes reports/bench/http-probe.json.
 */

interface AutocannonHistogram {
  readonly average: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}
interface AutocannonResult {
  readonly requests: { readonly total: number };
  readonly latency: AutocannonHistogram;
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no types; this is the slice of its programmatic API the benchmark uses.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Row {
  readonly tool: 'gameday http probe' | 'autocannon';
  readonly round: number;
  readonly targetRate: number;
  readonly seconds: number;
  readonly requests: number;
  readonly achievedRate: number;
  readonly errors: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  /** Actual start − scheduled start (the probe only: autocannon does not expose it). */
  readonly scheduleErrorP50Ms?: number;
  readonly scheduleErrorP99Ms?: number;
  readonly scheduleErrorMaxMs?: number;
  /** User + system CPU of the client process during the run. */
  readonly cpuMs: number;
  readonly cpuShare: number;
}

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, url: `http://127.0.0.1:${chunk.toString().trim()}/` };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

async function runProbe(url: string, rate: number, seconds: number, round: number): Promise<Row> {
  let completed = 0;
  const ctx: ProbeContext = {
    name: 'bench',
    cluster: undefined as never,
    experimentDir: process.cwd(),
    artifactsDir: process.cwd(),
    signal: new AbortController().signal,
    emit: () => completed++,
    log: () => undefined,
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  const running = await httpProbe.start(ctx, httpProbe.params.parse({ url, rate: `${rate}/s`, timeout: '2s' }));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await running.stop();
  const wallMs = performance.now() - started;
  const s: HttpProbeSummary = running.summary();
  const used = cpuMs(cpu);
  const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
  return {
    tool: 'gameday http probe',
    round,
    targetRate: rate,
    seconds: round2(wallMs / 1000),
    requests: completed,
    achievedRate: round2(s.scheduled / seconds),
    errors,
    latencyP50Ms: s.latency.p50,
    latencyP99Ms: s.latency.p99,
    latencyMaxMs: s.latency.max,
    scheduleErrorP50Ms: s.scheduleLag.p50,
    scheduleErrorP99Ms: s.scheduleLag.p99,
    scheduleErrorMaxMs: s.scheduleLag.max,
    cpuMs: Math.round(used),
    cpuShare: round2(used / wallMs),
  };
}

async function runAutocannon(url: string, rate: number, seconds: number, round: number): Promise<Row> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  // Closed-loop connections, each limited to its share of overallRate: enough of them that a
  // slow answer on one does not hold the rest back.
  const r = await autocannon({ url, connections: 64, overallRate: rate, duration: seconds, timeout: 2 });
  const wallMs = performance.now() - started;
  const used = cpuMs(cpu);
  return {
    tool: 'autocannon',
    round,
    targetRate: rate,
    seconds: round2(wallMs / 1000),
    requests: r.requests.total,
    achievedRate: round2(r.requests.total / r.duration),
    errors: r.errors + r.timeouts + r.non2xx,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    cpuMs: Math.round(used),
    cpuShare: round2(used / wallMs),
  };
}

const rate = arg('rate', 2000);
const seconds = arg('seconds', 10);
const rounds = arg('rounds', 2);
const server = await startServer();
try {
  // Warm the JIT, the sockets and the server before anything is measured.
  await runProbe(server.url, rate, 1, 0);
  await runAutocannon(server.url, rate, 1, 0);
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++) {
    rows.push(await runProbe(server.url, rate, seconds, round));
    rows.push(await runAutocannon(server.url, rate, seconds, round));
  }
  console.table(rows.map(({ targetRate: _t, ...row }) => row));
  await mkdir('reports/bench', { recursive: true });
  const note =
    'latency is from the scheduled start for the probe (open model); autocannon corrects for coordinated omission at a fixed rate but records whole milliseconds. ' +
    'achievedRate: requests the schedule issued per second of run (probe), requests completed per second (autocannon). CPU is the client process only; the server is a separate process.';
  await writeFile('reports/bench/http-probe.json', JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length, rate, seconds, note, rows }, null, 2) + '\n');
  console.log('wrote reports/bench/http-probe.json');
} finally {
  server.child.kill();
}
