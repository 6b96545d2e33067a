/* Dashboard charts (Apache ECharts, vendored).
 *
 * Each `.dash-chart[data-chart=ID]` reads its spec from the JSON element #ID written by the
 * server with json_script: {kind: "bar"|"line"|"pie", horizontal, categories: [...],
 * series: [{name, type, axis, data: [...], links: [...]}]}. A click on a bar, point or slice
 * opens links[index]: the list of records that value counts. The same numbers are in the
 * table next to the chart (the page works without JavaScript); once a chart is drawn its
 * table folds away.
 */
(function () {
  "use strict";

  var COLOURS = ["#b4232a", "#1f5fa8", "#b26a00", "#1f7a3d", "#6b4fa0", "#0f7c85",
                 "#8a5a44", "#5f6b7a", "#c2185b", "#7a6400"];
  var FONT = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';

  function pieOption(spec, width, height) {
    var n = spec.series.length;
    // Rings sit side by side, each in its share of the width: on a narrow card (a phone) the
    // usual 62% of the height would make them overlap and run off the edges.
    var outer = "62%", inner = "30%";
    var share = width / n / 2 - 8;
    if (share < Math.min(width, height) * 0.31) {
      outer = Math.max(Math.floor(share), 40);
      inner = Math.round(outer * 0.48);
    }
    return {
      color: COLOURS,
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "item", formatter: "{a}<br>{b}: {c} ({d}%)" },
      legend: { type: "scroll", bottom: 0 },
      title: spec.series.map(function (s, i) {
        return {
          text: s.name, left: ((i + 0.5) * 100 / n) + "%", top: 0, textAlign: "center",
          textStyle: { fontSize: 13, fontWeight: "normal" }
        };
      }),
      series: spec.series.map(function (s, i) {
        return {
          name: s.name, type: "pie", radius: [inner, outer],
          center: [((i + 0.5) * 100 / n) + "%", "50%"],
          // The count inside the ring (long sector names would run off the card: they are
          // in the legend and the tooltip).
          label: { position: "inside", formatter: "{c}", color: "#fff", fontWeight: "bold" },
          // Empty slices only clutter the labels; each slice keeps its own link.
          data: s.data.map(function (v, j) {
            return { name: spec.categories[j], value: v, link: s.links[j] };
          }).filter(function (d) { return d.value; }),
          cursor: "pointer"
        };
      })
    };
  }

  function axisOption(spec, width) {
    var twoAxes = spec.series.some(function (s) { return s.axis === 1; });
    var category = {
      type: "category", data: spec.categories,
      axisLabel: {
        interval: spec.categories.length > 12 ? "auto" : 0,
        rotate: !spec.horizontal && width < 520 ? 45 : 0
      },
      // Bars read top-down in the order of the table (the first town at the top).
      inverse: !!spec.horizontal
    };
    var values = [{ type: "value", minInterval: 1 }];
    if (twoAxes) { values.push({ type: "value", minInterval: 1, splitLine: { show: false } }); }
    return {
      color: COLOURS,
      textStyle: { fontFamily: FONT },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      // On a phone the legend takes two lines.
      // The last value label is centred on the right edge of a horizontal chart: leave it room.
      grid: {
        left: 8, right: spec.horizontal ? 28 : 8, top: width < 520 ? 60 : 36, bottom: 8,
        containLabel: true
      },
      xAxis: spec.horizontal ? values : category,
      yAxis: spec.horizontal ? category : values,
      series: spec.series.map(function (s) {
        var item = {
          name: s.name, type: s.type || spec.kind, data: s.data, cursor: "pointer",
          emphasis: { focus: "series" }
        };
        if (item.type === "line") { item.symbolSize = 8; item.smooth = false; }
        if (item.type === "bar") { item.barMaxWidth = 28; }
        if (s.axis === 1) { item[spec.horizontal ? "xAxisIndex" : "yAxisIndex"] = 1; }
        return item;
      })
    };
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    // Marks the chart as settled (animations done), for whoever waits on it (the tests).
    chart.on("finished", function () { el.setAttribute("data-drawn", "1"); });
    chart.setOption(spec.kind === "pie"
      ? pieOption(spec, el.clientWidth, el.clientHeight)
      : axisOption(spec, el.clientWidth));
    chart.on("click", function (p) {
      var s = spec.series[p.seriesIndex];
      var url = (p.data && p.data.link) || (s && s.links && s.links[p.dataIndex]);
      if (url) { window.location.href = url; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.classList.add("dash-drawn");
    var card = el.closest(".dash-chart-card");
    var table = card && card.querySelector("details.dash-data");
    if (table) { table.open = false; }
  }

  function init() {
    if (!window.echarts) { return; }  // no charts: the tables stay open
    var charts = document.querySelectorAll(".dash-chart[data-chart]");
    for (var i = 0; i < charts.length; i++) { draw(charts[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
