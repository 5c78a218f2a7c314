/**
 * The live view's picture: from the aggregation and the timeline, the lines of one
 * full-screen frame for a terminal of a given size. Pure: it draws, the terminal driver
 * (live_terminal.ts) shows and listens.
 *
 * A frame holds a header (target, engine, elapsed time, events per second, lost events and
 * ring fill), the rates of the last interval with a sparkline of the recent ones, a scrolling
 * heatmap of fault latency (one column per interval, one row per log2 slot, newest on the
 * right) and the four histograms, cumulative or for the last interval.
 *
 * @module
 */

import type { Report } from "../aggregate/report.ts";
import { formatMappings, formatProcesses, type SummaryBy } from "./attribution_tables.ts";
import type { HistogramBucket, HistogramReport } from "../aggregate/log2_histogram.ts";
import type { IntervalReport } from "../aggregate/timeline.ts";
import { escapeText } from "../common/escape_text.ts";
import { bucketLabel, formatValue } from "./terminal_summary.ts";

/** The smallest terminal the view draws in; below it, it says so. */
export const MIN_COLUMNS = 64;
/** The smallest terminal the view draws in; below it, it says so. */
export const MIN_ROWS = 20;

/** Everything a frame shows. */
export interface LiveViewState {
  /** The traced process: its pid and its name (as the process set it; escaped when drawn). */
  target: { pid: number; name: string };
  /** The capture engine's name. */
  engine: string;
  /** Time since tracing started, in ns. */
  elapsedNs: number;
  /** Whether the histograms show everything so far or the last interval. */
  mode: "cumulative" | "interval";
  /** Whether the display is frozen (tracing goes on). */
  frozen: boolean;
  /** Whether the key help is shown. */
  help: boolean;
  /**
   * What the lower part shows: the histograms (default), or the busiest processes or the
   * mappings with the most faults (keys p and m; `--by`).
   */
  table?: "histograms" | SummaryBy;
  /** The report's `processes` and `mappings` so far, when it keeps them. */
  who?: Pick<Report, "processes" | "mappings">;
  /** Events lost so far. */
  lost: number;
  /** The ring's size in bytes, where the engine has one. */
  ringSize: number | null;
  /** How full the ring was at the last interval, 0 to 1, where the engine has one. */
  ringFill: number | null;
  /** Where a launched command's output goes while the view owns the screen. */
  commandOutput: string | null;
  /** Something that went wrong while tracing goes on (an output that failed), or null. */
  warning?: string | null;
  /** The histograms of everything so far, by report name. */
  cumulative: Record<string, HistogramReport>;
  /** The histograms of the last interval, by report name. */
  interval: Record<string, HistogramReport>;
  /** The recent intervals, oldest first. */
  history: readonly IntervalReport[];
}

/** A line of the frame: plain text, and how to colour it. */
export interface FrameLine {
  /** What the line says; never wider than the frame. */
  text: string;
  /** An SGR style for the whole line (`"1;31"` bold red), or none. */
  style?: string;
}

const PANELS: [string, string][] = [
  ["fault_latency_ns", "fault latency"],
  ["mmap_latency_ns", "mmap latency"],
  ["munmap_latency_ns", "munmap latency"],
  ["mmap_size_bytes", "mmap size"],
];

const RATES: [string, (i: IntervalReport) => number][] = [
  ["minor", (i) => i.counts.minor_faults ?? 0],
  ["major", (i) => i.counts.major_faults ?? 0],
  ["mmap", (i) => i.counts.mmap ?? 0],
  ["read", (i) => kinds(i).read ?? 0],
  ["write", (i) => kinds(i).write ?? 0],
  ["munmap", (i) => i.counts.munmap ?? 0],
  ["exec", (i) => kinds(i).exec ?? 0],
  ["user", (i) => i.counts.page_fault_user ?? 0],
  ["kernel", (i) => i.counts.page_fault_kernel ?? 0],
];

function kinds(i: IntervalReport): Record<string, number> {
  return (i.tallies.fault_kinds ?? {}) as Record<string, number>;
}

const SPARKS = "▁▂▃▄▅▆▇█";
const SHADES = ["░", "▒", "▓", "█"];

/** `text` cut to `width` columns (with … when cut) and padded to it with spaces. */
export function fit(text: string, width: number): string {
  const chars = [...text];
  if (chars.length > width) return chars.slice(0, Math.max(0, width - 1)).join("") + "…";
  return text + " ".repeat(width - chars.length);
}

