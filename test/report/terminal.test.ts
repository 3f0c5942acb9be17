import { join } from 'node:path';
import { expect } from 'chai';
import { JsonReporter } from '../../src/report/json.js';
import { TerminalReporter } from '../../src/report/terminal.js';
import { playRuns, TextSink, withTempDir, type FixtureName } from './fixture-journals.js';

async function plainOutput(names: FixtureName[], quiet = false): Promise<{ lines: string[]; dir: string }> {
  return withTempDir(async (dir) => {
    const sink = new TextSink();
    await playRuns(names, [new TerminalReporter({ stream: sink, isTTY: false, quiet }), new JsonReporter()], dir);
    return { lines: sink.text.split('\n').filter((l) => l !== ''), dir };
  });
}

describe('report/terminal', () => {
  it('prints one plain line per phase, fault step and verdict, then the outcome and the report paths', async () => {
    const { lines, dir } = await plainOutput(['failed-slo']);
    expect(lines[0]).to.match(/^drain-a-worker-keeps-web-up \(experiments\/drain\.yaml\) run 20260101-000000-slo, seed 7/);
    expect(lines.filter((l) => / phase /.test(l))).to.have.length(6);
    expect(lines.filter((l) => / fault f0 nodeDrain /.test(l)).map((l) => l.split(' ')[4])).to.deep.equal(['inject:', 'injected', 'verified:', 'revert', 'reverted']);
    expect(lines).to.include('+00:20.0 fault f0 nodeDrain inject: nodes: worker-2');
    expect(lines).to.include('+01:10.1 slo FAILED availability(web) >= 99.5%: availability 94.2% < 99.5%: 8 of 138 requests failed (timeout)');
    expect(lines).to.include('+00:25.0 warning: eviction of shop/web-2 blocked by PodDisruptionBudget web, waiting');
    const outcome = lines.findIndex((l) => l.startsWith('FAILED drain-a-worker-keeps-web-up'));
    expect(lines[outcome]).to.contain('(exit 1)');
    expect(lines[outcome + 1]).to.equal(`  ${join(dir, '20260101-000000-slo', 'result.json')}`);
    expect(lines.join('\n')).to.not.contain('\u001b');
  });

  it('prints a check verdict only when it changes', async () => {
    const { lines } = await plainOutput(['passing']);
    const before = lines.filter((l) => l.includes('steady-state-before') && l.includes('ready('));
    expect(before.map((l) => l.split(' ')[2])).to.deep.equal(['FAILED', 'passed']);
  });

  it('tells a met abort condition once, then reverts and names it in the outcome', async () => {
    const { lines } = await plainOutput(['aborted']);
    const told = lines.filter((l) => l.includes('ready(deployment/shop/web) < 3 over 3s') && !l.startsWith('FAILED'));
    expect(told).to.deep.equal(['+00:14.1 abort ready(deployment/shop/web) < 3 over 3s: abort condition met: ready(deployment/shop/web) = 2 (need < 3) at +1.0s (1 reading)']);
    expect(lines.findIndex((l) => l.includes('nodeDrain revert'))).to.be.greaterThan(lines.indexOf(told[0]!));
    expect(lines.find((l) => l.startsWith('FAILED drain-aborted'))).to.contain('aborted: ready(deployment/shop/web) < 3 over 3s came true');
    // The inject line in the fault's own words, not its raw targets.
    expect(lines).to.include('+00:10.1 fault f0 nodeDrain inject: drain node gameday-worker (evicting 1 pod)');
  });

  it('names a fault that may still be applied after the outcome', async () => {
    const { lines } = await plainOutput(['interrupted-revert-failed']);
    const outcome = lines.findIndex((l) => l.startsWith('INTERRUPTED partition-zone-b'));
    expect(lines[outcome]).to.contain('(exit 130)');
    expect(lines[outcome + 1]).to.match(/^ {2}fault f0 networkPartition revert failed: .* run gameday recover .*20260101-000000-int$/);
    expect(lines).to.include('+00:12.0 received SIGINT, reverting faults');
  });

  it('prints one line per node condition change and Kubernetes Warning event, and none when quiet', async () => {
    const { lines } = await plainOutput(['node-partition']);
    expect(lines).to.include('+00:11.0 node gameday-worker2 Ready True → Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)');
    expect(lines).to.include('+00:04.2 node gameday-worker3 MemoryPressure True (KubeletHasInsufficientMemory: kubelet has insufficient memory available)');
    expect(lines).to.include('+00:11.2 Warning NodeNotReady Pod shop/web-6d9f-abcde: Node is not ready');
    expect(lines.filter((l) => / Warning FailedScheduling Pod shop\/web-6d9f-fghij: /.test(l)).map((l) => / \((\d+) times\)$/.exec(l)?.[1] ?? '1')).to.deep.equal(['1', '4']);
    expect(lines.filter((l) => / node gameday-worker\d /.test(l))).to.have.length(5);
    const quiet = await plainOutput(['node-partition'], true);
    expect(quiet.lines.some((l) => / node gameday-worker| Warning /.test(l))).to.equal(false);
  });

  it('keeps only what needs attention when quiet', async () => {
    const { lines } = await plainOutput(['inconclusive-not-landed'], true);
    expect(lines.some((l) => / phase /.test(l))).to.equal(false);
    expect(lines.some((l) => l.includes('podKill injected'))).to.equal(false);
    expect(lines).to.include('+00:15.1 fault f0 podKill not-landed: pod shop/db-0 still running with the same uid after 5s');
    expect(lines).to.include('+00:31.1 slo no data failover(statefulset/shop/db) < 20s: no leader change was observed');
    expect(lines.some((l) => l.startsWith('INCONCLUSIVE kill-db-fails-over'))).to.equal(true);
  });

  it('sums up several runs with the worst outcome', async () => {
    const { lines } = await plainOutput(['passing', 'inconclusive-not-landed', 'failed-slo']);
    expect(lines).to.include('3 runs: 1 passed, 1 inconclusive, 1 failed; overall INCONCLUSIVE');
  });

  it('on a TTY redraws a status line in place and clears it before the next line', async () => {
    await withTempDir(async (dir) => {
      const sink = new TextSink();
      // Half a minute into the 60 s run, whatever the journal's own times say.
      const now = () => Date.parse('2026-01-01T00:00:30Z');
      await playRuns(['failed-slo'], [new TerminalReporter({ stream: sink, isTTY: true, env: { NO_COLOR: '1' }, now })], dir);
      const clear = '\r\u001b[2K';
      const statuses = sink.text.split('\n').flatMap((l) => l.split(clear)).filter((l) => l.includes(' · '));
      expect(statuses).to.include('faults · 30s left · web 5 ok');
      expect(statuses).to.include('faults · 30s left · web 39 ok · f0 nodeDrain inject');
      expect(statuses.some((l) => l.includes('web 130 ok 8 failed'))).to.equal(true);
      // NO_COLOR: the only escape sequence left is the line clear.
      expect(sink.text.split(clear).join('')).to.not.contain('\u001b');
      // The status line is gone before the outcome is printed, and nothing is drawn after it.
      const tail = sink.text.slice(sink.text.lastIndexOf(clear) + clear.length);
      expect(tail.startsWith('FAILED drain-a-worker-keeps-web-up')).to.equal(true);
    });
  });

  it('colours verdicts on a TTY unless NO_COLOR is set', async () => {
    await withTempDir(async (dir) => {
      const sink = new TextSink();
      await playRuns(['failed-slo'], [new TerminalReporter({ stream: sink, isTTY: true, env: {} })], dir);
      expect(sink.text).to.contain('\u001b[31mFAILED\u001b[39m availability');
    });
  });
});
