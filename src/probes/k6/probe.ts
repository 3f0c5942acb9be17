import { accessSync, constants, mkdirSync, openSync, readSync, closeSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { execa, type ResultPromise } from 'execa';
import { z } from 'zod';
import { errorMessage } from '../../core/errors.js';
import { positiveDurationSchema } from '../../spec/value-schemas.js';
import type { ProbeContext, ProbePlugin, RunningProbe } from '../probe.js';
import { deleteLeftoverJobs, K6Job, k6JobPermissions } from './job.js';
import { K6OutputParser } from './output.js';
import { bundleK6Script } from './script.js';
import { deleteLeftoverTestRuns, K6TestRun, k6OperatorPermissions, type TestRunOutcome } from './test-run.js';

/** The k6 image a Job runs unless told otherwise: pinned, so a run is repeatable. */
export const DEFAULT_K6_IMAGE = 'grafana/k6:1.0.0';

/** Where a k6 Job runs when the probe names no namespace. */
const DEFAULT_JOB_NAMESPACE = 'default';

const INSTALL_K6 =
  'Install k6 so that `k6` is on PATH (https://grafana.com/docs/k6/latest/set-up/install-k6/: `brew install k6`, the Debian/Ubuntu package, or a release binary), or run against a cluster that can pull the k6 image.';

const operator = z
  .strictObject({
    parallelism: z.number({ error: 'parallelism is how many runner pods share the load, like 4' }).int().positive({ error: 'parallelism is a whole number of runner pods, at least 1' }).describe('how many k6 runner pods share the test (TestRun spec.parallelism)'),
    separate: z.boolean().optional().describe('each runner on a node of its own (TestRun spec.separate). @default false'),
  })
  .describe('hand the test to the k6 operator (grafana/k6-operator) as a TestRun in `namespace`, for load past one machine; the operator must be installed');

const params = z.strictObject({
  script: z.string({ error: 'give the k6 script, like load/shop.ts' }).min(1).describe('the k6 script (TypeScript or JavaScript, typed by @types/k6), relative to the experiment file'),
  mode: z
    .enum(['local', 'job'], { error: 'mode is local (a k6 binary on PATH) or job (a batch/v1 Job in the cluster)' })
    .optional()
    .describe('local: run the k6 binary on PATH; job: run k6 as a Job in the cluster. @default local when k6 is on PATH, else job'),
  image: z.string().min(1).optional().describe(`the k6 image a Job, or the k6 operator's runners, run. @default ${DEFAULT_K6_IMAGE}`),
  namespace: z.string().min(1).optional().describe('namespace of the Job or TestRun and its ConfigMap. @default default'),
  operator: operator.optional(),
  env: z.record(z.string(), z.string({ error: 'an environment value is text; quote it' })).optional().describe('environment variables for the script (read with __ENV)'),
  vus: z.number().int().positive({ error: 'vus is a whole number of virtual users, at least 1' }).optional().describe("virtual users (k6 --vus). @default the script's options"),
  duration: positiveDurationSchema.optional().describe("how long k6 runs (k6 --duration). @default the script's options"),
}).refine((p) => !(p.operator && p.mode), { error: 'operator runs k6 through the k6 operator: leave mode out', path: ['mode'] });
type Params = z.output<typeof params>;

/**
 * A k6 load test as a probe: each HTTP request k6 makes and each check it runs becomes a sample
 * (see K6OutputParser). The script is bundled into one module first (see bundleK6Script), then
 * run by a local `k6` binary or as an in-cluster Job whose log carries k6's JSON output.
 */
export const k6Probe: ProbePlugin<Params> = {
  kind: 'k6',
  summary: 'a k6 load test (TypeScript script) run locally or as a Job; requests and checks become samples',
  params,

  // Without mode, a run where k6 is not on PATH falls back to a Job: grant what the Job needs.
  permissions: (p) => {
    const namespace = p.namespace ?? DEFAULT_JOB_NAMESPACE;
    if (p.operator) return k6OperatorPermissions(namespace);
    return p.mode === 'local' ? [] : k6JobPermissions(namespace);
  },

  // Without mode, the run may have fallen back to a Job: look for one as for mode job.
  deleteLeftovers: (cluster, p, runId) => {
    const namespace = p.namespace ?? DEFAULT_JOB_NAMESPACE;
    if (p.operator) return deleteLeftoverTestRuns(cluster.kubeConfig, namespace, runId);
    return p.mode === 'local' ? Promise.resolve([]) : deleteLeftoverJobs(cluster.kubeConfig, namespace, runId);
  },

  async start(ctx, p) {
    const script = await bundleK6Script(path.resolve(ctx.experimentDir, p.script));
    const runArgs = [...(p.vus !== undefined ? ['--vus', String(p.vus)] : []), ...(p.duration ? ['--duration', `${Math.round(p.duration.ms)}ms`] : [])];
    if (p.operator) return startOperator(ctx, p, p.operator, script, runArgs);
    const local = k6OnPath();
    const mode = p.mode ?? (local ? 'local' : 'job');
    if (mode === 'local') {
      if (!local) throw new Error(`mode local needs a k6 binary, and there is none on PATH. ${INSTALL_K6}`);
      return startLocal(ctx, p, local, script, runArgs);
    }
    return startJob(ctx, p, script, runArgs, p.mode === undefined);
  },
};

/** The k6 binary on PATH, if any. */
export function k6OnPath(pathVariable = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, 'k6');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      continue;
    }
  }
  return undefined;
}

