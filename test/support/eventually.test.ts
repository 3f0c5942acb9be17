import { expect } from 'chai';
import { eventually } from './eventually.js';

describe('test support: eventually', () => {
  it('resolves to the first answer that is not undefined, null or false, polling through errors', async () => {
    let calls = 0;
    const answer = await eventually('the third call', () => {
      calls++;
      if (calls === 1) throw new Error('not there yet');
      return calls === 2 ? null : { calls };
    });
    expect(answer).to.deep.equal({ calls: 3 });
  });

  it('fails saying what it waited for, for how long, and the last answer it saw', async () => {
    const message = await eventually('two ready pods', () => false, 100).then(() => 'resolved', (err: Error) => err.message);
    expect(message).to.equal('timed out after 100 ms waiting for two ready pods; last seen: false');
  });

  it('shows the last error when the probe kept throwing', async () => {
    const message = await eventually('the pod', () => Promise.reject(new Error('pods "web-0" not found')), 100).then(() => 'resolved', (err: Error) => err.message);
    expect(message).to.equal('timed out after 100 ms waiting for the pod; last seen: Error: pods "web-0" not found');
  });
});
