/**
 * The report's who and where as text: the top processes and the top mappings, as the
 * summary prints them (`--by process`, `--by mapping`), and the mappings as CSV
 * (`--mappings-csv`).
 *
 * @module
 */

import { csvTable } from "./csv_table.ts";
import type { Report } from "../aggregate/report.ts";
import { escapeText } from "../common/escape_text.ts";
import { formatValue } from "./format_value.ts";

/**
 * What the summary ranks: `process` or `mapping`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { BY_NAMES, type SummaryBy } from "./attribution_tables.ts";
 * const by: SummaryBy = "mapping";
 * assert.ok(BY_NAMES.includes(by));
 * ```
 */
export type SummaryBy = "process" | "mapping";

/**
 * The values `--by` takes.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { BY_NAMES } from "./attribution_tables.ts";
 * assert.deepEqual(BY_NAMES, ["process", "mapping"]);
 * ```
 */
export const BY_NAMES: readonly SummaryBy[] = ["process", "mapping"];

function pad(text: string, width: number, right = true): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/**
 * The busiest processes as a table, at most `top` rows (the `other` row last when the report
 * has one), or no lines when the report has no process table.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProcesses } from "./attribution_tables.ts";
 * const lines = formatProcesses({
 *   processes: [{ pid: 7, parent: 1, command: "sh", processes: 1, exit_timestamp_ns: null,
 *     exit_status: 0, faults: 12, counts: { mmap: 3, munmap: 1 } }],
 * } as never, 5);
 * assert.match(lines[1]!, /^\s+7\s+1\s+sh\s+12\s+3\s+1\s+0$/);
 * ```
 */
export function formatProcesses(report: Pick<Report, "processes">, top: number): string[] {
  const rows = report.processes;
  if (rows === undefined || rows.length === 0) return [];
  const shown = rows.filter((r) => r.pid !== null).slice(0, top);
  const other = rows.find((r) => r.pid === null);
  const hidden = rows.filter((r) => r.pid !== null).length - shown.length;
  const lines = [
    `  ${pad("PID", 8)} ${pad("PARENT", 8)} ${pad("COMMAND", 16, false)} ${pad("FAULTS", 9)} ` +
    `${pad("MMAP", 7)} ${pad("MUNMAP", 7)} ${pad("EXIT", 5)}`,
  ];
  for (const r of shown) {
    lines.push(
      `  ${pad(String(r.pid), 8)} ${pad(r.parent === null ? "-" : String(r.parent), 8)} ` +
        `${pad(escapeText(r.command ?? "?").slice(0, 16), 16, false)} ${
          pad(String(r.faults), 9)
        } ` +
        `${pad(String(r.counts.mmap ?? 0), 7)} ${pad(String(r.counts.munmap ?? 0), 7)} ` +
        `${pad(r.exit_status === null ? "-" : String(r.exit_status), 5)}`,
    );
  }
  const rest = hidden + (other?.processes ?? 0);
  if (rest > 0) {
    const faults = rows.filter((r) => r.pid !== null).slice(top)
      .reduce((s, r) => s + r.faults, other?.faults ?? 0);
    lines.push(`  ... and ${rest} more processes, ${faults} faults`);
  }
  return lines;
}

/**
 * The mappings that faulted most as a table, at most `top` rows, then what the rest add up
 * to; no lines when the report has no mapping table.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMappings } from "./attribution_tables.ts";
 * const latency = { unit: "ns", count: 2, sum: 3000, min: 1000, max: 2000, p50: 1000, p90: 2000, p99: 2000, p999: 2000, buckets: [] };
 * const lines = formatMappings({
 *   mappings: [{ pid: 7, command: "w", path: "/tmp/data", deleted: true, start: "0x7f0000", end: "0x7f2000",
 *     offset: 0, perms: "rw-s", mappings: 1, faults: 2, minor_faults: 2, major_faults: 0, read: 0,
 *     write: 2, exec: 0, user: 2, kernel: 0, latency_ns: latency }],
 * } as never, 5);
 * assert.match(lines[1]!, /2 +2 +0 +0 +2 +0 .* 7 w +\/tmp\/data \(deleted\) 0x7f0000-0x7f2000/);
 * ```
 */
export function formatMappings(report: Pick<Report, "mappings">, top: number): string[] {
  const rows = report.mappings;
  if (rows === undefined || rows.length === 0) return [];
  const real = rows.filter((r) => r.path !== "(other)");
  const shown = real.slice(0, top);
  const lines = [
    `  ${pad("FAULTS", 8)} ${pad("MINOR", 8)} ${pad("MAJOR", 6)} ${pad("READ", 7)} ` +
    `${pad("WRITE", 7)} ${pad("EXEC", 6)} ${pad("P50", 8)} ${pad("PID", 7)} ` +
    `${pad("COMMAND", 15, false)} MAPPING`,
  ];
  for (const r of shown) {
    const where = r.start === null ? "" : ` ${r.start}-${r.end}`;
    lines.push(
      `  ${pad(String(r.faults), 8)} ${pad(String(r.minor_faults), 8)} ` +
        `${pad(String(r.major_faults), 6)} ${pad(String(r.read), 7)} ${pad(String(r.write), 7)} ` +
        `${pad(String(r.exec), 6)} ${pad(formatValue(r.latency_ns.p50, "ns"), 8)} ` +
        `${pad(r.pid === null ? "-" : String(r.pid), 7)} ` +
        `${pad(escapeText(r.command ?? "?").slice(0, 15), 15, false)} ` +
        `${escapeText(r.path)}${r.deleted ? " (deleted)" : ""}${where}`,
    );
  }
  const rest = rows.slice(shown.length);
  if (rest.length > 0) {
    const faults = rest.reduce((s, r) => s + r.faults, 0);
    const mappings = rest.reduce((s, r) => s + r.mappings, 0);
    lines.push(`  ... and ${mappings} more mappings, ${faults} faults`);
  }
  return lines;
}

/**
 * The columns of `--mappings-csv`, a contract.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAPPINGS_CSV_COLUMNS } from "./attribution_tables.ts";
 * assert.equal(MAPPINGS_CSV_COLUMNS[0], "pid");
 * ```
 */
export const MAPPINGS_CSV_COLUMNS = [
  "pid",
  "command",
  "path",
  "deleted",
  "start",
  "end",
  "offset",
  "perms",
  "mappings",
  "faults",
  "minor_faults",
  "major_faults",
  "read",
  "write",
  "exec",
  "user",
  "kernel",
  "latency_p50_ns",
  "latency_p90_ns",
  "latency_p99_ns",
  "latency_max_ns",
] as const;

/**
 * The report's mappings as CSV, one row each in the report's order (the `other` row last,
 * with empty pid, start and end).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mappingsToCsv } from "./attribution_tables.ts";
 * assert.equal(mappingsToCsv({ mappings: [] } as never).split("\n")[0]!.split(",").length, 21);
 * ```
 */
export function mappingsToCsv(report: Pick<Report, "mappings">): string {
  const rows = (report.mappings ?? []).map((r) => [
    r.pid ?? "",
    r.command ?? "",
    r.path,
    r.deleted ? 1 : 0,
    r.start ?? "",
    r.end ?? "",
    r.offset,
    r.perms,
    r.mappings,
    r.faults,
    r.minor_faults,
    r.major_faults,
    r.read,
    r.write,
    r.exec,
    r.user,
    r.kernel,
    r.latency_ns.p50,
    r.latency_ns.p90,
    r.latency_ns.p99,
    r.latency_ns.max,
  ]);
  return csvTable(MAPPINGS_CSV_COLUMNS, rows);
}
