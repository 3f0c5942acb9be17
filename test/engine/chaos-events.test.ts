import { join } from 'node:path';
import { expect } from 'chai';
import { runExperiment } from '../../src/engine/runner.js';
import { buildExperiment, CapturingObserver, stubCluster, tempDir, testRegistries, unreachableKubeConfig } from './helpers/experiment.js';

describe('fault Events that cannot be written', () => {
  it('are warnings in the journal, and the run still passes', async () => {
    const dir = tempDir();
    const { spec, plan } = buildExperiment({ durationMs: 100, faults: [{ atMs: 0, params: { marker: join(dir, 'marker') } }] });
    // The fault says it acts on a node, but the API server behind the kubeconfig refuses every connection.
    const onNode = { ...plan, faults: plan.faults.map((f) => ({ ...f, touches: { nodes: ['worker-1'], pods: [] } })) };
    const observer = new CapturingObserver();
    const summary = await runExperiment({
      spec,
      seed: plan.seed,
      makePlan: () => onNode,
      cluster: { ...stubCluster(), kubeConfig: unreachableKubeConfig() },
      registries: testRegistries(),
      runId: 'test-run',
      runDir: join(dir, 'run'),
      observer,
      tickMs: 10,
    });
    expect(summary.outcome, summary.reason).to.equal('passed');
    const warnings = observer.ofType('log').filter((e) => e.level === 'warn').map((e) => e.message);
    expect(warnings.some((m) => m.startsWith('could not record Event GamedayFaultInjected on Node worker-1'))).to.equal(true, warnings.join('\n'));
    expect(warnings.some((m) => m.startsWith('could not record Event GamedayFaultReverted on Node worker-1'))).to.equal(true, warnings.join('\n'));
  });
});
