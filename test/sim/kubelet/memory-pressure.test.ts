import { expect } from 'chai';
import { binaryQuantity, memoryEvictionMessage, rankMemoryPressure, throttleDelayMs } from '../../../src/sim/kubelet/memory-pressure.js';
import type { ContainerResources } from '../../../src/sim/kubelet/pod-worker.js';

const Mi = 2 ** 20;
const container = (memoryBytes: number, memoryRequestBytes: number, name = 'app'): ContainerResources => ({
  name, memoryBytes, memoryRequestBytes, cpuMillicores: 0, memoryLimitBytes: undefined, cpuLimitMillicores: undefined,
});
const pod = (name: string, priority: number, ...containers: ContainerResources[]) => ({ name, priority, containers });

describe('memory pressure ranking and messages (upstream eviction helpers)', () => {
  it('ranks pods over their requests first, then lower priority, then most usage above requests', () => {
    const ranked = rankMemoryPressure([
      pod('guaranteed', 0, container(60 * Mi, 64 * Mi)),
      pod('burstable-over-by-8', 0, container(16 * Mi, 8 * Mi)),
      pod('besteffort-high-priority', 1000, container(500 * Mi, 0)),
      pod('besteffort', 0, container(16 * Mi, 0)),
    ]);
    expect(ranked.map((p) => p.name)).to.deep.equal(['besteffort', 'burstable-over-by-8', 'besteffort-high-priority', 'guaranteed']);
  });

  it('writes the eviction message as upstream, naming each container over its request', () => {
    const message = memoryEvictionMessage(pod('x', 0, container(16 * Mi, 0), container(10 * Mi, 32 * Mi, 'sidecar'), container(1536, 1024, 'tiny')), 90 * Mi + 1024);
    expect(message).to.equal(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 92161Ki. ' +
        'Container app was using 16Mi, request is 0, has larger consumption of memory. ' +
        'Container tiny was using 1536, request is 1Ki, has larger consumption of memory. ',
    );
  });

  it('prints byte counts as resource.Quantity does in binary SI', () => {
    expect([0, 1023, 1024, 1536, 100 * Mi, 2 ** 30 * 3].map(binaryQuantity)).to.deep.equal(['0', '1023', '1Ki', '1536', '100Mi', '3Gi']);
  });

  it('throttles only CPU demand over what is allowed, by the share of the CFS period waited', () => {
    expect(throttleDelayMs(100, 100)).to.equal(0);
    expect(throttleDelayMs(400, 100)).to.equal(75);
    expect(throttleDelayMs(0, 0)).to.equal(0);
  });
});
