/**
 * The end-of-trace terminal summary: counts, then each histogram drawn the way bpftrace draws
 * `hist()` maps, headed by its count, sum, min, max and percentiles.
 *
 * @module
 */

import { escapeText } from "../common/escape_text.ts";
import { formatValue } from "./format_value.ts";
import { formatMappings, formatProcesses, type SummaryBy } from "./attribution_tables.ts";

export { formatValue };
import type { HistogramBucket, HistogramReport } from "../aggregate/log2_histogram.ts";
import type { Report } from "../aggregate/report.ts";

const BAR_WIDTH = 52;
const SUFFIXES = ["", "K", "M", "G", "T", "P", "E"];

function powerLabel(power: number): string {
  const step = Math.min(Math.floor(power / 10), SUFFIXES.length - 1);
  return `${2 ** (power - step * 10)}${SUFFIXES[step]}`;
}

/**
 * A bucket's label as bpftrace prints it: `[0]`, `[1]`, then `[2, 4)`, `[4K, 8K)`, ...
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { bucketLabel } from "./terminal_summary.ts";
 * assert.equal(bucketLabel({ low: 4096, high: 8192, count: 1 }), "[4K, 8K)");
 * ```
 */
export function bucketLabel(bucket: HistogramBucket): string {
  if (bucket.high <= 2) return `[${bucket.low}]`;
  return `[${powerLabel(Math.log2(bucket.low))}, ${powerLabel(Math.log2(bucket.high))})`;
}

/** The buckets drawn as bpftrace draws a `hist()` map: label, count and a 52-wide bar. */
export function formatBuckets(buckets: HistogramBucket[]): string {
  const max = buckets.reduce((m, b) => Math.max(m, b.count), 0);
  return buckets.map((b) => {
    const bar = max === 0 ? 0 : Math.floor((b.count / max) * BAR_WIDTH);
    return `${bucketLabel(b).padEnd(16)}${String(b.count).padStart(8)} |${
      "@".repeat(bar).padEnd(BAR_WIDTH)
    }|\n`;
  }).join("");
}

/**
 * One histogram: `@name:` with its statistics on one line, then its bars.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Log2Histogram } from "../aggregate/log2_histogram.ts";
 * import { formatHistogram } from "./terminal_summary.ts";
 * const h = new Log2Histogram("ns");
 * h.add(1500);
 * assert.equal(
 *   formatHistogram("mmap_latency_ns", h.toReport()).split("\n")[0],
 *   "@mmap_latency_ns: count 1, min 1.50us, max 1.50us, avg 1.50us, p50 1.50us, p90 1.50us, p99 1.50us, p99.9 1.50us",
 * );
 * ```
 */
export function formatHistogram(name: string, h: HistogramReport): string {
  const f = (v: number) => formatValue(v, h.unit);
  if (h.count === 0) return `@${name}: no events\n`;
  return `@${name}: count ${h.count}, min ${f(h.min)}, max ${f(h.max)}, ` +
    `avg ${f(Math.round(h.sum / h.count))}, p50 ${f(h.p50)}, p90 ${f(h.p90)}, ` +
    `p99 ${f(h.p99)}, p99.9 ${f(h.p999)}\n` + formatBuckets(h.buckets);
}

/** The histograms the summary shows even when empty: those of the kinds its first lines name. */
const ALWAYS_SHOWN = [
  "mmap_latency_ns",
  "munmap_latency_ns",
  "mmap_size_bytes",
  "fault_latency_ns",
];

/** The other memory-mapping syscalls' line (mremap, mprotect, madvise, brk, msync), when any ran. */
function otherSyscalls(report: Report): string[] {
  const r = report as unknown as Record<string, unknown>;
  const calls = ["mremap", "mprotect", "madvise", "brk", "msync"]
    .filter((name) => (report.counts[name] ?? 0) > 0)
    .map((name) => {
      const errors = r[`${name}_errors`];
      return `${name} ${report.counts[name]}` +
        (typeof errors === "number" ? ` (${errors} failed)` : "");
    });
  return calls.length ? [`  ${calls.join(", ")}`] : [];
}

/**
 * What the summary shows beyond the totals.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SummaryOptions } from "./terminal_summary.ts";
 * const options: SummaryOptions = { by: "mapping" };
 * assert.equal(options.by, "mapping");
 * ```
 */
export interface SummaryOptions {
  /** Rank the processes (top 20) or the mappings (top 20) by faults. */
  by?: SummaryBy;
}

/**
 * The whole end-of-trace summary.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { formatSummary } from "./terminal_summary.ts";
 * const report = new Aggregator().report({
 *   engine: "ringbuf", target: { pid: 42, command: null }, startedAt: new Date(0),
 *   durationNs: 2e9, stopReason: "duration", exitStatus: null,
 * });
 * assert.equal(
 *   formatSummary(report).split("\n")[0],
 *   "faultline: traced pid 42 for 2.000s with ringbuf, stopped by duration",
 * );
 * ```
 */
export function formatSummary(report: Report, options: SummaryOptions = {}): string {
  const { target, counts, fault_kinds: k } = report;
  const what = target.all
    ? "the whole system"
    : target.cgroup !== undefined
    ? `cgroup ${escapeText(target.cgroup)}`
    : target.command
    ? `${escapeText(target.command.join(" "))} (pid ${target.pid})`
    : `pid ${target.pid}`;
  const processes = (report.processes ?? []).reduce((n, r) => n + r.processes, 0);
  const children = target.children === false ? ", not its children" : "";
  const lines = [
    `faultline: traced ${what} for ${(report.duration_ns / 1e9).toFixed(3)}s ` +
    `with ${report.engine}${children}, stopped by ${report.stop_reason.replace("_", " ")}`,
    `  mmap ${counts.mmap} (${report.mmap_errors} failed), munmap ${counts.munmap} ` +
    `(${report.munmap_errors} failed)`,
    `  page faults: user ${counts.page_fault_user}, kernel ${counts.page_fault_kernel}; ` +
    `handled: minor ${counts.minor_faults}, major ${counts.major_faults}` +
    (report.unpaired_faults ? ` (${report.unpaired_faults} without a start)` : ""),
    `  by access: read ${k.read}, write ${k.write}, exec ${k.exec}; ` +
    `not present ${k.not_present}, protection ${k.protection}`,
    ...otherSyscalls(report),
    report.lost
      ? `  LOST ${report.lost} events: counts and histograms are short by that many`
      : `  lost 0 events`,
    "",
  ];
  // Who: the busiest processes, whenever more than one was traced (or when asked).
  if (processes > 1 || options.by === "process") {
    lines.push(
      `processes: ${processes} traced (${counts.process_forks ?? 0} forked, ` +
        `${counts.process_exits ?? 0} exited), the most faults first:`,
      ...formatProcesses(report, options.by === "process" ? 20 : 5),
      "",
    );
  }
  if (options.by === "mapping") {
    lines.push("mappings, the most faults first:", ...formatMappings(report, 20), "");
  }
  for (const [name, h] of Object.entries(report.histograms)) {
    // Empty: said for the kinds the lines above always name, left out for the others.
    if (h.count > 0 || ALWAYS_SHOWN.includes(name)) lines.push(formatHistogram(name, h));
  }
  return lines.join("\n");
}
