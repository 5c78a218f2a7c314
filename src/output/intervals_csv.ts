/**
 * The intervals CSV export (`--intervals-csv`): the report's `intervals`, one row each.
 *
 * @module
 */

import type { Report } from "../aggregate/report.ts";
import type { IntervalReport } from "../aggregate/timeline.ts";

function flatTallies(t: IntervalReport["tallies"]): [string, number][] {
  return Object.entries(t).flatMap(([k, v]) =>
    typeof v === "number" ? [[k, v] as [string, number]] : Object.entries(v).map(
      ([sub, n]) => [`${k}.${sub}`, n] as [string, number],
    )
  );
}

/**
 * The intervals as CSV: `start_ns,duration_ns`, each count, `lost`, each tally (nested ones
 * as `fault_kinds.read`), then `NAME_count,NAME_p50,NAME_p99` for each latency histogram.
 * Every cell is a number.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { Timeline } from "../aggregate/timeline.ts";
 * import { intervalsToCsv } from "./intervals_csv.ts";
 * const agg = new Aggregator();
 * const timeline = new Timeline(agg);
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 800 });
 * timeline.tick(5e8);
 * const report = { ...agg.report({
 *   engine: "ringbuf", target: { pid: 1, command: null }, startedAt: new Date(0),
 *   durationNs: 5e8, stopReason: "target_exited", exitStatus: null,
 * }), intervals: [...timeline.intervals] };
 * const [header, row] = intervalsToCsv(report).trimEnd().split("\n");
 * const cells = Object.fromEntries(header!.split(",").map((c, i) => [c, row!.split(",")[i]]));
 * assert.equal(cells.minor_faults, "1");
 * assert.equal(cells.fault_latency_ns_p50, "800");
 * assert.equal(cells.duration_ns, "500000000");
 * ```
 */
export function intervalsToCsv(report: Report): string {
  const intervals = report.intervals ?? [];
  const first = intervals[0];
  const countKeys = Object.keys(first?.counts ?? report.counts);
  const tallyKeys = first ? flatTallies(first.tallies).map(([k]) => k) : [];
  const latencyKeys = Object.keys(first?.latency ?? {});
  const header = [
    "start_ns",
    "duration_ns",
    ...countKeys,
    "lost",
    ...tallyKeys,
    ...latencyKeys.flatMap((n) => [`${n}_count`, `${n}_p50`, `${n}_p99`]),
  ];
  const rows = intervals.map((i) => {
    const tallies = new Map(flatTallies(i.tallies));
    return [
      i.start_ns,
      i.duration_ns,
      ...countKeys.map((k) => i.counts[k] ?? 0),
      i.lost,
      ...tallyKeys.map((k) => tallies.get(k) ?? 0),
      ...latencyKeys.flatMap((n) => {
        const l = i.latency[n];
        return [l?.count ?? 0, l?.p50 ?? 0, l?.p99 ?? 0];
      }),
    ].join(",");
  });
  return [header.join(","), ...rows].join("\n") + "\n";
}
