import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HttpProbeSummary, httpProbe as HttpProbe } from '../../src/probes/http.js';
import type { ProbeContext } from '../../src/probes/probe.js';
import type { OpenModelSchedule as OpenModelScheduleClass } from '../../src/probes/shared/open-model-schedule.js';

/**
 * The http probe against autocannon at a fixed arrival rate on the same local target: does the
 * probe keep its schedule at 2,000 requests/s, what latency does each tool see, and what does
 * each cost in CPU.
 *
 * Every client runs in a child process of its own (this file again, with --worker), and the
 * server in another, so each CPU figure is one client's alone: user + system time of its process
 * over the measured run, after a warm-up in the same process. The order of the tools alternates
 * between rounds so neither always runs on a warmer machine.
 *
 * The probe measured is the compiled one in dist/ (built first), as `gameday run` runs it; `--src`
 * measures src/probes/http.ts through tsx instead, where esbuild's keepNames gives every closure
 * a defined name, which costs CPU on each request that makes one.
 *
 * A third client, the floor, is what any Node client pays to keep the probe's schedule: the same
 * ticks (every request due is sent, then a timer to the next one), one keep-alive connection per
 * request in flight, and nothing else: no parsing (one read is taken as one response, true of
 * this server's small answers), no histograms, no samples. The probe's cost over the floor is
 * its own work; the floor's cost over autocannon's is the schedule's (autocannon sends in bursts).
 *
 * Run: npx tsx --expose-gc test/bench/http-probe-bench.ts [--rate 2000] [--seconds 10] [--rounds 3] [--src]
 *      [--baseline <path of another http.ts or .js>] (its rows run beside ours), for example an older commit's:
 *      git archive <rev> src package.json | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/node_modules
 *      then --baseline /tmp/base/src/probes/http.ts
 * Writes reports/bench/http-probe.json.
 */

type Tool = 'gameday http probe' | 'gameday http probe (baseline)' | 'autocannon' | 'floor: bare sockets, same schedule';

interface Row {
  readonly tool: Tool;
  readonly round: number;
  readonly targetRate: number;
  readonly seconds: number;
  readonly requests: number;
  readonly achievedRate: number;
  readonly errors: number;
  /** Not measured by the floor. */
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  readonly latencyMaxMs?: number;
  /** Actual start − scheduled start (the probe only: autocannon does not expose it). */
  readonly scheduleErrorP50Ms?: number;
  readonly scheduleErrorP99Ms?: number;
  readonly scheduleErrorMaxMs?: number;
  /** User + system CPU of the client's process during the measured run. */
  readonly cpuMs: number;
  /** cpuMs per wall-clock ms: the share of one core the client used. */
  readonly cores: number;
  /** CPU per 1,000 requests sent: unlike `cores`, not diluted when a loaded machine stretches the run. */
  readonly cpuMsPer1000: number;
  /** The machine's 1-minute load average as the run ended: how far to trust the row. */
  readonly load: number;
}