/** A count or rate in a few characters: 842, 12.3k, 4.56M. */
export function compactNumber(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(a >= 1e10 ? 1 : 2)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(a >= 1e4 ? 1 : 2)}k`;
  return a >= 10 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1);
}

/**
 * The values as a sparkline of `width` cells (the last `width` values), each scaled to the
 * largest: a blank for 0, ▁ to █ above.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparkline } from "./live_view.ts";
 * assert.equal(sparkline([0, 1, 4, 8], 4), " ▁▄█");
 * assert.equal(sparkline([5], 3), "  █");
 * ```
 */
export function sparkline(values: readonly number[], width: number): string {
  const shown = values.slice(-width);
  const max = Math.max(0, ...shown);
  const cells = shown.map((v) =>
    v <= 0 || max === 0
      ? " "
      : SPARKS[Math.min(SPARKS.length - 1, Math.ceil((v / max) * SPARKS.length) - 1)]!
  );
  return " ".repeat(width - cells.length) + cells.join("");
}

/** Which of the 4 shades `count` takes when the largest count shown is `max` (-1 for 0). */
function shadeOf(count: number, max: number): number {
  if (count <= 0) return -1;
  if (max <= 1) return SHADES.length - 1;
  // Four bands of equal ratio between 1 and max: a heatmap of counts spanning decades.
  const level = Math.floor((Math.log(count) / Math.log(max)) * SHADES.length);
  return Math.min(SHADES.length - 1, level);
}

/** The lowest count of each shade's band, for the scale. */
function shadeFloors(max: number): number[] {
  return SHADES.map((_, k) => k === 0 ? 1 : Math.ceil(max ** (k / SHADES.length)));
}

/** A value in its unit with three significant digits: 843ns, 15.5us, 328us, 64.5KiB. */
function shortValue(v: number, unit: string): string {
  return formatValue(v, unit).replace(
    /^(\d+)\.(\d+)/,
    (_, whole: string, frac: string) =>
      whole.length >= 3 ? whole : `${whole}.${frac.slice(0, 3 - whole.length)}`,
  );
}

/** The `rows` consecutive buckets holding the most values. */
function densest(buckets: HistogramBucket[], rows: number): HistogramBucket[] {
  if (buckets.length <= rows) return buckets;
  let best = 0;
  let bestSum = -1;
  for (let start = 0; start + rows <= buckets.length; start++) {
    const sum = buckets.slice(start, start + rows).reduce((s, b) => s + b.count, 0);
    if (sum > bestSum) {
      best = start;
      bestSum = sum;
    }
  }
  return buckets.slice(best, best + rows);
}

/** One histogram panel: `height` lines of `width` columns. */
function panel(title: string, h: HistogramReport | undefined, width: number, height: number) {
  const lines: string[] = [];
  const count = h?.count ?? 0;
  const f = (v: number) => shortValue(v, h?.unit ?? "ns");
  lines.push(fit(`${title}  n ${compactNumber(count)}${count ? `  p50 ${f(h!.p50)}` : ""}`, width));
  if (height > 1) {
    lines.push(
      fit(
        count ? `  p90 ${f(h!.p90)}  p99 ${f(h!.p99)}  p99.9 ${f(h!.p999)}` : "  no events",
        width,
      ),
    );
  }
  const rows = height - lines.length;
  const buckets = densest(h?.buckets ?? [], rows);
  const max = buckets.reduce((m, b) => Math.max(m, b.count), 0);
  const barWidth = Math.max(1, width - 13 - 7 - 3);
  for (const b of buckets) {
    const bar = max === 0 ? 0 : Math.floor((b.count / max) * barWidth);
    lines.push(
      fit(
        `${bucketLabel(b).padEnd(13)}${compactNumber(b.count).padStart(7)} |${
          "@".repeat(bar).padEnd(barWidth)
        }|`,
        width,
      ),
    );
  }
  while (lines.length < height) lines.push(" ".repeat(width));
  return lines;
}

