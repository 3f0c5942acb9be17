import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeEvidence } from './check-text.js';
import { faultProblems } from './fault-problems.js';
import type { BeginInfo, Reporter, RunContext } from './reporter.js';
import type { CheckResult, FaultResult, RunResult } from './result.js';
import { describeTargets } from './targets-text.js';
import { xmlAttr, xmlText } from './xml-text.js';

/**
 * Writes `<runDir>/junit.xml` (Jenkins/Ant `junit-10.xsd` dialect, which GitHub, GitLab and
 * Jenkins all read): one suite per run, one testcase per check and per fault. With several runs
 * it also writes `<outDir>/junit.xml` holding every run's suite, so CI needs a single glob.
 */
export class JunitReporter implements Reporter {
  readonly name = 'junit';
  readonly outputs = ['junit.xml'];
  private outDir?: string;

  onBegin(info: BeginInfo): void {
    this.outDir = info.outDir;
  }

  async onRunEnd(result: RunResult, run: RunContext): Promise<void> {
    await mkdir(run.runDir, { recursive: true });
    await writeFile(join(run.runDir, 'junit.xml'), renderJunit([result]));
  }

  async onEnd(results: readonly RunResult[]): Promise<void> {
    if (!this.outDir || results.length < 2) return;
    await mkdir(this.outDir, { recursive: true });
    await writeFile(join(this.outDir, 'junit.xml'), renderJunit(results));
  }
}

interface TestCase {
  readonly classname: string;
  readonly name: string;
  /** `failure`: the system under test broke; `error`: gameday could not do its job. */
  readonly problem?: { readonly element: 'failure' | 'error'; readonly type: string; readonly message: string; readonly body: string };
  readonly skipped?: string;
  readonly out?: string;
}

