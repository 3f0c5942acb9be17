import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { BlastRadiusMap } from '../../src/core/blast-radius.js';
import type { RunEvent } from '../../src/journal/events.js';
import { HtmlReporter } from '../../src/report/html.js';
import { SummaryReporter } from '../../src/report/summary.js';
import { fixtureEvents, withTempDir } from './fixture-journals.js';
import { playEventRuns } from './html-fixture.js';

const PROBE = 'blastRadius(shop/frontend)';
/** Names come from the cluster: a namespace or pod name that tries to be markup must stay text. */
const HOSTILE_POD = 'shop/frontend-<script>window.__pwned=1</script>';

const map = (fields: BlastRadiusMap['fields'], reached: BlastRadiusMap['reached'], access: BlastRadiusMap['access']): BlastRadiusMap => ({
  pod: HOSTILE_POD,
  serviceAccount: 'shop/frontend',
  fields,
  reached,
  access,
  message: 'as …',
});

/** A passing fixture run with a blast radius probe beside its own: a first map, then a wider one that the report must show. */
function runWithBlastRadius(): RunEvent[] {
  const events = fixtureEvents('passing');
  const t0 = events[0]!.t;
  const narrow = map({ services: 1, namespaces: 1, secrets: 0, createPods: 0, exec: 0 }, [{ service: 'payments/api', path: 'payments/api:80' }], [{ namespace: 'shop', allowed: {} }]);
  const wide = map(
    { services: 2, namespaces: 1, secrets: 2, createPods: 1, exec: 0 },
    [
      { service: 'payments/api', path: 'payments/api:80' },
      { service: 'payments/db', path: 'payments/db:5432' },
    ],
    [
      { namespace: 'payments', allowed: { readSecrets: 'list' } },
      { namespace: 'shop', allowed: { readSecrets: 'get', createPods: 'create' } },
      { namespace: 'kube-system', allowed: {} },
    ],
  );
  // As the engine journals it: the first sample, taken while the probe starts, comes before probe.start.
  const probe: RunEvent[] = [
    { type: 'sample', t: t0 + 200, probe: PROBE, ok: true, value: 1, detail: { ...narrow } },
    { type: 'probe.start', t: t0 + 300, probe: PROBE, kind: 'blastRadius' },
    { type: 'sample', t: t0 + 2200, probe: PROBE, ok: true, value: 2, detail: { ...wide } },
    { type: 'sample', t: t0 + 4200, probe: PROBE, ok: false, error: 'map-failed', detail: { message: 'the API server went away' } },
  ];
  return [events[0]!, ...probe, ...events.slice(1)];
}

describe('report blast radius section (compromised-pod drill)', () => {
  it("shows the last good map: each field's count, the Services reached, the namespaces where the account has power, and a graph, with cluster names escaped", async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([runWithBlastRadius()], [new HtmlReporter()], dir);
      const html = await readFile(join(dir, result!.runId, 'report.html'), 'utf8');
      const section = /<section id="blast-radius">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
      expect(section).to.contain(`<h3>${PROBE} <span class="muted">as pod <code>shop/frontend-&lt;script&gt;window.__pwned=1&lt;/script&gt;</code>, service account <code>shop/frontend</code>, mapped at +00:02.2</span></h3>`);
      expect(section).to.not.contain('<script>');
      const count = (field: string): string => new RegExp(`<td><code>${field}</code></td><td data-label="Count"[^>]*>(\\d+)</td>`).exec(section)?.[1] ?? '';
      expect(['services', 'namespaces', 'secrets', 'createPods', 'exec'].map(count)).to.deep.equal(['2', '1', '2', '1', '0']);
      expect(section).to.contain('Reached from inside the pod: <code>payments/api:80</code> <code>payments/db:5432</code>');
      const rows = [...section.matchAll(/<tr><td><code>([a-z-]+)<\/code><\/td><td data-label="read Secrets">(.*?)<\/td><td data-label="create pods">(.*?)<\/td><td data-label="exec into pods">(.*?)<\/td><\/tr>/g)].map((m) => m.slice(1).map((c) => c.replace(/<[^>]+>/g, '')));
      expect(rows).to.deep.equal([
        ['payments', 'list', '-', '-'],
        ['shop', 'get', 'create', '-'],
      ]);
      const graph = /<svg class="blast-radius-graph"[\s\S]*?<\/svg>/.exec(section)?.[0] ?? '';
      expect([...graph.matchAll(/font-size="12">([^<]+)<\/text>/g)].map((m) => m[1])).to.deep.equal(['frontend-&lt;script&gt;window.__pwned=1&lt;', 'payments', 'shop']);
      expect(graph).to.contain('2 reached, read Secrets').and.to.contain('>read Secrets, create pods<');
    });
  });

  it('shows the same counts, the Services reached and where the account has power in summary.md', async () => {
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([runWithBlastRadius()], [new SummaryReporter({ env: {} })], dir);
      const md = await readFile(join(dir, result!.runId, 'summary.md'), 'utf8');
      expect(md).to.contain('### Blast radius');
      expect(md).to.match(/\| blastRadius\(shop\/frontend\) \| `shop\/frontend-.*` \| 2 \| 1 \| 2 \| 1 \| 0 \|/);
      expect(md).to.contain('reached: `payments/api:80`, `payments/db:5432`.');
      expect(md).to.contain("account `shop/frontend` has power in: `payments` (readSecrets: list), `shop` (readSecrets: get, createPods: create).");
      // A hostile pod name stays inside a code span, which Markdown renders as text.
      expect(md.split('<script>')).to.have.length(2);
      expect(md).to.contain('`shop/frontend-<script>window.__pwned=1</script>`');
    });
  });

  it('shows the first map when nothing changed after it, and leaves the section out of a run without a blast radius probe', async () => {
    await withTempDir(async (dir) => {
      const run = runWithBlastRadius();
      const onlyFirst = run.filter((e) => !(e.type === 'sample' && e.probe === PROBE && e.t - run[0]!.t > 1000));
      const [result] = await playEventRuns([onlyFirst], [new HtmlReporter()], dir);
      const html = await readFile(join(dir, result!.runId, 'report.html'), 'utf8');
      expect(html).to.contain('mapped at +00:00.2').and.to.contain('may not read Secrets, create pods or exec into pods in any of 1 namespaces');
    });
    await withTempDir(async (dir) => {
      const [result] = await playEventRuns([fixtureEvents('passing')], [new HtmlReporter()], dir);
      expect(await readFile(join(dir, result!.runId, 'report.html'), 'utf8')).not.to.contain('<section id="blast-radius">');
    });
  });
});