/** The fault-latency heatmap: `rows` slot rows and a scale line, `width` columns. */
function heatmap(history: readonly IntervalReport[], width: number, rows: number): FrameLine[] {
  const labelWidth = 13;
  const cells = Math.max(1, width - labelWidth - 1);
  const shown = history.slice(-cells);
  // Every slot that has values in the window, by its low bound.
  const slots = new Map<number, HistogramBucket>();
  for (const i of shown) {
    for (const b of i.latency.fault_latency_ns?.buckets ?? []) {
      if (b.count > 0 && !slots.has(b.low)) slots.set(b.low, { ...b, count: 0 });
    }
  }
  const span = [...slots.values()].sort((a, b) => a.low - b.low);
  if (span.length > 0) {
    // Fill the gaps, so rows are consecutive slots.
    const all: HistogramBucket[] = [];
    for (let low = span[0]!.low, high = span[0]!.high; low <= span.at(-1)!.low;) {
      all.push({ low, high, count: 0 });
      [low, high] = [high, high === 1 ? 2 : high * 2];
    }
    span.splice(0, span.length, ...all);
  }
  const counts = (i: IntervalReport, low: number) =>
    i.latency.fault_latency_ns?.buckets.find((b) => b.low === low)?.count ?? 0;
  // When there are more slots than rows, each row takes several neighbouring slots, so the
  // whole range stays in view: a rare slow fault is what a heatmap must not hide.
  const perRow = Math.max(1, Math.ceil(span.length / rows));
  const window: { label: string; lows: number[] }[] = [];
  for (let k = 0; k < span.length; k += perRow) {
    const group = span.slice(k, k + perRow);
    window.push({
      label: bucketLabel({ low: group[0]!.low, high: group.at(-1)!.high, count: 0 }),
      lows: group.map((g) => g.low),
    });
  }
  const cell = (i: IntervalReport, lows: number[]) =>
    lows.reduce((s, low) => s + counts(i, low), 0);
  const max = Math.max(0, ...shown.flatMap((i) => window.map((w) => cell(i, w.lows))));
  const out: FrameLine[] = [];
  for (const w of [...window].reverse()) {
    const row = shown.map((i) => {
      const k = shadeOf(cell(i, w.lows), max);
      return k < 0 ? " " : SHADES[k]!;
    }).join("");
    out.push({ text: fit(`${w.label.padEnd(labelWidth - 1)}│${row.padStart(cells)}`, width) });
  }
  if (window.length === 0) out.push({ text: fit("  no faults yet", width) });
  while (out.length < rows) out.push({ text: "" });
  const floors = shadeFloors(max);
  const scale = max === 0 ? "" : SHADES.map((c, k) => {
    const hi = k === SHADES.length - 1 ? max : floors[k + 1]! - 1;
    const lo = floors[k]!;
    return hi < lo ? null : `${c} ${compactNumber(lo)}${hi > lo ? `-${compactNumber(hi)}` : ""}`;
  }).filter((x) => x !== null).join("  ");
  out.push({
    text: fit(`${" ".repeat(labelWidth - 1)}└ faults per interval: ${scale}`, width),
  });
  return out;
}

/**
 * The lines of one frame for a terminal of `columns` x `rows`: never more lines than `rows`,
 * never a line wider than `columns`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderLiveView } from "./live_view.ts";
 * const lines = renderLiveView({
 *   target: { pid: 42, name: "postgres" }, engine: "ringbuf", elapsedNs: 3e9,
 *   mode: "cumulative", frozen: false, help: false, lost: 0, ringSize: 1 << 26,
 *   ringFill: 0.01, commandOutput: null, cumulative: {}, interval: {}, history: [],
 * }, 80, 24);
 * assert.equal(lines.length, 24);
 * assert.match(lines[0]!.text, /pid 42 \(postgres\)/);
 * assert.ok(lines.every((l) => [...l.text].length <= 80));
 * ```
 */
