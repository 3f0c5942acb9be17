import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Bad input at scale: `gameday validate` (the built CLI, in its own process) on files with 16k,
 * 32k, 125k and 700k (4.6 MiB) unknown keys, about 1 MB of faults full of typos, and
 * brackets nested a million and five million deep. Records each run's exit code, wall time, peak
 * RSS and the count of problems it found. First, start-up: `gameday validate` on the shipped
 * experiments, cold (a fresh process each run), the median of 11 (case `shipped`).
 * Writes reports/bench/validate.json.
 * Run: npm run build && npx tsx test/bench/validate-bench.ts [timeout seconds per case, default 120] [case…]
 */
const CLI = path.resolve('dist/cli/main.js');
const TIMEOUT_MS = Number(process.argv[2] ?? 120) * 1000;
const ONLY = process.argv.slice(3);
const STARTUP_RUNS = 11;

const VALID_HEAD = 'apiVersion: gameday/v1\nkind: Experiment\nmetadata:\n  name: bench\nspec:\n  duration: 30s\n';

/** `count` top-level keys the schema does not know, as short as a key can be: `k2oi8:`. */
function unknownKeys(count: number): string {
  const lines = [VALID_HEAD];
  for (let i = 0; i < count; i++) lines.push(`k${i.toString(36)}:\n`);
  return lines.join('');
}

/** Faults until the file reaches `bytes`, each with a bad duration and a misspelt kind: two problems, one did-you-mean. */
function faultsWithTypos(bytes: number): string {
  const lines = [VALID_HEAD, '  faults:\n'];
  let size = lines.join('').length;
  for (let i = 0; ; i++) {
    const line = `    - { at: ${i}x, podKil: { pods: { namespace: shop } } }\n`;
    if (size + line.length > bytes) break;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

const CASES: Readonly<Record<string, () => string>> = {
  'unknown-keys-16k': () => unknownKeys(16_000),
  'unknown-keys-32k': () => unknownKeys(32_000),
  'unknown-keys-125k': () => unknownKeys(125_000),
  'fault-typos-1mb': () => faultsWithTypos(1_000_000),
  'unknown-keys-700k': () => unknownKeys(700_000),
  'nested-brackets-1m': () => '['.repeat(1_000_000),
  'nested-brackets-5mib': () => '['.repeat(5 * 2 ** 20),
};

/** Loaded before the CLI: reports the process's peak RSS (KiB) and CPU time (µs) on fd 3 as it exits, however it exits. */
const USAGE_REPORTER = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); writeSync(3, JSON.stringify({ maxRSS: u.maxRSS, user: u.userCPUTime, system: u.systemCPUTime })); });",
)}`;

interface Usage {
  readonly maxRSS: number;
  readonly user: number;
  readonly system: number;
}

interface CaseResult {
  readonly case: string;
  readonly bytes: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly ms: number;
  readonly peakRssMiB: number | null;
  readonly problemsFound: number | null;
  readonly stderrBytes: number;
  readonly firstLine: string;
}

function validate(name: string, file: string, bytes: number): Promise<CaseResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', USAGE_REPORTER, CLI, 'validate', file], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let head = '';
    let tail = '';
    let stderrBytes = 0;
    let rss = '';
    // Only the first line and the count at the end matter; keeping a huge report would only cost memory here.
    child.stderr!.on('data', (d: Buffer) => {
      stderrBytes += d.length;
      if (head.length < 1024) head += d.toString();
      tail = (tail + d.toString()).slice(-1024);
    });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (rss += d.toString()));
    // A process that is killed, or dies of running out of memory, reports nothing: watch its high-water mark from outside too.
    let polledRssKiB = 0;
    const poll = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) polledRssKiB = Math.max(polledRssKiB, Number(hwm[1]));
      } catch {
        // Gone already, or not Linux: the figure the process reports itself is all there is.
      }
    }, 200);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      const peakKiB = rss ? (JSON.parse(rss) as Usage).maxRSS : polledRssKiB;
      const found = /(\d+) problems? found\.\s*$/.exec(tail);
      resolve({
        case: name,
        bytes,
        exitCode: code,
        signal,
        timedOut,
        ms: Math.round(performance.now() - t0),
        peakRssMiB: peakKiB > 0 ? Math.round(peakKiB / 102.4) / 10 : null,
        problemsFound: found ? Number(found[1]) : null,
        stderrBytes,
        firstLine: head.split('\n')[0]!.slice(0, 200),
      });
    });
  });
}

/**
 * Start-up: `gameday validate experiments/` (every shipped experiment) in a fresh process each
 * time, so every run loads the CLI's modules cold, as a user's first command does. The median of
 * `runs`, wall and CPU (user + system, the process's own accounting).
 */
async function shippedColdStart(runs: number): Promise<Record<string, unknown>> {
  const samples: { ms: number; cpuMs: number; peakRssMiB: number; exitCode: number | null }[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(
      await new Promise((resolve) => {
        const t0 = performance.now();
        const child = spawn(process.execPath, ['--import', USAGE_REPORTER, CLI, 'validate', 'experiments'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
        let usage = '';
        (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => (usage += d.toString()));
        child.on('close', (code) => {
          const u = JSON.parse(usage) as Usage;
          resolve({ ms: Math.round(performance.now() - t0), cpuMs: Math.round((u.user + u.system) / 1000), peakRssMiB: Math.round(u.maxRSS / 102.4) / 10, exitCode: code });
        });
      }),
    );
  }
  const med = (key: 'ms' | 'cpuMs' | 'peakRssMiB'): number => [...samples.map((x) => x[key])].sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  const files = readdirSync('experiments').filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').length;
  return { command: 'gameday validate experiments', experimentFiles: files, runs, medianMs: med('ms'), medianCpuMs: med('cpuMs'), medianPeakRssMiB: med('peakRssMiB'), exitCodes: [...new Set(samples.map((x) => x.exitCode))], samples };
}

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(2);
}
const dir = await mkdtemp(path.join(tmpdir(), 'gameday-validate-bench-'));
const results: CaseResult[] = [];
let startup: Record<string, unknown> | undefined;
try {
  if (ONLY.length === 0 || ONLY.includes('shipped')) {
    startup = await shippedColdStart(STARTUP_RUNS);
    console.log(`shipped experiments, cold: median ${startup.medianMs} ms wall, ${startup.medianCpuMs} ms CPU, ${startup.medianPeakRssMiB} MiB (${STARTUP_RUNS} fresh processes, exit ${String(startup.exitCodes)})`);
  }
  for (const [name, make] of Object.entries(CASES).filter(([name]) => ONLY.length === 0 || ONLY.includes(name))) {
    const text = make();
    const file = path.join(dir, `${name}.yaml`);
    await writeFile(file, text);
    const result = await validate(name, file, Buffer.byteLength(text));
    results.push(result);
    const outcome = result.timedOut ? `did not finish in ${TIMEOUT_MS / 1000} s` : result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}, ${result.problemsFound ?? '?'} problems`;
    console.log(`${name.padEnd(22)} ${(result.bytes / 2 ** 20).toFixed(2)} MiB  ${(result.ms / 1000).toFixed(1).padStart(6)} s  ${String(result.peakRssMiB ?? '?').padStart(7)} MiB  ${outcome}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const report = { benchmark: 'validate', timeoutMs: TIMEOUT_MS, node: process.version, ...(startup ? { startup } : {}), results };
await mkdir('reports/bench', { recursive: true });
await writeFile('reports/bench/validate.json', `${JSON.stringify(report, null, 2)}\n`);
console.log('wrote reports/bench/validate.json');
