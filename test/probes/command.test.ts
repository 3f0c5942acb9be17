import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { commandProbe } from '../../src/probes/command.js';
import { eventually } from '../support/eventually.js';
import { startProbe } from './probe-harness.js';

const kc = new k8s.KubeConfig();

describe('command probe (real child processes)', function () {
  this.timeout(20_000);

  it('runs on a schedule: exit 0 is a good sample, with its duration and output tail', async () => {
    const probe = await startProbe(commandProbe, { run: 'echo hello from $WHO', every: '100ms', env: { WHO: 'gameday' } }, kc);
    await eventually('three runs', () => probe.samples.length >= 3);
    await probe.stop();
    const s = probe.samples[0]!;
    expect(s).to.include({ ok: true });
    expect(s.latencyMs).to.be.a('number');
    expect(s.detail).to.include({ exitCode: 0, stdout: 'hello from gameday' });
    expect(probe.samples[1]!.t - s.t).to.be.at.least(90);
  });

  it('names the failure: exit-<n>, timeout, not-found', async () => {
    const exit = await startProbe(commandProbe, { run: [process.execPath, '-e', 'console.error("broken"); process.exit(3)'], every: '1s' }, kc);
    const timeout = await startProbe(commandProbe, { run: [process.execPath, '-e', 'setTimeout(() => {}, 10000)'], timeout: '200ms', every: '1s' }, kc);
    const missing = await startProbe(commandProbe, { run: ['/nonexistent/gameday-no-such-command'], every: '1s' }, kc);
    await eventually('a sample from each', () => exit.samples.length > 0 && timeout.samples.length > 0 && missing.samples.length > 0, 10_000);
    await Promise.all([exit.stop(), timeout.stop(), missing.stop()]);
    expect(exit.samples[0]).to.deep.include({ ok: false, error: 'exit-3' });
    expect(exit.samples[0]!.detail).to.include({ exitCode: 3, stderr: 'broken' });
    expect(timeout.samples[0]).to.include({ ok: false, error: 'timeout' });
    expect(missing.samples[0]).to.include({ ok: false, error: 'not-found' });
  });

  it('stops between runs without waiting for the next slot', async () => {
    const probe = await startProbe(commandProbe, { run: ['true'], every: '1h' }, kc);
    await eventually('the first run', () => probe.samples.length === 1);
    const stopping = performance.now();
    await probe.stop();
    expect(performance.now() - stopping, 'ms to stop').to.be.below(1000);
    expect(probe.samples).to.have.length(1);
  });

  it('refuses an empty command and a duration without unit, saying how to write them', () => {
    expect(commandProbe.params.safeParse({ run: [] }).error?.issues[0]?.message).to.contain('program name');
    expect(JSON.stringify(commandProbe.params.safeParse({ run: 'true', every: 5 }).error?.issues)).to.contain('5s');
  });
});
