/* llmlab dashboard: draws the charts described by [data-chart] elements with uPlot. */
(function () {
  "use strict";
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];

  function scatterData(spec) {
    var pts = spec.points.slice().sort(function (a, b) { return a.x - b.x; });
    var groups = [];
    pts.forEach(function (p) { if (groups.indexOf(p.group) < 0) groups.push(p.group); });
    var xs = pts.map(function (p) { return p.x; });
    var data = [xs];
    var series = [{}];
    groups.forEach(function (g, i) {
      data.push(pts.map(function (p) { return p.group === g ? p.y : null; }));
      series.push({ label: g, stroke: COLORS[i % COLORS.length], width: 0,
                    paths: function () { return null; },
                    points: { show: true, size: 8, fill: COLORS[i % COLORS.length] } });
    });
    data.push(pts.map(function (p) { return p.frontier ? p.y : null; }));
    series.push({ label: "frontier", stroke: "#111827", width: 1.5, spanGaps: true,
                  points: { show: false } });
    return { data: data, series: series };
  }

  function fmt(v) {
    if (v == null) return "";
    if (v !== 0 && Math.abs(v) < 1) return Number(v.toPrecision(2)).toString();
    return v.toLocaleString();
  }
  function ticks(u, vals) { return vals.map(fmt); }

  function draw(el) {
    if (el.dataset.drawn === "1" || typeof uPlot === "undefined") return;
    var spec = JSON.parse(el.querySelector("script[type='application/json']").textContent);
    var width = Math.max(320, el.clientWidth || 600);
    var opts = { width: width, height: spec.height || 220, series: [{}],
                 scales: { x: { time: spec.kind !== "scatter" } },
                 axes: [{}, { label: spec.ylabel || "", values: ticks, size: 70 }], legend: { show: true } };
    var data;
    if (spec.kind === "scatter") {
      var made = scatterData(spec);
      data = made.data;
      opts.series = made.series;
      opts.axes[0] = { label: spec.xlabel || "", values: ticks };
    } else {
      data = [spec.x];
      spec.series.forEach(function (s, i) {
        var one = { label: s.label, stroke: COLORS[i % COLORS.length], width: 2,
                    spanGaps: true };
        if (spec.kind === "bars") {
          one.fill = COLORS[i % COLORS.length] + "88";
          one.paths = uPlot.paths.bars({ size: [0.7, 60] });
          one.points = { show: false };
        }
        opts.series.push(one);
        data.push(s.values);
      });
    }
    el.dataset.drawn = "1";
    new uPlot(opts, data, el);
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
})();