export function renderJunit(results: readonly RunResult[]): string {
  const suites = results.map((r) => ({ result: r, cases: testCases(r) }));
  const count = (pick: (c: TestCase) => boolean): number => suites.reduce((n, s) => n + s.cases.filter(pick).length, 0);
  const seconds = results.reduce((n, r) => n + r.durationMs, 0) / 1000;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="gameday" tests="${count(() => true)}" failures="${count(isFailure)}" errors="${count(isError)}" time="${seconds.toFixed(3)}">`,
    ...suites.flatMap((s) => renderSuite(s.result, s.cases)),
    '</testsuites>',
    '',
  ];
  return lines.join('\n');
}

const isFailure = (c: TestCase): boolean => c.problem?.element === 'failure';
const isError = (c: TestCase): boolean => c.problem?.element === 'error';

function renderSuite(r: RunResult, cases: readonly TestCase[]): string[] {
  const attrs = [
    `name="${xmlAttr(r.experiment)}"`,
    `tests="${cases.length}"`,
    `failures="${cases.filter(isFailure).length}"`,
    `errors="${cases.filter(isError).length}"`,
    `skipped="${cases.filter((c) => c.skipped !== undefined).length}"`,
    `time="${(r.durationMs / 1000).toFixed(3)}"`,
    `timestamp="${xmlAttr(r.startedAt)}"`,
    `id="${xmlAttr(r.runId)}"`,
    `file="${xmlAttr(r.file)}"`,
  ];
  const properties: [string, string][] = [
    ['run.id', r.runId],
    ['outcome', r.outcome],
    ['reason', r.reason],
    ['seed', String(r.seed)],
    ['cluster', `${r.cluster.kind}:${r.cluster.name}${r.cluster.context ? ` (context ${r.cluster.context})` : ''}`],
    ['gameday.version', r.gamedayVersion],
  ];
  return [
    `  <testsuite ${attrs.join(' ')}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`),
    '    </properties>',
    ...cases.flatMap(renderCase),
    `    <system-out>${xmlText(runLog(r).join('\n'))}</system-out>`,
    '  </testsuite>',
  ];
}

function renderCase(c: TestCase): string[] {
  const open = `    <testcase classname="${xmlAttr(c.classname)}" name="${xmlAttr(c.name)}"`;
  const inner: string[] = [];
  if (c.skipped !== undefined) inner.push(`      <skipped message="${xmlAttr(c.skipped)}"/>`);
  if (c.problem) {
    const p = c.problem;
    inner.push(`      <${p.element} message="${xmlAttr(p.message)}" type="${xmlAttr(p.type)}">${xmlText(p.body)}</${p.element}>`);
  }
  if (c.out) inner.push(`      <system-out>${xmlText(c.out)}</system-out>`);
  return inner.length === 0 ? [`${open}/>`] : [`${open}>`, ...inner, '    </testcase>'];
}

function testCases(r: RunResult): TestCase[] {
  const cases = [...r.checks.map(checkCase), ...r.faults.map(faultCase)];
  const explained = cases.some((c) => c.problem);
  const harnessEnd = r.outcome === 'error' || r.outcome === 'interrupted' || r.outcome === 'invalid';
  // The run's own outcome becomes a testcase only when no check or fault already shows why it
  // did not pass, or when gameday itself stopped (an error or a signal): CI must go red with a reason.
  if (harnessEnd || (r.outcome !== 'passed' && !explained)) {
    cases.push({
      classname: 'run',
      name: 'outcome',
      problem: { element: harnessEnd ? 'error' : 'failure', type: r.outcome, message: `${r.outcome}: ${r.reason}`, body: runLog(r).join('\n') },
    });
  }
  return cases;
}

function checkCase(c: CheckResult): TestCase {
  const body = describeEvidence(c).join('\n');
  const base = { classname: c.role, name: c.check };
  switch (c.verdict) {
    case 'passed':
      return { ...base, out: body };
    case 'failed':
      return { ...base, problem: { element: 'failure', type: `${c.role}-failed`, message: c.message, body } };
    case 'no-data':
      return { ...base, skipped: `no data: ${c.message}`, out: body };
  }
}

function faultCase(f: FaultResult): TestCase {
  const lines = [
    ...(f.description ? [f.description] : []),
    `targets: ${describeTargets(f.targets)}`,
    ...stepLine('inject started', f.injectStartedAt),
    ...stepLine('injected', f.injectedAt),
    ...stepLine(f.landed === false ? 'verified: did not land' : 'verified: landed', f.verifiedAt),
    ...stepLine('revert started', f.revertStartedAt),
    ...stepLine('reverted', f.revertedAt),
    ...f.evidence.map((e) => `${e.at} ${e.step}${e.message ? `: ${e.message}` : ''}${e.data !== undefined ? ` ${JSON.stringify(e.data)}` : ''}`),
  ];
  const base = { classname: 'fault', name: `${f.id} ${f.kind}` };
  const problems = faultProblems(f);
  const first = problems[0];
  if (!first) {
    return f.injectStartedAt === undefined
      ? { ...base, skipped: 'not reached: the run ended before this fault was due', out: lines.join('\n') }
      : { ...base, out: lines.join('\n') };
  }
  return {
    ...base,
    problem: { element: 'failure', type: first.type, message: problems.map((p) => p.message).join('; '), body: lines.join('\n') },
  };
}

function stepLine(label: string, at: string | undefined): string[] {
  return at ? [`${label}: ${at}`] : [];
}

function runLog(r: RunResult): string[] {
  return [
    `outcome: ${r.outcome}: ${r.reason}`,
    `run ${r.runId}, seed ${r.seed}, ${r.startedAt} .. ${r.endedAt}`,
    ...r.aborts.map((a) => `${a.at} aborted by "${a.check}": ${a.message}`),
    ...r.signals.map((s) => `${s.at} received ${s.signal}`),
    ...r.errors.map((e) => `${e.at} error (${e.source}): ${e.message}`),
  ];
}