interface AutocannonHistogram {
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

const round2 = (n: number): number => Math.round(n * 100) / 100;
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function numberOption(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} takes a positive number, not ${JSON.stringify(raw)}`);
  return n;
}

/** Measures `run` in this process: CPU (user + system) and wall time around it. */
async function measured<T>(run: () => Promise<T>): Promise<{ result: T; cpuMs: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await run();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { result, cpuMs: (used.user + used.system) / 1000, wallMs };
}

// ---- workers: one client in one process ----

function cpu(cpuMs: number, wallMs: number, requests: number): Pick<Row, 'cpuMs' | 'cores' | 'cpuMsPer1000' | 'load'> {
  return { cpuMs: Math.round(cpuMs), cores: round3(cpuMs / wallMs), cpuMsPer1000: round2((cpuMs * 1000) / requests), load: round2(loadavg()[0]!) };
}

async function probeRun(probe: typeof HttpProbe, url: string, rate: number, seconds: number): Promise<{ summary: HttpProbeSummary; samples: number }> {
  let samples = 0;
  const ctx: ProbeContext = {
    name: 'bench',
    cluster: undefined as never,
    experimentDir: process.cwd(),
    artifactsDir: process.cwd(),
    signal: new AbortController().signal,
    emit: () => samples++,
    log: () => undefined,
  };
  const running = await probe.start(ctx, probe.params.parse({ url, rate: `${rate}/s`, timeout: '2s' }));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await running.stop();
  return { summary: running.summary(), samples };
}

async function probeWorker(tool: Tool, moduleFile: string, url: string, rate: number, seconds: number, round: number): Promise<Row> {
  const { httpProbe: probe } = (await import(pathToFileURL(moduleFile).href)) as { httpProbe: typeof HttpProbe };
  await probeRun(probe, url, rate, 1);
  globalThis.gc?.();
  const { result, cpuMs, wallMs } = await measured(() => probeRun(probe, url, rate, seconds));
  const s = result.summary;
  return {
    tool,
    round,
    targetRate: rate,
    seconds: round2(wallMs / 1000),
    requests: result.samples,
    achievedRate: round2(s.scheduled / seconds),
    errors: Object.values(s.errors).reduce((a, b) => a + b, 0),
    latencyP50Ms: s.latency.p50,
    latencyP99Ms: s.latency.p99,
    latencyMaxMs: s.latency.max,
    scheduleErrorP50Ms: s.scheduleLag.p50,
    scheduleErrorP99Ms: s.scheduleLag.p99,
    scheduleErrorMaxMs: s.scheduleLag.max,
    ...cpu(cpuMs, wallMs, s.scheduled),
  };
}

/**
 * The floor: requests on the probe's schedule (`OpenModelSchedule`, the probe's own ticks) over
 * bare keep-alive sockets. Returns how many requests were answered.
 */
async function floorRun(schedule: typeof OpenModelScheduleClass, url: URL, rate: number, seconds: number): Promise<{ scheduled: number; answered: number }> {
  const message = Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`, 'latin1');
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const free: net.Socket[] = [];
  const open: net.Socket[] = [];
  let answered = 0;
  const connect = (): net.Socket => {
    const socket: net.Socket = net.connect({ host: url.hostname, port: Number(url.port), onread: { buffer, callback: () => (answered++, free.push(socket), true) } });
    socket.setNoDelay(true);
    open.push(socket);
    return socket;
  };
  const slots = new schedule(rate);
  const end = performance.now() + seconds * 1000;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const now = performance.now();
      slots.takeDue(Math.min(now, end), () => (free.pop() ?? connect()).write(message));
      if (slots.nextAt > end) done();
      else setTimeout(tick, Math.max(0, slots.nextAt - performance.now()));
    };
    tick();
  });
  // Let the last answers in, then close.
  for (let waited = 0; answered < slots.taken && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  for (const socket of open) socket.destroy();
  return { scheduled: slots.taken, answered };
}

async function floorWorker(scheduleModule: string, url: string, rate: number, seconds: number, round: number): Promise<Row> {
  const { OpenModelSchedule: schedule } = (await import(pathToFileURL(scheduleModule).href)) as { OpenModelSchedule: typeof OpenModelScheduleClass };
  await floorRun(schedule, new URL(url), rate, 1);
  globalThis.gc?.();
  const { result, cpuMs, wallMs } = await measured(() => floorRun(schedule, new URL(url), rate, seconds));
  return {
    tool: 'floor: bare sockets, same schedule',
    round,
    targetRate: rate,
    seconds: round2(wallMs / 1000),
    requests: result.answered,
    achievedRate: round2(result.scheduled / seconds),
    errors: result.scheduled - result.answered,
    ...cpu(cpuMs, wallMs, result.scheduled),
  };
}

async function autocannonWorker(url: string, rate: number, seconds: number, round: number): Promise<Row> {
  // autocannon ships no types; this is the slice of its programmatic API the benchmark uses.
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  // Closed-loop connections, each limited to its share of overallRate: enough of them that a
  // slow answer on one does not hold the rest back.
  const run = (duration: number): Promise<AutocannonResult> => autocannon({ url, connections: 64, overallRate: rate, duration, timeout: 2 });
  await run(1);
  globalThis.gc?.();
  const { result: r, cpuMs, wallMs } = await measured(() => run(seconds));
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
    ...cpu(cpuMs, wallMs, r.requests.total),
  };
}

