/**
 * The HTML report (`--html FILE`, or `deno task html report.json`): one self-contained page
 * that opens with no network. uPlot (from npm, pinned in deno.lock) and its stylesheet are
 * inlined; the report rides along as JSON and the page's script builds everything from it
 * with `textContent`, so nothing taken from the trace (a command, its arguments, a path) is
 * ever read as markup: a process may call itself `<img src=x onerror=alert(1)>`.
 *
 * The page shows the run's facts, lost events in red when there are any, the counts, the four
 * histograms with their percentiles, the fault-latency heatmap over time and the rates over
 * time (from `intervals`), and every table the report carries (any top-level list of rows,
 * such as the intervals; later ones appear without changes here).
 *
 * @module
 */

import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import type { Report } from "../aggregate/report.ts";

/** JSON that can sit inside a <script> element: no "</script>", no line separators. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Text that can sit inside a <script> or <style> element as it is. */
function inline(source: string): string {
  return source.replace(/<\/(script|style)/gi, "<\\/$1");
}

const STYLE = `
:root { --fg: #1d232b; --muted: #5b6673; --line: #d9dee4; --card: #fff; --bg: #f4f6f8;
  --accent: #2f6fde; --bad: #c62828; font-family: system-ui, -apple-system, "Segoe UI",
  Roboto, sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
main { max-width: 1400px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.4rem; margin: 0 0 4px; }
h2 { font-size: 1.05rem; margin: 0 0 8px; }
.sub { color: var(--muted); margin: 0 0 16px; overflow-wrap: anywhere; }
.grid { display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 560px), 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 14px; min-width: 0; }
.wide { grid-column: 1 / -1; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums;
  font-size: 0.9rem; }
th, td { text-align: right; padding: 3px 8px; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th, td { width: 25%; }
.scroll { overflow-x: auto; }
.lost { background: #fdecea; color: var(--bad); border: 1px solid #f5c2c0; font-weight: 600;
  border-radius: 8px; padding: 10px 14px; margin-bottom: 16px; }
.chart { width: 100%; }
canvas.heatmap { width: 100%; height: 280px; display: block; }
.legend { color: var(--muted); font-size: 0.85rem; margin-top: 6px; }
details summary { cursor: pointer; }
@media (max-width: 600px) { main { padding: 8px; } th, td { padding: 2px 5px; } }
`;

