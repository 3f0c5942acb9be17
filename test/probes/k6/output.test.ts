import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { K6OutputParser } from '../../../src/probes/k6/output.js';

const FIXTURES = path.resolve('test/fixtures/k6');

describe('k6 probe', () => {
  describe('JSON output parser (k6 --out json lines)', () => {
    const lines = readFileSync(path.join(FIXTURES, 'k6-output.ndjson'), 'utf8').split('\n');
    const parser = new K6OutputParser();
    const samples = [...lines.flatMap((l) => parser.feed(l)), ...parser.flush()];

    it('makes one sample per request: latency from http_req_duration, ok from http_req_failed, stamped at its start', () => {
      const requests = samples.filter((s) => s.detail?.kind === 'request');
      expect(requests).to.have.length(3);
      expect(requests[0]).to.deep.include({ ok: true, latencyMs: 12.345678, t: Date.parse('2025-05-20T10:00:01.250Z') - 12 });
      expect(requests[0]!.detail).to.include({ method: 'GET', status: 200, name: 'http://web.shop.svc/' });
      expect(requests[1]).to.include({ ok: false, error: 'status-503', latencyMs: 48.5 });
      expect(requests[2]).to.include({ ok: false, error: 'k6-error-1211' });
    });

    it('makes one sample per check, and skips log lines, other metrics and broken lines', () => {
      const checks = samples.filter((s) => s.detail?.kind === 'check');
      expect(checks.map((c) => c.ok)).to.deep.equal([true, false]);
      expect(checks[1]).to.deep.include({ error: 'check-failed', detail: { kind: 'check', check: 'status is 200' } });
      expect(samples).to.have.length(5);
    });
  });
});
