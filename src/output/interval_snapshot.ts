/**
 * The plain-text snapshot printed once per interval when there is no live view (stdout not a
 * terminal, or `--no-live`): a timestamp line, the interval's counts, and each histogram that
 * has values in it, drawn like the summary, the way bpftrace's
 * `interval:s:N { print(@h); clear(@h) }` logs a trace.
 *
 * @module
 */

import type { IntervalSample } from "../aggregate/timeline.ts";
import { formatHistogram } from "./terminal_summary.ts";

/**
 * One interval's snapshot. `number` counts intervals from 1; `startedAt` is when tracing
 * started (the timestamp printed is the interval's end).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { Timeline } from "../aggregate/timeline.ts";
 * import { formatIntervalSnapshot } from "./interval_snapshot.ts";
 * const agg = new Aggregator();
 * const timeline = new Timeline(agg);
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 800 });
 * const text = formatIntervalSnapshot(timeline.tick(5e8), 1, new Date(0));
 * assert.equal(
 *   text.split("\n")[0],
 *   "faultline: interval 1 ending 1970-01-01T00:00:00.500Z (+0.000s to +0.500s)",
 * );
 * assert.match(text, /handled: minor 1, major 0/);
 * assert.match(text, /^@fault_latency_ns: count 1,/m);
 * assert.doesNotMatch(text, /@mmap_latency_ns/);
 * ```
 */
export function formatIntervalSnapshot(
  sample: IntervalSample,
  number: number,
  startedAt: Date,
): string {
  const { interval: i, histograms } = sample;
  const end = i.start_ns + i.duration_ns;
  const c = i.counts;
  const k = i.tallies.fault_kinds as Record<string, number> | undefined;
  const lines = [
    `faultline: interval ${number} ending ${
      new Date(startedAt.getTime() + end / 1e6).toISOString()
    } (+${(i.start_ns / 1e9).toFixed(3)}s to +${(end / 1e9).toFixed(3)}s)`,
    `  mmap ${c.mmap}, munmap ${c.munmap}; page faults: user ${c.page_fault_user}, ` +
    `kernel ${c.page_fault_kernel}; handled: minor ${c.minor_faults}, major ${c.major_faults}` +
    (k ? `; read ${k.read}, write ${k.write}, exec ${k.exec}` : "") +
    (i.lost ? `; LOST ${i.lost} events` : `; lost 0`),
  ];
  for (const [name, h] of Object.entries(histograms)) {
    if (h.count > 0) lines.push(formatHistogram(name, h).trimEnd());
  }
  return lines.join("\n") + "\n";
}