/** The page's script: builds the page from the report in #report. Plain ES2020, no imports. */
const SCRIPT = String.raw`
"use strict";
const report = JSON.parse(document.getElementById("report").textContent);
const app = document.getElementById("app");
const el = (tag, props, ...children) => {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) if (c != null) e.append(c);
  return e;
};
const SUFFIX = ["", "K", "M", "G", "T", "P", "E"];
const power = (p) => { const s = Math.min(Math.floor(p / 10), 6); return 2 ** (p - s * 10) + SUFFIX[s]; };
const bucketLabel = (b) => b.high <= 2 ? "[" + b.low + "]" : "[" + power(Math.log2(b.low)) + ", " + power(Math.log2(b.high)) + ")";
const fmt = (v, unit) => {
  if (unit === "ns") {
    if (v >= 1e9) return (v / 1e9).toFixed(2) + " s";
    if (v >= 1e6) return (v / 1e6).toFixed(2) + " ms";
    if (v >= 1e3) return (v / 1e3).toFixed(2) + " us";
    return v + " ns";
  }
  if (unit === "bytes") {
    if (v >= 2 ** 30) return (v / 2 ** 30).toFixed(2) + " GiB";
    if (v >= 2 ** 20) return (v / 2 ** 20).toFixed(2) + " MiB";
    if (v >= 2 ** 10) return (v / 2 ** 10).toFixed(2) + " KiB";
    return v + " B";
  }
  return String(v);
};
const num = (v) => typeof v === "number" ? v.toLocaleString("en-US") : String(v);
function table(header, rows) {
  return el("div", { className: "scroll" }, el("table", {},
    el("thead", {}, el("tr", {}, ...header.map((h) => el("th", { textContent: h })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", { textContent: c })))))));
}
const card = (title, ...children) => el("section", { className: "card" }, el("h2", { textContent: title }), ...children);

// The run's facts.
const t = report.target;
const what = t.command ? t.command.join(" ") : "pid " + t.pid;
document.title = "faultline: " + what;
app.append(el("h1", { textContent: "faultline report" }));
app.append(el("p", { className: "sub", textContent: what + " (pid " + t.pid + ")" }));
if (report.lost > 0) {
  app.append(el("div", { className: "lost", id: "lost", textContent: "LOST " + num(report.lost) +
    " events: the counts and histograms are short by that many (a larger --ring-size keeps them)" }));
}
const facts = [
  ["command", t.command ? t.command.join(" ") : "(a running process)"], ["pid", String(t.pid)],
  ["engine", report.engine], ["started", report.started_at],
  ["duration", fmt(report.duration_ns, "ns")], ["stopped by", report.stop_reason.replace("_", " ")],
  ["exit status", report.exit_status == null ? "-" : String(report.exit_status)],
  ["lost events", num(report.lost)],
];
const grid = el("div", { className: "grid" });
app.append(grid);
grid.append(card("Run", el("dl", { className: "facts" }, ...facts.flatMap(([k, v]) => [el("dt", { textContent: k }), el("dd", { textContent: v })]))));

// Counts, and the tallies beside them (fault kinds, errors...).
const countRows = Object.entries(report.counts).map(([k, v]) => [k, num(v)]);
const tallyRows = [];
for (const [k, v] of Object.entries(report)) {
  if (["version", "engine", "target", "started_at", "duration_ns", "stop_reason", "exit_status", "counts", "lost", "histograms", "intervals"].includes(k)) continue;
  if (typeof v === "number") tallyRows.push([k, num(v)]);
  else if (v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "number")) {
    for (const [sub, n] of Object.entries(v)) tallyRows.push([k + "." + sub, num(n)]);
  }
}
grid.append(card("Counts", table(["kind", "count"], countRows), tallyRows.length ? table(["", ""], tallyRows) : null));

// Charts: uPlot where it is a line or bar chart; the heatmap drawn on a canvas.
const charts = [];
function chartWidth(node) { return Math.max(240, node.clientWidth || 480); }
function barChart(node, h) {
  const labels = h.buckets.map(bucketLabel);
  const xs = h.buckets.map((_, i) => i);
  const opts = {
    width: chartWidth(node), height: 220, legend: { show: false },
    scales: { x: { time: false, range: [-0.5, Math.max(0.5, xs.length - 0.5)] } },
    axes: [
      { values: (u, splits) => splits.map((s) => Number.isInteger(s) && labels[s] ? labels[s] : ""), size: 40, space: 84, incrs: [1, 2, 3, 4, 5, 10, 20] },
      { size: 60, values: (u, splits) => splits.map((s) => s >= 1000 ? (s / 1000) + "k" : s) },
    ],
    series: [{}, { label: "count", fill: "rgba(47,111,222,0.35)", stroke: "#2f6fde", paths: uPlot.paths.bars({ size: [0.8] }), points: { show: false } }],
  };
  const plot = new uPlot(opts, [xs, h.buckets.map((b) => b.count)], node);
  charts.push([plot, node]);
}
const HISTOGRAMS = { fault_latency_ns: "Fault latency", mmap_latency_ns: "mmap latency", munmap_latency_ns: "munmap latency", mmap_size_bytes: "mmap size" };
for (const [name, h] of Object.entries(report.histograms)) {
  const body = el("div", { className: "chart" });
  const stats = h.count === 0 ? el("p", { className: "legend", textContent: "no events" }) : el("div", {},
    table(["count", "min", "avg", "max"], [[num(h.count), fmt(h.min, h.unit), fmt(Math.round(h.sum / h.count), h.unit), fmt(h.max, h.unit)]]),
    table(["p50", "p90", "p99", "p99.9"], [[fmt(h.p50, h.unit), fmt(h.p90, h.unit), fmt(h.p99, h.unit), fmt(h.p999, h.unit)]]),
  );
  grid.append(card((HISTOGRAMS[name] || name) + " (" + name + ")", stats, body));
  if (h.count > 0) requestAnimationFrame(() => barChart(body, h));
}

// The fault-latency heatmap over time: one column per interval, one row per log2 slot.
const intervals = report.intervals || [];
function heatmap(canvas, legend) {
  const name = "fault_latency_ns";
  const lows = new Map();
  for (const i of intervals) for (const b of (i.latency[name] || { buckets: [] }).buckets) if (b.count > 0) lows.set(b.low, b);
  const slots = [...lows.values()].sort((a, b) => a.low - b.low);
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600, hgt = canvas.clientHeight || 280;
  canvas.width = w * ratio; canvas.height = hgt * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, hgt);
  if (slots.length === 0 || intervals.length === 0) {
    ctx.fillStyle = "#5b6673"; ctx.font = "13px system-ui"; ctx.fillText("no faults", 12, 24);
    return;
  }
  const left = 96, bottom = 22, top = 6, right = 8;
  const cw = (w - left - right) / intervals.length, ch = (hgt - top - bottom) / slots.length;
  let max = 1;
  const cell = (i, low) => { const b = (i.latency[name] || { buckets: [] }).buckets.find((x) => x.low === low); return b ? b.count : 0; };
  for (const i of intervals) for (const s of slots) max = Math.max(max, cell(i, s.low));
  intervals.forEach((i, x) => slots.forEach((s, y) => {
    const n = cell(i, s.low);
    if (n === 0) return;
    const a = 0.12 + 0.88 * Math.log(n + 1) / Math.log(max + 1);
    ctx.fillStyle = "rgba(198,40,40," + a.toFixed(3) + ")";
    ctx.fillRect(left + x * cw, top + (slots.length - 1 - y) * ch, Math.max(1, cw - 0.5), Math.max(1, ch - 0.5));
  }));
  ctx.fillStyle = "#1d232b"; ctx.font = "11px system-ui"; ctx.textBaseline = "middle";
  slots.forEach((s, y) => { if (ch >= 11 || y % Math.ceil(11 / ch) === 0) ctx.fillText(bucketLabel(s), 4, top + (slots.length - 1 - y + 0.5) * ch); });
  ctx.textBaseline = "alphabetic";
  const end = intervals[intervals.length - 1];
  ctx.fillText("0 s", left, hgt - 6);
  const last = ((end.start_ns + end.duration_ns) / 1e9).toFixed(1) + " s";
  ctx.fillText(last, w - right - ctx.measureText(last).width, hgt - 6);
  legend.textContent = "Darker: more faults in that interval and latency slot (log scale, up to " + num(max) + " per cell). " + intervals.length + " intervals.";
}
const heat = el("canvas", { className: "heatmap", id: "heatmap" });
const heatLegend = el("p", { className: "legend" });
const heatCard = card("Fault latency over time", heat, heatLegend);
heatCard.classList.add("wide");
grid.append(heatCard);
requestAnimationFrame(() => heatmap(heat, heatLegend));

// Rates over time, per second of each interval.
const rateNode = el("div", { className: "chart" });
const rateCard = card("Rates over time (per second)", rateNode);
rateCard.classList.add("wide");
grid.append(rateCard);
if (intervals.length > 0) {
  requestAnimationFrame(() => {
    const xs = intervals.map((i) => (i.start_ns + i.duration_ns) / 1e9);
    const per = (f) => intervals.map((i) => i.duration_ns > 0 ? f(i) / (i.duration_ns / 1e9) : 0);
    const series = [
      ["minor faults", "#2f6fde", (i) => i.counts.minor_faults || 0],
      ["major faults", "#c62828", (i) => i.counts.major_faults || 0],
      ["mmap", "#2e7d32", (i) => i.counts.mmap || 0],
      ["munmap", "#8e24aa", (i) => i.counts.munmap || 0],
      ["lost", "#ef6c00", (i) => i.lost || 0],
    ];
    const plot = new uPlot({
      width: chartWidth(rateNode), height: 260,
      scales: { x: { time: false } },
      axes: [{ label: "seconds" }, { size: 64 }],
      series: [{ label: "s" }, ...series.map(([label, stroke]) => ({ label, stroke, width: 1.5, points: { show: intervals.length < 60 } }))],
    }, [xs, ...series.map(([, , f]) => per(f))], rateNode);
    charts.push([plot, rateNode]);
  });
} else rateNode.append(el("p", { className: "legend", textContent: "no intervals in this report" }));

// Every table the report carries: each top-level list of rows.
for (const [name, value] of Object.entries(report)) {
  if (!Array.isArray(value) || value.length === 0 || typeof value[0] !== "object") continue;
  const flat = value.map((row) => {
    const out = {};
    const walk = (o, prefix) => {
      for (const [k, v] of Object.entries(o)) {
        if (v && typeof v === "object" && !Array.isArray(v)) walk(v, prefix + k + ".");
        else if (!Array.isArray(v)) out[prefix + k] = v;
      }
    };
    walk(row, "");
    return out;
  });
  const columns = [...new Set(flat.flatMap((r) => Object.keys(r)))];
  const details = el("details", {}, el("summary", { textContent: name + " (" + value.length + " rows)" }),
    table(columns, flat.map((r) => columns.map((c) => r[c] == null ? "" : num(r[c])))));
  const c = card("Table: " + name, details);
  c.classList.add("wide");
  c.dataset.table = name;
  grid.append(c);
}

window.addEventListener("resize", () => {
  for (const [plot, node] of charts) plot.setSize({ width: chartWidth(node), height: plot.height });
  heatmap(heat, heatLegend);
});
requestAnimationFrame(() => requestAnimationFrame(() => { document.body.dataset.ready = "1"; }));
`;

/**
 * The whole page for `report`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { reportToHtml } from "./html_report.ts";
 * const report = new Aggregator().report({
 *   engine: "ringbuf", target: { pid: 1, command: ["<img src=x onerror=alert(1)>"] },
 *   startedAt: new Date(0), durationNs: 1, stopReason: "target_exited", exitStatus: 0,
 * });
 * const page = reportToHtml(report);
 * assert.ok(page.startsWith("<!doctype html>"));
 * assert.ok(!page.includes("<img"), "the command rides as JSON, never as markup");
 * assert.ok(page.includes("\\u003cimg src=x onerror=alert(1)>"));
 * assert.ok(!/\bsrc=["']?https?:|<link\b/.test(page), "nothing fetched from the network");
 * ```
 */
export function reportToHtml(report: Report): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="faultline">
<title>faultline report</title>
<style>${inline(uplotCss)}</style>
<style>${STYLE}</style>
</head>
<body>
<main id="app"><noscript>This report draws its charts with JavaScript; the data is in the report's JSON.</noscript></main>
<script type="application/json" id="report">${scriptJson(report)}</script>
<script>${inline(uplotJs)}</script>
<script>${inline(SCRIPT)}</script>
</body>
</html>
`;
}
