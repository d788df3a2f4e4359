// The Reports pages' charts: each element with data-chart="ID" is drawn by uPlot (static/vendor/uplot) from the
// JSON in <script id="ID">: {x: [each day's midnight, UTC seconds], series: [{label, values}], rates: bool}. The
// table after each chart holds the same numbers: it is what a screen reader, or a browser without JavaScript, reads.
(() => {
  if (typeof uPlot === "undefined") return;
  // Distinguishable colours, each at least 3:1 against white.
  const COLORS = ["#2454d6", "#137a3c", "#b45309", "#7c3aed", "#b42318", "#0e7490"];
  const utc = (seconds) => uPlot.tzDate(new Date(seconds * 1e3), "Etc/UTC");
  const percent = (value) => (value == null ? "—" : `${Math.round(value * 1000) / 10} %`);
  const dayMonth = (seconds) => utc(seconds).toLocaleDateString("en-GB", { day: "numeric", month: "short" });
  const height = () => (window.matchMedia("(max-width: 40rem)").matches ? 200 : 260);

  for (const holder of document.querySelectorAll("[data-chart]")) {
    const source = document.getElementById(holder.dataset.chart);
    if (!source) continue;
    const data = JSON.parse(source.textContent);
    const options = {
      width: holder.clientWidth,
      height: height(),
      tzDate: utc,
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        // From zero, with room above the highest value (a rate may pass 100 % in a short period).
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: "#5b6475", grid: { stroke: "#eef1f6" }, values: (u, ticks) => ticks.map(dayMonth) },
        {
          stroke: "#5b6475",
          grid: { stroke: "#eef1f6" },
          size: 50,
          values: data.rates ? (u, ticks) => ticks.map(percent) : undefined,
        },
      ],
      series: [
        { label: "Day", value: (u, seconds) => (seconds == null ? "—" : dayMonth(seconds)) },
        ...data.series.map((serie, index) => ({
          label: serie.label,
          stroke: COLORS[index % COLORS.length],
          width: 2,
          points: { show: data.x.length <= 62 },
          spanGaps: true,
          value: (u, value) => (data.rates ? percent(value) : value == null ? "—" : value),
        })),
      ],
    };
    const chart = new uPlot(options, [data.x, ...data.series.map((serie) => serie.values)], holder);
    // The chart follows its box: a phone turned, a window narrowed.
    new ResizeObserver(() => {
      if (holder.clientWidth && holder.clientWidth !== chart.width) chart.setSize({ width: holder.clientWidth, height: height() });
    }).observe(holder);
  }
})();