function artifactBase(ctx: ProbeContext): string {
  mkdirSync(ctx.artifactsDir, { recursive: true });
  return path.join(ctx.artifactsDir, `k6-${ctx.name.replace(/[^A-Za-z0-9_-]+/g, '_')}`);
}

async function startLocal(ctx: ProbeContext, p: Params, k6: string, script: string, runArgs: readonly string[]): Promise<RunningProbe> {
  const base = artifactBase(ctx);
  const scriptFile = `${base}.js`;
  const outFile = `${base}.json`;
  writeFileSync(scriptFile, script);
  writeFileSync(outFile, '');
  const parser = new K6OutputParser();
  const tail = new FileTail(outFile, (line) => parser.feed(line).forEach((s) => ctx.emit(s)));
  const child: ResultPromise = execa(k6, ['run', '--quiet', '--no-summary', '--out', `json=${outFile}`, ...runArgs, scriptFile], {
    env: p.env,
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
    forceKillAfterDelay: 10_000,
  });
  // k6 appends to the file as it measures; reading what is new a few times a second streams it.
  const timer = setInterval(() => tail.read(), 250);
  let stopping = false;
  const done = child.then((result) => {
    clearInterval(timer);
    tail.read();
    parser.flush().forEach((s) => ctx.emit(s));
    // 99: thresholds were crossed — k6's own verdict; gameday's checks judge the samples instead.
    if (!stopping && result.exitCode !== 0 && result.exitCode !== 99) {
      ctx.fail?.(new Error(`k6 exited with ${result.exitCode ?? result.signal}: ${String(result.stderr).slice(-500)}`));
    } else if (!stopping) ctx.log('k6 finished before the run did; no more samples from it');
  });
  return {
    async stop() {
      stopping = true;
      // k6 ends a test cleanly on SIGINT, writing out what it measured.
      if (child.exitCode === null) child.kill('SIGINT');
      await done;
    },
  };
}

async function startJob(ctx: ProbeContext, p: Params, script: string, runArgs: readonly string[], chosenForLackOfK6: boolean): Promise<RunningProbe> {
  const image = p.image ?? DEFAULT_K6_IMAGE;
  const job = new K6Job(ctx.cluster.kubeConfig, { namespace: p.namespace ?? DEFAULT_JOB_NAMESPACE, probe: ctx.name, image, script, runArgs, env: p.env ?? {}, ...(ctx.runId ? { runId: ctx.runId } : {}) });
  const output = new InClusterOutput(ctx);
  let ended: Promise<void>;
  try {
    await job.create();
    ctx.log(`k6 runs as Job ${p.namespace ?? DEFAULT_JOB_NAMESPACE}/${job.name} (${image})`);
    ({ ended } = await job.follow(output.onLine));
  } catch (err) {
    await job.cleanup().catch(() => undefined);
    const why = `the cluster could not run ${image}: ${errorMessage(err)}`;
    throw new Error(chosenForLackOfK6 ? `no k6 binary on PATH, and ${why}. ${INSTALL_K6}` : `${why}.`);
  }
  const finished = ended.then(() => {
    if (output.stopping) return;
    output.flush();
    if (output.points > 0) return;
    const why = `the cluster could not run ${image}: its Job ${job.name} ended without any k6 output`;
    ctx.fail?.(new Error(chosenForLackOfK6 ? `no k6 binary on PATH, and ${why}. ${INSTALL_K6}` : `${why}.`));
  });
  return output.running(() => job.cleanup(), finished);
}

