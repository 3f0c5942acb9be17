import { expect } from 'chai';
import { newRunId } from '../../src/engine/run-id.js';

describe('newRunId', () => {
  it('starts with the UTC start time and names the experiment', () => {
    const id = newRunId('Drain a worker: keeps web up!', Date.UTC(2026, 10, 24, 10, 15, 0));
    expect(id).to.match(/^20261124-101500-drain-a-worker-keeps-web-up-[0-9a-f]{4}$/);
  });

  it('differs between runs started in the same second', () => {
    const now = Date.UTC(2026, 0, 1);
    const ids = new Set(Array.from({ length: 20 }, () => newRunId('x', now)));
    expect(ids.size).to.be.greaterThan(1);
  });
});
