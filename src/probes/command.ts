import path from 'node:path';
import { execa, type Result } from 'execa';
import { z } from 'zod';
import { Duration } from '../core/duration.js';
import { positiveDurationSchema } from '../spec/value-schemas.js';
import { repeatEvery } from './shared/repeat-every.js';
import type { ProbePlugin } from './probe.js';

const params = z.strictObject({
  run: z
    .union([
      z.array(z.string(), { error: 'write the command as a list of words, like [curl, -fsS, http://localhost:30080/]' }).min(1, { error: 'the command needs at least its program name' }),
      z.string().min(1, { error: 'the shell command is empty' }),
    ])
    .describe('the command: a list [program, arg…] run directly, or one string run by /bin/sh'),
  every: positiveDurationSchema.optional().describe('how often to run it; a run still going delays the next. @default 5s'),
  timeout: positiveDurationSchema.optional().describe('a run taking longer is killed and counts as failed (error "timeout"). @default 10s'),
  env: z.record(z.string(), z.string({ error: 'an environment value is text; quote it' })).optional().describe("extra environment variables, added to gameday's own"),
  cwd: z.string().optional().describe("working directory, relative to the experiment file. @default the experiment file's directory"),
});
type Params = z.output<typeof params>;

/** How much of stdout and stderr a sample keeps, from the end, where errors usually are. */
const TAIL_CHARS = 500;

/**
 * Runs any command on a schedule: exit status 0 is a good sample, anything else a failed one
 * (`exit-<n>`, `timeout`, `signal-<SIG>`, `not-found`), the duration is the latency, and the tail
 * of its output is the evidence.
 */
export const commandProbe: ProbePlugin<Params> = {
  kind: 'command',
  summary: 'run a command on a schedule; exit status 0 is a good sample',
  params,

  async start(ctx, p) {
    const every = (p.every ?? Duration.seconds(5)).ms;
    const timeout = (p.timeout ?? Duration.seconds(10)).ms;
    const cwd = path.resolve(ctx.experimentDir, p.cwd ?? '.');
    const options = { timeout, reject: false, cwd, env: p.env, extendEnv: true, stdin: 'ignore', forceKillAfterDelay: 2000 } as const;
    const runOnce = async (): Promise<void> => {
      const t = Date.now();
      const result: Result = typeof p.run === 'string' ? await execa(p.run, { ...options, shell: true }) : await execa(p.run[0]!, p.run.slice(1), options);
      const latencyMs = Date.now() - t;
      const error = failureOf(result);
      const detail = { exitCode: result.exitCode ?? null, stdout: tail(result.stdout), stderr: tail(result.stderr) };
      ctx.emit(error ? { t, ok: false, latencyMs, error, detail } : { t, ok: true, latencyMs, detail });
    };
    return repeatEvery(every, runOnce, (err) => ctx.fail?.(err));
  },
};

function failureOf(result: Result): string | undefined {
  if (result.timedOut) return 'timeout';
  if (result.code === 'ENOENT') return 'not-found';
  if (result.signal) return `signal-${result.signal}`;
  if (result.exitCode !== 0) return result.exitCode === undefined ? 'error' : `exit-${result.exitCode}`;
  return undefined;
}

function tail(output: unknown): string {
  const text = typeof output === 'string' ? output : '';
  return text.length > TAIL_CHARS ? `…${text.slice(-TAIL_CHARS)}` : text;
}
