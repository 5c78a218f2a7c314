/**
 * The aggregation in the Prometheus text exposition format (version 0.0.4): every count as a
 * counter (`faultline_events_total{kind}`), every tally (`faultline_fault_kinds_total{kind}`,
 * `faultline_mmap_errors_total`...), lost events, and every histogram with its log2 slots as
 * buckets (latencies in seconds, sizes in bytes), all labelled with the traced pid and command
 * name.
 *
 * @module
 */

import type { Aggregator } from "../aggregate/aggregator.ts";
import { slotHigh } from "../aggregate/log2_histogram.ts";

/** The content type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Bucket bounds: slot k's high bound 2^(k-1), from 1 up to 2^40 (about 18 minutes in ns). */
const SLOTS = Array.from({ length: 41 }, (_, i) => i + 2);

/** A label value escaped as the text format wants: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** What every series is labelled with. */
export interface MetricsTarget {
  /** The traced process. */
  pid: number;
  /** Its name (as the kernel knows it), or the command faultline launched. */
  command: string;
}

/** `v` in seconds (from ns) or as it is, exactly as the text format takes floats. */
function scaled(v: number, seconds: boolean): string {
  return String(seconds ? v / 1e9 : v);
}

/**
 * The text exposition of `aggregator` for `target`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { metricsText } from "./prometheus_metrics.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 1500 });
 * const text = metricsText(agg, { pid: 7, command: 'say "hi"' });
 * assert.match(text, /^faultline_events_total\{pid="7",command="say \\"hi\\"",kind="minor_faults"\} 1$/m);
 * assert.match(text, /^faultline_fault_latency_seconds_bucket\{.*le="0\.000002048"\} 1$/m);
 * assert.match(text, /^faultline_fault_latency_seconds_bucket\{.*le="0\.000001024"\} 0$/m);
 * assert.match(text, /^faultline_fault_latency_seconds_sum\{.*\} 0\.0000015$/m);
 * ```
 */
export function metricsText(aggregator: Aggregator, target: MetricsTarget): string {
  const labels = `pid="${target.pid}",command="${escapeLabelValue(target.command)}"`;
  const out: string[] = [];
  out.push(
    "# HELP faultline_events_total Events traced, by kind (the JSON report's counts).",
    "# TYPE faultline_events_total counter",
  );
  for (const [kind, value] of Object.entries(aggregator.counts)) {
    out.push(`faultline_events_total{${labels},kind="${kind}"} ${value}`);
  }
  out.push(
    "# HELP faultline_lost_events_total Events the engine lost (ring full, bpftrace's buffer).",
    "# TYPE faultline_lost_events_total counter",
    `faultline_lost_events_total{${labels}} ${aggregator.lost}`,
  );
  for (const [name, value] of Object.entries(aggregator.tallies())) {
    const metric = `faultline_${name}_total`;
    out.push(`# HELP ${metric} The report's ${name}.`, `# TYPE ${metric} counter`);
    if (typeof value === "number") out.push(`${metric}{${labels}} ${value}`);
    else {
      for (const [kind, n] of Object.entries(value)) {
        out.push(`${metric}{${labels},kind="${kind}"} ${n}`);
      }
    }
  }
  for (const declaration of aggregator.kinds.histograms) {
    const h = aggregator.histogram(declaration.name);
    const seconds = h.unit === "ns";
    const metric = `faultline_${declaration.name.replace(/_(ns|bytes)$/, "")}_${
      seconds ? "seconds" : "bytes"
    }`;
    out.push(
      `# HELP ${metric} The report's ${declaration.name}, in ${seconds ? "seconds" : "bytes"}: ` +
        `bpftrace's log2 slots as buckets (a slot [2^k, 2^(k+1)) is counted under le=2^(k+1)).`,
      `# TYPE ${metric} histogram`,
    );
    let cumulative = h.slotCount(1); // the zeros
    for (const slot of SLOTS) {
      cumulative += h.slotCount(slot);
      // The slot's values are below its high bound, so at or below le = high.
      out.push(`${metric}_bucket{${labels},le="${scaled(slotHigh(slot), seconds)}"} ${cumulative}`);
    }
    out.push(
      `${metric}_bucket{${labels},le="+Inf"} ${h.count}`,
      `${metric}_sum{${labels}} ${scaled(h.sum, seconds)}`,
      `${metric}_count{${labels}} ${h.count}`,
    );
  }
  return out.join("\n") + "\n";
}
