import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { RunEvent } from '../../src/journal/events.js';
import { Journal } from '../../src/journal/writer.js';
import { readJournalEvents } from '../../src/journal/reader.js';
import { tempDir } from '../engine/helpers/experiment.js';

const sample = (t: number, probe: string): RunEvent => ({ type: 'sample', t, probe, ok: true });

describe('Journal', () => {
  it('keeps one order for writers that interleave across awaits', async () => {
    const path = join(tempDir(), 'journal.ndjson');
    const journal = Journal.open(path);
    const written: RunEvent[] = [];
    const writer = async (probe: string): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        const e = sample(i, probe);
        written.push(e);
        journal.write(e);
        if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all([writer('a'), writer('b'), writer('c')]);
    journal.close();
    expect(await readJournalEvents(path)).to.deep.equal(written);
  });

  it('puts buffered events and then a durable one on disk before writeDurable returns', () => {
    const path = join(tempDir(), 'journal.ndjson');
    const journal = Journal.open(path);
    journal.write(sample(1, 'web'));
    expect(readFileSync(path, 'utf8')).to.equal('');
    journal.writeDurable({ type: 'fault', t: 2, step: 'inject', fault: 'f0', kind: 'podKill' });
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
    expect(lines.map((e) => e.type)).to.deep.equal(['sample', 'fault']);
    journal.close();
  });
});

describe('readJournal', () => {
  it('skips a truncated last line', async () => {
    const path = join(tempDir(), 'journal.ndjson');
    writeFileSync(path, `${JSON.stringify(sample(1, 'web'))}\n${JSON.stringify(sample(2, 'web'))}\n{"type":"sam`);
    expect((await readJournalEvents(path)).map((e) => e.t)).to.deep.equal([1, 2]);
  });

  it('throws on a broken line that is not the last, naming it', async () => {
    const path = join(tempDir(), 'journal.ndjson');
    writeFileSync(path, `${JSON.stringify(sample(1, 'web'))}\nnot json\n${JSON.stringify(sample(2, 'web'))}\n`);
    let message = '';
    await readJournalEvents(path).catch((err: Error) => (message = err.message));
    expect(message).to.contain(`${path}:2: not a journal event`);
  });

  it('skips blank lines, also between the events and a truncated last line', async () => {
    const path = join(tempDir(), 'journal.ndjson');
    writeFileSync(path, `${JSON.stringify(sample(1, 'web'))}\n\n${JSON.stringify(sample(2, 'web'))}\n{"type":"sam\n\n`);
    expect((await readJournalEvents(path)).map((e) => e.t)).to.deep.equal([1, 2]);
  });
});
