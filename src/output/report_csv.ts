/**
 * The histogram CSV export: one row per histogram bucket, `histogram,low,high,count`.
 *
 * @module
 */

import { csvTable } from "./csv_table.ts";
import type { Report } from "../aggregate/report.ts";

/**
 * The CSV header, a contract other tools rely on.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { REPORT_CSV_COLUMNS } from "./report_csv.ts";
 * assert.equal(REPORT_CSV_COLUMNS.join(","), "histogram,low,high,count");
 * ```
 */
export const REPORT_CSV_COLUMNS = ["histogram", "low", "high", "count"] as const;

/**
 * The report's histograms as CSV: a header row, then one row per bucket of every histogram,
 * in the report's order, `low` inclusive and `high` exclusive.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { reportToCsv } from "./report_csv.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 3000 });
 * const report = agg.report({
 *   engine: "ringbuf", target: { pid: 1, command: null }, startedAt: new Date(0),
 *   durationNs: 1, stopReason: "target_exited", exitStatus: null,
 * });
 * assert.equal(reportToCsv(report), "histogram,low,high,count\nfault_latency_ns,2048,4096,1\n");
 * ```
 */
export function reportToCsv(report: Report): string {
  const rows: (string | number)[][] = [];
  for (const [name, h] of Object.entries(report.histograms)) {
    for (const b of h.buckets) rows.push([name, b.low, b.high, b.count]);
  }
  return csvTable(REPORT_CSV_COLUMNS, rows);
}