async function startOperator(ctx: ProbeContext, p: Params, options: NonNullable<Params['operator']>, script: string, runArgs: readonly string[]): Promise<RunningProbe> {
  const namespace = p.namespace ?? DEFAULT_JOB_NAMESPACE;
  const image = p.image ?? DEFAULT_K6_IMAGE;
  const testRun = new K6TestRun(ctx.cluster.kubeConfig, { namespace, probe: ctx.name, image, script, runArgs, env: p.env ?? {}, ...options, ...(ctx.runId ? { runId: ctx.runId } : {}) });
  const what = `TestRun ${namespace}/${testRun.name}`;
  const output = new InClusterOutput(ctx);
  let outcome: Promise<TestRunOutcome>;
  try {
    await testRun.create();
    ctx.log(`k6 handed to the k6 operator as ${what} (parallelism ${options.parallelism}, ${image})`);
    ({ outcome } = await testRun.follow(output.onLine, (stage) => ctx.log(`${what}: stage ${stage || '(none yet)'}`)));
  } catch (err) {
    await testRun.cleanup().catch(() => undefined);
    throw err;
  }
  const finished = outcome.then(
    (o) => {
      if (output.stopping) return;
      output.flush();
      const problem = operatorProblem(what, o, output.points);
      if (problem) ctx.fail?.(new Error(problem));
      else ctx.log(`k6 finished before the run did${thresholdNote(o)}; no more samples from it`);
    },
    (err: unknown) => {
      if (!output.stopping) ctx.fail?.(new Error(`${what}: ${errorMessage(err)}`));
    },
  );
  return output.running(() => testRun.cleanup(), finished);
}

/** k6's output read back from a cluster (a Job's or the operator's runners' logs), as samples. */
class InClusterOutput {
  private readonly parser = new K6OutputParser();
  /** How many samples the output has given: none means k6 never ran. */
  points = 0;
  /** The probe is being stopped: k6 ending now is the run's doing, not news. */
  stopping = false;

  constructor(private readonly ctx: ProbeContext) {}

  readonly onLine = (line: string): void => {
    const samples = this.parser.feed(line);
    this.points += samples.length;
    samples.forEach((s) => this.ctx.emit(s));
  };

  flush(): void {
    this.parser.flush().forEach((s) => this.ctx.emit(s));
  }

  /** The running probe: stop deletes what was created, then gives the end of the output 2 s to arrive. */
  running(cleanup: () => Promise<void>, finished: Promise<void>): RunningProbe {
    return {
      stop: async () => {
        this.stopping = true;
        await cleanup();
        await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 2000))]);
        this.flush();
      },
    };
  }
}

/**
 * Why a TestRun's end means the probe cannot be trusted, or undefined. The operator calls a
 * TestRun finished whatever its runners' exit codes, so they are read here: 99 is k6's own
 * thresholds verdict (gameday's checks judge the samples instead), anything else a broken run.
 */
function operatorProblem(what: string, outcome: TestRunOutcome, points: number): string | undefined {
  if (outcome.stage === 'error') {
    return `the k6 operator put ${what} in stage error: it refused the test (arguments it cannot parse, a script its initializer cannot inspect, or parallelism above the script's VUs); see \`kubectl describe testrun\` and the operator's log`;
  }
  const broken = outcome.runners.filter((r) => r.exitCode !== 0 && r.exitCode !== 99);
  if (broken.length > 0) return `${what} finished, but its runners ${broken.map((r) => `${r.pod} (exit ${r.exitCode ?? 'unknown'})`).join(', ')} failed`;
  if (points === 0) {
    const unread = outcome.runners.filter((r) => r.logError).map((r) => r.logError);
    return `${what} finished without any k6 output in its runners' logs${unread.length ? ` (${unread.join('; ')})` : ''}`;
  }
  return undefined;
}

function thresholdNote(outcome: TestRunOutcome): string {
  const crossed = outcome.stage === 'finished' ? outcome.runners.filter((r) => r.exitCode === 99) : [];
  return crossed.length > 0 ? ` (k6's thresholds were crossed on ${crossed.map((r) => r.pod).join(', ')})` : '';
}

/** Reads what was appended to a file since the last read, line by line. */
class FileTail {
  private offset = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
  ) {}

  read(): void {
    if (!existsSync(this.file)) return;
    const fd = openSync(this.file, 'r');
    try {
      const chunk = Buffer.alloc(1 << 16);
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        const lines = (this.partial + this.decoder.write(chunk.subarray(0, n))).split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) this.onLine(line);
      }
    } finally {
      closeSync(fd);
    }
  }
}
