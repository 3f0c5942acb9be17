import { expect } from 'chai';
import { EventRecorder } from '../../src/sim/event-recorder.js';
import { ObjectStore, type StoredObject } from '../../src/sim/store.js';

describe('sim event recorder', () => {
  it('counts repeats on one event and drops the least recently recorded past its limit', () => {
    const store = new ObjectStore();
    const recorder = new EventRecorder(store, 2);
    const pod = store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', uid: '', resourceVersion: '', creationTimestamp: '' } });
    const source = { component: 'kubelet', host: 'gameday-worker' };
    recorder.record(pod, 'Normal', 'Pulled', 'pulled', source);
    recorder.record(pod, 'Normal', 'Started', 'started', source);
    recorder.record(pod, 'Normal', 'Pulled', 'pulled', source);
    recorder.record(pod, 'Warning', 'Unhealthy', 'probe failed', source);
    const events = store.list('events', 'shop') as (StoredObject & { reason: string; count: number })[];
    expect(events.map((e) => [e.reason, e.count]).sort()).to.deep.equal([['Pulled', 2], ['Unhealthy', 1]]);
    // client-go's name: the object's name and the time in nanoseconds, in hex.
    for (const e of events) expect(e.metadata.name).to.match(/^web\.[0-9a-f]{16}$/);
    expect(new Set(events.map((e) => e.metadata.name)).size).to.equal(2);
  });
});
