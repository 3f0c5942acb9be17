/**
 * The stylesheet of report.html and index.html. One column that narrows to a phone's width
 * (tables scroll sideways instead of squeezing), and a print layout without navigation in which
 * a chart never splits across pages.
 */
export const REPORT_STYLE = `
:root { --fg: #1d2327; --muted: #5f6b73; --line: #d8dee2; --bg: #fff; --panel: #f6f8f9;
  --passed: #1e7b34; --failed: #c0392b; --inconclusive: #b7791f; --error: #8e44ad; --invalid: #8e44ad; --interrupted: #5f6b73; --no-data: #b7791f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1200px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 1.5em; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.15em; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1em; margin: 18px 0 4px; }
code { font: 0.92em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.record-keys code { white-space: nowrap; }
.muted { color: var(--muted); }
.outcome-banner { border-left: 6px solid var(--line); background: var(--panel); padding: 12px 16px; margin-bottom: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 0.85em; text-transform: uppercase; background: var(--muted); }
.v-passed { background: var(--passed); } .v-failed { background: var(--failed); } .v-inconclusive, .v-no-data { background: var(--inconclusive); }
.v-error, .v-invalid { background: var(--error); } .v-interrupted { background: var(--interrupted); }
.o-passed { border-left-color: var(--passed); } .o-failed { border-left-color: var(--failed); } .o-inconclusive { border-left-color: var(--inconclusive); }
.o-error, .o-invalid { border-left-color: var(--error); } .o-interrupted { border-left-color: var(--interrupted); }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 4px 16px; margin: 8px 0 0; }
.facts div { min-width: 0; } .facts dt { font-size: 0.8em; color: var(--muted); } .facts dd { margin: 0; overflow-wrap: anywhere; }
.table-scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
tr.check-active td { background: #fff4d6; }
.regression { color: var(--failed); font-weight: 600; }
.sparkline { vertical-align: middle; }
.lane { position: relative; height: 46px; background: var(--panel); border: 1px solid var(--line); margin: 8px 0 4px; overflow: hidden; }
.lane .fault-window { position: absolute; top: 0; bottom: 18px; background: rgba(231, 76, 60, 0.22); border-left: 2px solid #c0392b; font-size: 11px; padding: 1px 3px; white-space: nowrap; overflow: hidden; color: #6d1f14; }
.lane .fault-window.not-reverted { background: repeating-linear-gradient(45deg, rgba(231,76,60,.25), rgba(231,76,60,.25) 6px, rgba(231,76,60,.1) 6px, rgba(231,76,60,.1) 12px); }
.lane .marker { position: absolute; top: 0; bottom: 0; width: 0; border-left: 2px solid #555; }
.lane .marker.abort, .lane .marker.error, .lane .marker.revert-failed { border-left-color: var(--failed); }
.lane .marker.revert { border-left: 2px dashed var(--passed); } .lane .marker.warning { border-left-color: #b7791f; } .lane .marker.signal { border-left-color: #8e44ad; }
.lane .marker.k8s-warning { border-left: 3px solid #e67e22; }
.node-lane-title { font-size: 0.85em; color: var(--muted); margin-top: 6px; }
.lane.node-lane { margin-top: 2px; }
.lane.step-lane { margin-top: 2px; }
.lane .step-span { position: absolute; height: 15px; font-size: 10px; padding: 0 3px; white-space: nowrap; overflow: hidden; background: rgba(46, 134, 193, 0.22); border-left: 2px solid #2e86c1; color: #1b4f72; }
.lane .step-span.step-failed { background: rgba(231, 76, 60, 0.22); border-left-color: var(--failed); color: #6d1f14; }
.lane .step-span.step-running { background: repeating-linear-gradient(45deg, rgba(46,134,193,.25), rgba(46,134,193,.25) 6px, rgba(46,134,193,.1) 6px, rgba(46,134,193,.1) 12px); }
.condition-span { position: absolute; height: 16px; font-size: 10px; line-height: 16px; padding: 0 3px; white-space: nowrap; overflow: hidden; color: #fff; }
.condition-span.pressure { height: 12px; line-height: 12px; font-size: 9px; }
.ready-throughout { position: absolute; top: 0; left: 4px; font-size: 10px; line-height: 16px; color: var(--muted); }
.ready-true { background: #2e8b57; } .ready-false { background: #c0392b; }
.ready-unknown { background: repeating-linear-gradient(45deg, #7f8c8d, #7f8c8d 5px, #95a5a6 5px, #95a5a6 10px); }
.pressure { background: #d35400; }
tr.event-k8s-warning td:nth-child(2) { color: #b35900; font-weight: 600; }
.lane .phase { position: absolute; bottom: 0; height: 18px; font-size: 10px; color: var(--muted); border-left: 1px solid var(--line); padding-left: 2px; white-space: nowrap; overflow: hidden; }
.legend { font-size: 0.85em; color: var(--muted); display: flex; flex-wrap: wrap; gap: 4px 14px; }
.swatch { display: inline-block; width: 12px; height: 10px; vertical-align: middle; margin-right: 4px; }
.probe { margin: 14px 0; padding: 4px 0; border-radius: 4px; }
.probe.evidence-target, #timeline.evidence-target { outline: 3px solid #f1c40f; outline-offset: 4px; }
.chart { position: relative; width: 100%; overflow: hidden; margin: 4px 0 10px; }
.chart-title { font-size: 0.85em; color: var(--muted); margin-top: 6px; }
.evidence-anchor { position: absolute; top: -40px; }
.evidence-window { position: absolute; top: 0; bottom: 0; background: rgba(241, 196, 15, 0.25); border: 2px solid #d4ac0d; pointer-events: none; }
.uplot .u-legend { font-size: 12px; }
footer { margin-top: 36px; font-size: 0.85em; color: var(--muted); }
@media (max-width: 600px) {
  main { padding: 10px 10px 30px; }
  body { font-size: 14px; }
  h1 { font-size: 1.25em; }
  th, td { padding: 4px 5px; }
  .uplot .u-legend { font-size: 11px; }
  table.cards thead { display: none; }
  table.cards tr { display: block; border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.cards td { display: block; border: none; padding: 1px 2px; }
  table.cards td:empty { display: none; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); font-size: 0.85em; }
}
@media print {
  @page { margin: 12mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  .no-print { display: none !important; }
  a { color: inherit; text-decoration: none; }
  .probe, .chart, tr, .lane { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .table-scroll { overflow: visible; }
  .outcome-banner, .badge, .lane, .lane *, .swatch, .evidence-window { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`;
