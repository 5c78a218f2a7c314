/**
 * The histogram CSV export: one row per histogram bucket, `histogram,low,high,count`.
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import type { Report } from "./report.ts";

/** The CSV header, a contract other tools rely on. */
export const REPORT_CSV_COLUMNS = ["histogram", "low", "high", "count"] as const;

/**
 * The report's histograms as CSV: a header row, then one row per bucket of every histogram,
 * in the report's order, `low` inclusive and `high` exclusive.
 *
 * @example Usage
 * ```ts ignore
 * import { reportToCsv } from "./report_csv.ts";
 * Deno.writeTextFileSync("out.csv", reportToCsv(report));
 * ```
 */
export function reportToCsv(report: Report): string {
  const rows: (string | number)[][] = [];
  for (const [name, h] of Object.entries(report.histograms)) {
    for (const b of h.buckets) rows.push([name, b.low, b.high, b.count]);
  }
  return stringify(rows, { header: true, columns: [...REPORT_CSV_COLUMNS] });
}
