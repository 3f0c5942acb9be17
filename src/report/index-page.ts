import { relative } from 'node:path';
import { REPORT_STYLE } from './html/report-style.js';
import { plainText } from './plain-text.js';
import type { RunResult } from './result.js';
import { formatDuration } from './time-text.js';
import { xmlAttr, xmlText } from './xml-text.js';

export interface IndexRun {
  readonly result: RunResult;
  /** The run's directory; its report.html is linked relative to the index. */
  readonly runDir: string;
}

const text = (s: string): string => xmlText(plainText(s));

/**
 * `<outDir>/index.html` for an invocation that ran several experiments: one row per run with its
 * outcome and failed checks, linking each run's report.html, so a nightly has one page to open.
 */
export function renderIndexPage(runs: readonly IndexRun[], outDir: string): string {
  const rows = runs.map(({ result: r, runDir }) => {
    const failed = r.checks.filter((c) => c.verdict === 'failed');
    const href = `${relative(outDir, runDir).split(/[\\/]/).map(encodeURIComponent).join('/')}/report.html`;
    return `<tr class="run-${xmlAttr(r.outcome)}"><td><a href="${xmlAttr(href)}">${text(r.experiment)}</a><br><code class="muted">${text(r.runId)}</code></td><td><span class="badge v-${xmlAttr(r.outcome)}">${text(r.outcome)}</span></td><td>${formatDuration(r.durationMs)}</td><td>${failed.length === 0 ? '<span class="muted">none</span>' : failed.map((c) => `<code>${text(c.check)}</code>`).join('<br>')}</td></tr>`;
  });
  const counts = new Map<string, number>();
  for (const { result } of runs) counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
  const tally = [...counts].map(([o, n]) => `${n} ${o}`).join(', ');
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>gameday: ${runs.length} runs</title><style>${REPORT_STYLE}</style></head>
<body><main>
<h1>gameday: ${runs.length} runs</h1>
<p>${text(tally)}</p>
<div class="table-scroll"><table>
<thead><tr><th>Experiment</th><th>Outcome</th><th>Duration</th><th>Failed checks</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>
<footer><p><a href="history.ndjson">history.ndjson</a></p></footer>
</main></body></html>
`;
}