async function worker(kind: string): Promise<void> {
  const url = option('url')!;
  const rate = numberOption('rate', 2000);
  const seconds = numberOption('seconds', 10);
  const round = numberOption('round', 1);
  const probeModule = option('probe-module')!;
  const row =
    kind === 'autocannon'
      ? await autocannonWorker(url, rate, seconds, round)
      : kind === 'floor'
        ? await floorWorker(path.join(path.dirname(probeModule), `shared/open-model-schedule${path.extname(probeModule)}`), url, rate, seconds, round)
        : await probeWorker(kind === 'baseline' ? 'gameday http probe (baseline)' : 'gameday http probe', probeModule, url, rate, seconds, round);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

// ---- the parent: server, rounds, report ----

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

/** Runs one client in a child process of its own and reads its row. */
async function runWorker(kind: string, args: readonly string[]): Promise<Row> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--worker', kind, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the ${kind} worker exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Row;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rate = numberOption('rate', 2000);
  const seconds = numberOption('seconds', 10);
  const rounds = numberOption('rounds', 3);
  const baseline = option('baseline');
  const fromSrc = process.argv.includes('--src');
  if (!fromSrc) execFileSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ours = fileURLToPath(new URL(fromSrc ? '../../src/probes/http.ts' : '../../dist/probes/http.js', import.meta.url));
  const kinds = ['probe', 'autocannon', 'floor', ...(baseline ? ['baseline'] : [])];
  const server = await startServer();
  try {
    const rows: Row[] = [];
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        const module = kind === 'baseline' ? path.resolve(baseline!) : ours;
        rows.push(await runWorker(kind, ['--url', server.url, '--rate', String(rate), '--seconds', String(seconds), '--round', String(round), '--probe-module', module]));
      }
    }
    rows.sort((a, b) => a.round - b.round || a.tool.localeCompare(b.tool));
    console.table(rows.map(({ targetRate: _t, ...row }) => row));
    const medianOf = (tool: Tool, field: 'cores' | 'cpuMsPer1000'): number => median(rows.filter((r) => r.tool === tool).map((r) => r[field]));
    /** Probe CPU over autocannon CPU: the median over rounds of each round's ratio. */
    const ratio = (field: 'cores' | 'cpuMsPer1000', of: Tool = 'gameday http probe', to: Tool = 'autocannon'): number =>
      round2(median(Array.from({ length: rounds }, (_, i) => rows.find((r) => r.round === i + 1 && r.tool === of)![field] / rows.find((r) => r.round === i + 1 && r.tool === to)![field])));
    const probeRows = rows.filter((r) => r.tool === 'gameday http probe');
    const summary = {
      probeCores: medianOf('gameday http probe', 'cores'),
      autocannonCores: medianOf('autocannon', 'cores'),
      ratio: ratio('cores'),
      probeCpuMsPer1000: medianOf('gameday http probe', 'cpuMsPer1000'),
      autocannonCpuMsPer1000: medianOf('autocannon', 'cpuMsPer1000'),
      ratioPerRequest: ratio('cpuMsPer1000'),
      floorCores: medianOf('floor: bare sockets, same schedule', 'cores'),
      /** What keeping the schedule costs any Node client, over autocannon's bursts. */
      floorOverAutocannon: ratio('cores', 'floor: bare sockets, same schedule'),
      /** What the probe's own work (parsing, histograms, samples, timeouts) costs over the floor. */
      probeOverFloor: ratio('cores', 'gameday http probe', 'floor: bare sockets, same schedule'),
      ...(baseline ? { baselineCores: medianOf('gameday http probe (baseline)', 'cores'), baselineCpuMsPer1000: medianOf('gameday http probe (baseline)', 'cpuMsPer1000') } : {}),
      probeAchievedRate: median(probeRows.map((r) => r.achievedRate)),
      scheduleErrorP50Ms: median(probeRows.map((r) => r.scheduleErrorP50Ms!)),
      scheduleErrorP99Ms: median(probeRows.map((r) => r.scheduleErrorP99Ms!)),
    };
    console.log(summary);
    const note =
      'Each client runs alone in its own process; cores = its user+system CPU over the measured run / wall time of that run; the summary takes medians over rounds. ' +
      'Latency is from the scheduled start for the probe (open model); autocannon corrects for coordinated omission at a fixed rate but records whole milliseconds. ' +
      'achievedRate: requests the schedule issued per second of run (probe), requests completed per second (autocannon). The server is a separate process.';
    await mkdir('reports/bench', { recursive: true });
    await writeFile('reports/bench/http-probe.json', JSON.stringify({ at: new Date().toISOString(), node: process.version, probe: fromSrc ? 'src' : 'dist', cpus: cpus().length, rate, seconds, rounds, note, summary, rows }, null, 2) + '\n');
    console.log('wrote reports/bench/http-probe.json');
  } finally {
    server.child.kill();
  }
}

const workerKind = option('worker');
if (workerKind) await worker(workerKind);
else await main();
