import type { StressOptions } from './node-access.js';

/**
 * How the shell providers run a stress: one stress-ng process, started in the background by a
 * POSIX `sh` script on the node (or in a pod's container), its pid in a file named by the
 * stress's id, so that isStressing and unstress find it again from the id alone, after a crash
 * too. Every stress carries `--timeout`: a gameday killed outright never leaves one running for
 * longer than the fault was meant to last, plus a margin.
 */

/** A stress's id becomes a file name: the node fault id, or `<id>-<namespace>-<pod>`. */
const STRESS_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** stress-ng's parent answers SIGTERM by stopping its workers at once; this long, then SIGKILL. */
const TERM_WAIT_TENTHS = 30;

export interface CpuWorkers {
  /** `--cpu N`: one worker per started core. */
  readonly workers: number;
  /** `--cpu-load P`: each worker computes P% of the time and sleeps the rest (1–100). */
  readonly loadPercent: number;
}

/**
 * Millicores as stress-ng workers: as few workers as can carry the amount (one per started
 * core), each loaded evenly, so 1500m is 2 workers at 75% and 500m one at 50%. A worker at 0% is
 * stress-ng's idea of a sleep, so the load is never below 1%.
 */
export function cpuWorkers(millicores: number): CpuWorkers {
  if (!Number.isFinite(millicores) || millicores <= 0) throw new Error(`a CPU stress needs more than 0 millicores, not ${millicores}`);
  const workers = Math.ceil(millicores / 1000);
  const loadPercent = Math.min(100, Math.max(1, Math.round(millicores / workers / 10)));
  return { workers, loadPercent };
}

/** The stress-ng command for a stress: `--cpu N --cpu-load P`, or one vm worker that keeps its bytes. */
export function stressNgArgv(options: Pick<StressOptions, 'memoryBytes' | 'cpuMillicores'>, timeoutSeconds: number): string[] {
  const timeout = ['--timeout', `${Math.max(1, Math.ceil(timeoutSeconds))}s`];
  if (options.memoryBytes !== undefined) {
    if (!Number.isInteger(options.memoryBytes) || options.memoryBytes < 4096) throw new Error(`a memory stress holds at least 4096 bytes, not ${options.memoryBytes}`);
    // --vm-keep: map once and keep rewriting the pages, so the bytes stay resident instead of
    // being unmapped and mapped again (stress-ng's default), which would make the use flicker.
    return ['stress-ng', '--vm', '1', '--vm-bytes', `${options.memoryBytes}b`, '--vm-keep', ...timeout, '--quiet'];
  }
  const { workers, loadPercent } = cpuWorkers(options.cpuMillicores ?? 0);
  return ['stress-ng', '--cpu', String(workers), '--cpu-load', String(loadPercent), ...timeout, '--quiet'];
}

/**
 * Where a stress keeps its pid (`.pid`) and stress-ng's output (`.log`): /tmp, which an
 * unprivileged helper pod and most containers can write. The node's name is part of it because
 * the netns nodes of the tests share this machine's /tmp.
 */
export function stressFileBase(node: string, id: string): string {
  if (!STRESS_ID.test(id)) throw new Error(`a stress id is 1–200 letters, digits, '.', '-' or '_', starting with a letter or digit, not ${JSON.stringify(id)}`);
  return `/tmp/gameday-stress-${node.replace(/[^A-Za-z0-9._-]/g, '_')}-${id}`;
}

/** Exit status of the start script when the node or container has no stress-ng. */
export const NO_STRESS_NG = 127;

/**
 * Whether the pid in `$1.pid` is a live stress-ng: the file's pid names a process whose command
 * is stress-ng and which is not a zombie (a helper pod's `sleep` never reaps the ones that end).
 */
const ALIVE = `alive() {
  [ -r "$1.pid" ] || return 1
  read -r pid < "$1.pid" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  read -r comm < "/proc/$pid/comm" || return 1
  [ "$comm" = stress-ng ] || return 1
  read -r stat < "/proc/$pid/stat" || return 1
  case "\${stat##*) }" in Z*|X*) return 1 ;; esac
  return 0
}`;

/** `sh -c FIND`: exit ${NO_STRESS_NG} when there is no stress-ng (a command of its own, before any other). */
export const FIND_SCRIPT = `command -v stress-ng >/dev/null 2>&1 || { echo "stress-ng: command not found" >&2; exit ${NO_STRESS_NG}; }`;

/**
 * `sh -c START base argv…`: starts stress-ng in the background, its output to `base.log`, and
 * writes its pid; then checks that it is still running half a second later, so a stress-ng
 * that refuses its arguments or finds too little memory fails the inject with its own words.
 * SIGHUP is ignored first (stress-ng inherits that), so the end of the exec session that started
 * it never ends the stress.
 */
export const START_SCRIPT = `${ALIVE}
base=$1; shift
: > "$base.pid" || { echo "cannot write $base.pid, where the stress's pid is kept (is /tmp read-only?)" >&2; exit 1; }
trap '' HUP
"$@" </dev/null >"$base.log" 2>&1 &
echo $! > "$base.pid"
sleep 0.5
alive "$base" && exit 0
echo "stress-ng ended at once:" >&2
tail -n 5 "$base.log" >&2
rm -f "$base.pid" "$base.log"
exit 1`;

/** `sh -c CHECK base`: exit 0 when the stress runs, 1 when it does not. */
export const CHECK_SCRIPT = `${ALIVE}
alive "$1"`;

/**
 * `sh -c STOP base`: SIGTERM to stress-ng (it stops its workers), SIGKILL if it lingers (its
 * workers die with it: stress-ng asks the kernel for that), then the files go. Nothing to stop is
 * not an error.
 */
export const STOP_SCRIPT = `${ALIVE}
base=$1
if alive "$base"; then
  kill -TERM "$pid" 2>/dev/null
  i=0
  while alive "$base" && [ "$i" -lt ${TERM_WAIT_TENTHS} ]; do sleep 0.1; i=$((i + 1)); done
  if alive "$base"; then kill -KILL "$pid" 2>/dev/null; fi
fi
rm -f "$base.pid" "$base.log"`;
