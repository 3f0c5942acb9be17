/**
 * The browser side of report.html, inlined as text: it reads the embedded JSON, draws one uPlot
 * chart per probe figure with the fault windows shaded and the abort/revert moments marked, and
 * makes each evidence link highlight its window. Plain ES2017 without modules, because the page
 * must open from a file:// URL, offline, in any current browser. Charts size to their container,
 * so the same page reads on a phone, a desktop and paper.
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('gameday-data').textContent);
  var tl = data.timeline;
  var charts = {};
  var highlight = null;
  var MARKER_COLORS = { abort: '#c0392b', revert: '#1e7b34', 'revert-failed': '#c0392b', signal: '#8e44ad', warning: '#b7791f', error: '#c0392b' };

  function offset(s) {
    var sign = s < 0 ? '-' : '+';
    s = Math.abs(s);
    var m = Math.floor(s / 60);
    var sec = Math.round((s - m * 60) * 10) / 10;
    return sign + m + ':' + (sec < 10 ? '0' : '') + sec;
  }

  function chartHeight() {
    return window.matchMedia('(max-width: 600px)').matches ? 160 : 200;
  }

  function inView(u, v) {
    return Math.min(Math.max(v, u.bbox.left), u.bbox.left + u.bbox.width);
  }

  function decorations(chartId) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          tl.faults.forEach(function (f, i) {
            var x0 = inView(u, u.valToPos(f.from, 'x', true));
            var x1 = inView(u, u.valToPos(f.to, 'x', true));
            if (x1 <= x0) return;
            ctx.fillStyle = i % 2 ? 'rgba(230, 126, 34, 0.14)' : 'rgba(231, 76, 60, 0.12)';
            ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height);
          });
          ctx.restore();
        }],
        draw: [function (u) {
          var ctx = u.ctx;
          var px = uPlot.pxRatio;
          ctx.save();
          ctx.font = (11 * px) + 'px system-ui, sans-serif';
          ctx.textBaseline = 'top';
          tl.faults.forEach(function (f, i) {
            var x0 = u.valToPos(f.from, 'x', true);
            if (x0 < u.bbox.left || x0 > u.bbox.left + u.bbox.width) return;
            ctx.fillStyle = '#8a2a1d';
            ctx.fillText(f.id, x0 + 3 * px, u.bbox.top + (2 + 12 * (i % 3)) * px);
          });
          tl.markers.forEach(function (m) {
            // Warnings and errors can come by the hundred; the lane above the charts shows them.
            if (m.kind === 'warning' || m.kind === 'k8s-warning' || m.kind === 'error') return;
            var x = u.valToPos(m.t, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.strokeStyle = MARKER_COLORS[m.kind] || '#555';
            ctx.lineWidth = 1.5 * px;
            ctx.setLineDash(m.kind === 'revert' ? [4 * px, 3 * px] : []);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          });
          ctx.setLineDash([]);
          if (highlight && highlight.chartId === chartId && highlight.first != null) {
            var fx = u.valToPos(highlight.first, 'x', true);
            ctx.strokeStyle = '#c0392b';
            ctx.lineWidth = 2 * px;
            ctx.beginPath();
            ctx.moveTo(fx, u.bbox.top);
            ctx.lineTo(fx, u.bbox.top + u.bbox.height);
            ctx.stroke();
          }
          ctx.restore();
          placeEvidence(u, chartId);
        }],
      },
    };
  }

  function placeEvidence(u, chartId) {
    var box = u.over.querySelector('.evidence-window');
    if (!highlight || highlight.chartId !== chartId || highlight.from == null) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = document.createElement('div');
      box.className = 'evidence-window';
      u.over.appendChild(box);
    }
    var width = u.over.clientWidth;
    var left = Math.max(0, u.valToPos(highlight.from, 'x'));
    var right = Math.min(width, u.valToPos(highlight.to, 'x'));
    box.style.left = left + 'px';
    box.style.width = Math.max(2, right - left) + 'px';
    box.dataset.check = String(highlight.index);
    box.title = 'evidence of ' + highlight.check + ': ' + offset(highlight.from) + ' .. ' + offset(highlight.to);
  }

  function seriesFor(probe, kind) {
    if (kind === 'success') {
      return { series: [{ label: 'success %', stroke: '#1e7b34', width: 1.5, value: function (u, v) { return v == null ? '-' : v + '%'; } }], data: [probe.success], range: [0, 100], unit: '%' };
    }
    if (kind === 'latency') {
      var ms = function (u, v) { return v == null ? '-' : v + 'ms'; };
      return {
        series: [
          { label: 'p50', stroke: '#2e86c1', width: 1, value: ms },
          { label: 'p90', stroke: '#8e44ad', width: 1, value: ms },
          { label: 'p99', stroke: '#d35400', width: 1.5, value: ms },
          { label: 'max', stroke: '#7f8c8d', width: 1, dash: [3, 3], value: ms },
        ],
        data: [probe.p50, probe.p90, probe.p99, probe.max],
        unit: 'ms',
      };
    }
    var stepped = uPlot.paths.stepped({ align: 1 });
    var out = { series: [{ label: probe.kind === 'pdb' ? 'ready pods' : 'value', stroke: '#2e86c1', width: 2, paths: stepped, spanGaps: true }], data: [probe.value], unit: '' };
    if (probe.floor.length > 0) {
      out.series.push({ label: 'desired healthy', stroke: '#c0392b', width: 1.5, dash: [6, 4], paths: stepped, spanGaps: true });
      out.data.push(probe.floor);
    }
    return out;
  }

  function build(el) {
    var probe = tl.probes[Number(el.dataset.probe)];
    var kind = el.dataset.chart;
    var spec = seriesFor(probe, kind);
    var y = { auto: true };
    if (spec.range) y = { auto: false, range: spec.range };
    else y = { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.1 : 1]; } };
    spec.series.forEach(function (sr) { sr.points = { show: false }; });
    var opts = {
      width: Math.max(200, el.clientWidth),
      height: chartHeight(),
      cursor: { sync: { key: 'gameday' } },
      scales: { x: { time: false, range: [Math.min(0, probe.x[0] || 0), Math.max(tl.durationS, probe.x[probe.x.length - 1] || 0)] }, y: y },
      axes: [
        { values: function (u, splits) { return splits.map(offset); } },
        { values: function (u, splits) { return splits.map(function (v) { return v + spec.unit; }); }, size: spec.unit === 'ms' ? 72 : 50 },
      ],
      series: [{ label: 'time', value: function (u, v) { return v == null ? '-' : offset(v); } }].concat(spec.series),
      plugins: [decorations(el.id)],
    };
    var u = new uPlot(opts, [probe.x].concat(spec.data), el);
    charts[el.id] = { u: u, el: el };
  }

  // The offered rate (left axis) and the replicas (right axis, stepped) on one chart.
  function buildScaling(el) {
    var s = tl.scaling;
    var top = function (values) { return values.reduce(function (m, v) { return v == null ? m : Math.max(m, v); }, 0); };
    var opts = {
      width: Math.max(200, el.clientWidth),
      height: chartHeight(),
      cursor: { sync: { key: 'gameday' } },
      scales: {
        x: { time: false, range: [Math.min(0, s.x[0] || 0), Math.max(tl.durationS, s.x[s.x.length - 1] || 0)] },
        rate: { auto: false, range: [0, Math.max(1, top(s.offered) * 1.1)] },
        replicas: { auto: false, range: [0, Math.max(1, top(s.replicas) + 1)] },
      },
      axes: [
        { values: function (u, splits) { return splits.map(offset); } },
        { scale: 'rate', values: function (u, splits) { return splits.map(function (v) { return v + '/s'; }); }, size: 60 },
        { scale: 'replicas', side: 1, grid: { show: false }, size: 40 },
      ],
      series: [
        { label: 'time', value: function (u, v) { return v == null ? '-' : offset(v); } },
        { label: 'offered rate', scale: 'rate', stroke: '#d35400', width: 1.5, spanGaps: true, points: { show: false }, value: function (u, v) { return v == null ? '-' : v + '/s'; } },
        { label: 'replicas', scale: 'replicas', stroke: '#2e86c1', width: 2, paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true, points: { show: false }, value: function (u, v) { return v == null ? '-' : String(v); } },
      ],
      plugins: [decorations(el.id)],
    };
    charts[el.id] = { u: new uPlot(opts, [s.x, s.offered, s.replicas], el), el: el };
  }

  function resizeAll() {
    Object.keys(charts).forEach(function (id) {
      var c = charts[id];
      c.u.setSize({ width: Math.max(200, c.el.clientWidth), height: chartHeight() });
    });
  }

  function showEvidence(index) {
    var check = tl.checks[index];
    if (!check) return;
    highlight = { index: index, chartId: check.chartId, check: check.check, from: check.from, to: check.to, first: check.firstViolation };
    Object.keys(charts).forEach(function (id) { charts[id].u.redraw(false); });
    document.querySelectorAll('.evidence-target').forEach(function (e) { e.classList.remove('evidence-target'); });
    document.querySelectorAll('tr.check-active').forEach(function (e) { e.classList.remove('check-active'); });
    var row = document.getElementById('check-' + index);
    if (row) row.classList.add('check-active');
    var target = document.getElementById(check.chartId) || document.getElementById('timeline');
    var box = target.closest('.probe') || target;
    box.classList.add('evidence-target');
    target.scrollIntoView({ block: 'center' });
  }

  function fromHash() {
    var m = /^#evidence-(\d+)$/.exec(location.hash);
    if (m) showEvidence(Number(m[1]));
  }

  document.querySelectorAll('.chart[data-probe]').forEach(build);
  document.querySelectorAll('.chart[data-scaling]').forEach(buildScaling);
  document.querySelectorAll('a.evidence-link').forEach(function (a) {
    a.addEventListener('click', function () { showEvidence(Number(a.dataset.check)); });
  });
  window.addEventListener('hashchange', fromHash);
  if (window.ResizeObserver) {
    var pending = null;
    new ResizeObserver(function () {
      if (pending) cancelAnimationFrame(pending);
      pending = requestAnimationFrame(resizeAll);
    }).observe(document.body);
  } else {
    window.addEventListener('resize', resizeAll);
  }
  window.addEventListener('beforeprint', resizeAll);
  fromHash();
  document.documentElement.dataset.charts = String(Object.keys(charts).length);
  document.documentElement.dataset.ready = 'true';
})();
`;