export function renderLiveView(s: LiveViewState, columns: number, rows: number): FrameLine[] {
  if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
    const words =
      `faultline's live view needs a terminal of at least ${MIN_COLUMNS}x${MIN_ROWS}; ` +
      `this one is ${columns}x${rows}. Enlarge it (tracing goes on), or press q to stop.`;
    const lines: FrameLine[] = [];
    let line = "";
    for (const w of words.split(" ")) {
      if (line && (line + " " + w).length > columns) {
        lines.push({ text: fit(line, columns) });
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    lines.push({ text: fit(line, columns) });
    return lines.slice(0, rows);
  }
  const last = s.history.at(-1);
  const seconds = (last?.duration_ns ?? 0) / 1e9;
  const perSecond = (n: number) => (seconds > 0 ? n / seconds : 0);
  const events = last ? Object.values(last.counts).reduce((a, b) => a + b, 0) : 0;
  const facts = [
    "faultline",
    s.target.pid > 0
      ? `pid ${s.target.pid} (${escapeText(s.target.name)})`
      : escapeText(s.target.name),
    s.engine,
    `${(s.elapsedNs / 1e9).toFixed(1)}s`,
    `${compactNumber(perSecond(events))} events/s`,
    `lost ${compactNumber(s.lost)}`,
    ...(s.ringFill !== null ? [`ring ${(s.ringFill * 100).toFixed(0)}%`] : []),
  ];
  const lines: FrameLine[] = [{ text: fit(facts.join(" │ "), columns), style: "7" }];
  lines.push({
    text: fit(
      (s.mode === "cumulative" ? "histograms: cumulative" : "histograms: last interval") +
        (s.frozen ? " · FROZEN (tracing goes on; space resumes)" : "") +
        " · q quit · space freeze · c cumulative/interval · p processes · m mappings · h help" +
        (s.commandOutput && (s.lost > 0 || s.warning)
          ? ` · command output: ${escapeText(s.commandOutput)}`
          : ""),
      columns,
    ),
    style: s.frozen ? "1" : undefined,
  });
  if (s.lost > 0) {
    const ring = s.ringSize !== null
      ? `give a larger --ring-size (now ${compactNumber(s.ringSize / 2 ** 20)} MiB)`
      : "the engine's buffer overflowed";
    lines.push({
      text: fit(
        `LOST ${s.lost} events: counts and histograms are short by that many; ${ring}`,
        columns,
      ),
      style: "1;31",
    });
  } else if (s.warning) {
    lines.push({ text: fit(escapeText(s.warning), columns), style: "1;33" });
  } else if (s.commandOutput) {
    lines.push({ text: fit(`command output: ${escapeText(s.commandOutput)}`, columns) });
  } else lines.push({ text: "" });

  // Rates: three cells a row, each label, rate and sparkline.
  const cell = Math.floor(columns / 3);
  const sparkWidth = Math.max(3, cell - 17);
  // Only the intervals a sparkline shows are read (the view keeps hundreds).
  const recent = s.history.slice(-sparkWidth);
  lines.push({ text: fit(`rates per second, last ${sparkWidth} intervals`, columns), style: "1" });
  for (let r = 0; r < RATES.length; r += 3) {
    lines.push({
      text: fit(
        RATES.slice(r, r + 3).map(([label, value]) => {
          const now = last ? perSecond(value(last)) : 0;
          const spark = sparkline(
            recent.map((i) => value(i) / Math.max(i.duration_ns / 1e9, 1e-9)),
            sparkWidth,
          );
          return fit(`${label.padEnd(7)}${compactNumber(now).padStart(7)} ${spark}`, cell);
        }).join(""),
        columns,
      ),
    });
  }

  // The heatmap gets about a third of what is left, the histograms the rest.
  const remaining = rows - lines.length - 2;
  const heatRows = Math.max(3, Math.min(14, Math.round(remaining * 0.3)));
  lines.push({
    text: fit("fault latency heatmap, one column per interval, newest on the right", columns),
    style: "1",
  });
  lines.push(...heatmap(s.history, columns, heatRows));

  const area = rows - lines.length;
  if (s.help) {
    const help = [
      "keys",
      "  q, Ctrl-C   stop tracing: probes detached, every report written, the summary printed",
      "  space       freeze the display (tracing and counting go on); space again resumes",
      "  c           histograms: cumulative, or the last interval alone",
      "  p, m        the busiest processes, or the mappings with the most faults; again: histograms",
      "  h, ?        this help; any key closes it",
      "  Ctrl-L      draw the whole screen again (else only the lines that changed are written)",
      "The heatmap's rows are log2 slots of fault latency, darker for more faults.",
    ];
    for (const h of help.slice(0, area)) lines.push({ text: fit(h, columns) });
  } else if (s.table === "process" || s.table === "mapping") {
    const top = Math.max(1, area - 3);
    const table = s.table === "process"
      ? formatProcesses(s.who ?? {}, top)
      : formatMappings(s.who ?? {}, top);
    lines.push({
      text: fit(
        s.table === "process"
          ? "processes, the most faults first"
          : "mappings, the most faults first",
        columns,
      ),
      style: "1",
    });
    if (table.length === 0) lines.push({ text: fit("  none yet", columns) });
    for (const t of table.slice(0, area - 1)) lines.push({ text: fit(t, columns) });
  } else {
    const histograms = s.mode === "cumulative" ? s.cumulative : s.interval;
    const width = Math.floor((columns - 1) / 2);
    const height = Math.floor(area / 2);
    for (let p = 0; p < PANELS.length; p += 2) {
      const [leftName, leftTitle] = PANELS[p]!;
      const [rightName, rightTitle] = PANELS[p + 1]!;
      const left = panel(leftTitle, histograms[leftName], width, height);
      const right = panel(rightTitle, histograms[rightName], width, height);
      for (let i = 0; i < height; i++) lines.push({ text: `${left[i]} ${right[i]}`.trimEnd() });
    }
  }
  return lines.slice(0, rows);
}
