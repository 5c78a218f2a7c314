/**
 * The report: what one trace measured, in the versioned shape the JSON export writes.
 *
 * @module
 */

import type { HistogramReport } from "./log2_histogram.ts";
import type { IntervalReport } from "./timeline.ts";
import type { MappingReport } from "./mapping_table.ts";
import type { ProcessReport } from "./process_table.ts";

export type { HistogramReport };

/**
 * The version of the report shape; it changes only when a field changes meaning or goes.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { REPORT_VERSION } from "./report.ts";
 * assert.equal(REPORT_VERSION, 1);
 * ```
 */
export const REPORT_VERSION = 1;

/**
 * Events counted, by the kind of event (keys are a contract of the JSON report).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ReportCounts } from "./report.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 700 });
 * const report = agg.report({
 *   engine: "ringbuf", target: { pid: 7, command: ["./w"] }, startedAt: new Date(0),
 *   durationNs: 1e9, stopReason: "target_exited", exitStatus: 0,
 * });
 * const counts: ReportCounts = report.counts;
 * assert.equal(counts.minor_faults, 1);
 * ```
 */
export interface ReportCounts {
  /** Completed mmap calls. */
  mmap: number;
  /** Completed munmap calls. */
  munmap: number;
  /** `exceptions:page_fault_user` hits. */
  page_fault_user: number;
  /** `exceptions:page_fault_kernel` hits. */
  page_fault_kernel: number;
  /** `minor-faults` perf software events. */
  minor_faults: number;
  /** `major-faults` perf software events. */
  major_faults: number;
  /** A kind added by another definition. */
  [key: string]: number;
}

/**
 * Page faults (both tracepoints) broken down by their decoded error code.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FaultKindCounts } from "./report.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 700 });
 * const report = agg.report({
 *   engine: "ringbuf", target: { pid: 7, command: ["./w"] }, startedAt: new Date(0),
 *   durationNs: 1e9, stopReason: "target_exited", exitStatus: 0,
 * });
 * const kinds: FaultKindCounts = report.fault_kinds;
 * assert.equal(kinds.read + kinds.write + kinds.exec, 0, "no page_fault events were folded");
 * ```
 */
export interface FaultKindCounts {
  /** Faults on a read. */
  read: number;
  /** Faults on a write. */
  write: number;
  /** Faults on an instruction fetch. */
  exec: number;
  /** Faults on a page that was not present. */
  not_present: number;
  /** Faults on a present page with the wrong permissions. */
  protection: number;
}

/**
 * The histograms a report holds (keys are a contract of the JSON report).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ReportHistograms } from "./report.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 700 });
 * const report = agg.report({
 *   engine: "ringbuf", target: { pid: 7, command: ["./w"] }, startedAt: new Date(0),
 *   durationNs: 1e9, stopReason: "target_exited", exitStatus: 0,
 * });
 * const histograms: ReportHistograms = report.histograms;
 * assert.equal(histograms.fault_latency_ns.count, 1);
 * ```
 */
export interface ReportHistograms {
  /** mmap latency, entry to exit. */
  mmap_latency_ns: HistogramReport;
  /** munmap latency, entry to exit. */
  munmap_latency_ns: HistogramReport;
  /** The length argument of every mmap. */
  mmap_size_bytes: HistogramReport;
  /** Page-fault latency: page_fault tracepoint to the minor/major-faults event. */
  fault_latency_ns: HistogramReport;
  /** A histogram added by another definition. */
  [name: string]: HistogramReport;
}

/**
 * What was traced.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ReportTarget } from "./report.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 700 });
 * const report = agg.report({
 *   engine: "ringbuf", target: { pid: 7, command: ["./w"] }, startedAt: new Date(0),
 *   durationNs: 1e9, stopReason: "target_exited", exitStatus: 0,
 * });
 * const target: ReportTarget = report.target;
 * assert.deepEqual(target, { pid: 7, command: ["./w"] });
 * ```
 */
export interface ReportTarget {
  /** The traced process id (tgid); 0 when tracing a cgroup or the whole system. */
  pid: number;
  /** The command faultline launched, or null when it attached to a running pid. */
  command: string[] | null;
  /** The cgroup v2 directory traced (`--cgroup`). */
  cgroup?: string;
  /** True when the whole system was traced (`--all`). */
  all?: boolean;
  /** False when only the process itself was traced (`--no-children`). */
  children?: boolean;
}

/**
 * One trace's results. Fields are snake_case because they are the JSON contract.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Report, REPORT_VERSION } from "./report.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 700 });
 * const report: Report = agg.report({
 *   engine: "ringbuf", target: { pid: 7, command: ["./w"] }, startedAt: new Date(0),
 *   durationNs: 1e9, stopReason: "target_exited", exitStatus: 0,
 * });
 * assert.equal(report.version, REPORT_VERSION);
 * assert.equal(JSON.parse(JSON.stringify(report)).exit_status, 0);
 * ```
 */
export interface Report {
  /** Always {@link REPORT_VERSION}. */
  version: number;
  /** The capture engine: `"bpftrace"` or `"ringbuf"`. */
  engine: string;
  /** What was traced. */
  target: ReportTarget;
  /** Wall-clock time tracing started, ISO 8601. */
  started_at: string;
  /** How long tracing ran, from probes attached (or the command's exec) to stop, in ns. */
  duration_ns: number;
  /** Why tracing ended: `"target_exited"`, `"duration"`, `"signal"`. */
  stop_reason: string;
  /** The launched command's exit status (128 + signal if killed), or null. */
  exit_status: number | null;
  /** Events counted by kind. */
  counts: ReportCounts;
  /** Events the engine lost (bpftrace's "Lost N events", or ring-buffer reserve failures). */
  lost: number;
  /** Page faults by decoded error code. */
  fault_kinds: FaultKindCounts;
  /** minor/major-faults events with no page_fault tracepoint before them on their thread. */
  unpaired_faults: number;
  /** mmap calls that returned an error. */
  mmap_errors: number;
  /** munmap calls that returned an error. */
  munmap_errors: number;
  /** The histograms. */
  histograms: ReportHistograms;
  /**
   * The trace interval by interval (`--interval`, default 1 s), oldest first; they add up to
   * the totals. Past 2048 entries, neighbours are merged pairwise.
   */
  intervals?: IntervalReport[];
  /**
   * Each traced process (the target and, followed, what it forked), the busiest first: at most
   * 100, then one `other` row summing the rest.
   */
  processes?: ProcessReport[];
  /**
   * Handled faults by the mapping holding their address, the most first: at most 100, then
   * one `other` row summing the rest. Their faults add up to minor_faults + major_faults.
   */
  mappings?: MappingReport[];
}
