import type { StoredObject } from '../store.js';

/**
 * events.k8s.io/v1 Events are the core Events under other field names: the real server stores one
 * kind and converts on the way in and out, so both APIs list the same objects. The renames are
 * those of `pkg/apis/events/v1/conversion.go`.
 */
const RENAMES: readonly (readonly [core: string, events: string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
  ['reportingComponent', 'reportingController'],
];

function rename(o: StoredObject, apiVersion: string, from: 0 | 1): StoredObject {
  const out: Record<string, unknown> = { ...o, apiVersion };
  for (const pair of RENAMES) {
    const [a, b] = [pair[from], pair[1 - from]!];
    delete out[a];
    if (o[a] !== undefined) out[b] = o[a];
  }
  return out as StoredObject;
}

export const EVENTS_V1_CONVERSION = {
  // The core fields that are no pointers read as null and {} when an events.k8s.io writer left them out.
  toStored: (o: StoredObject): StoredObject => {
    const core = rename(o, 'v1', 1);
    return { ...core, source: core['source'] ?? {}, firstTimestamp: core['firstTimestamp'] ?? null, lastTimestamp: core['lastTimestamp'] ?? null };
  },
  // eventTime is no pointer in events.k8s.io/v1: an Event recorded without one shows null.
  fromStored: (o: StoredObject): StoredObject => ({ ...rename(o, 'events.k8s.io/v1', 0), eventTime: o['eventTime'] ?? null }),
};
