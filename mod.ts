/**
 * faultline: trace how a Linux process maps memory (mmap, munmap and page faults) with eBPF,
 * fold the events into latency and size histograms, and export them.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator, formatSummary, reportToCsv } from "./mod.ts";
 * // trace({ command: ["./build/mmap_touch", "100", "8"], engine: makeEngine(undefined) })
 * // gives a report like this one (it needs root and the kernel's probes):
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 900 });
 * const report = agg.report({
 *   engine: "ringbuf", target: { pid: 7, command: null }, startedAt: new Date(0),
 *   durationNs: 1e6, stopReason: "target_exited", exitStatus: null,
 * });
 * assert.match(formatSummary(report), /handled: minor 1, major 0/);
 * assert.match(reportToCsv(report), /^fault_latency_ns,512,1024,1$/m);
 * ```
 *
 * Dependencies flow one way: probes → capture (engines) → events → aggregation → outputs.
 * Parts of the engines (libbpf bindings, the ring reader, record layouts) are internals,
 * imported by path under `src/` by tests and benchmarks.
 *
 * @module
 */

export {
  attributionTables,
  checkDuration,
  checkPid,
  trace,
  type TraceOptions,
} from "./src/session/trace_session.ts";
export type {
  AttachOptions,
  Capture,
  CgroupTarget,
  Engine,
  EventSink,
} from "./src/capture/engine.ts";
export { FallbackEngine } from "./src/capture/fallback_engine.ts";
export {
  ENGINE_NAMES,
  type EngineName,
  makeEngine,
  type MakeEngineOptions,
} from "./src/capture/make_engine.ts";
export {
  checkRingSize,
  DEFAULT_RING_SIZE,
  RingbufEngine,
  type RingbufEngineOptions,
} from "./src/capture/ringbuf/ringbuf_engine.ts";
export {
  BpftraceEngine,
  type BpftraceEngineOptions,
} from "./src/capture/bpftrace/bpftrace_engine.ts";
export {
  type BrkEvent,
  type DecodedErrorCode,
  decodeErrorCode,
  type EventBase,
  type EventKind,
  exitStatusOf,
  type FaultAccess,
  type FaultCause,
  type FaultDoneEvent,
  type FaultlineEvent,
  type FaultMode,
  type MadviseEvent,
  type MmapEvent,
  type MprotectEvent,
  type MremapEvent,
  type MsyncEvent,
  type MunmapEvent,
  type PageFaultEvent,
  type ProcessExecEvent,
  type ProcessExitEvent,
  type ProcessForkEvent,
} from "./src/events/faultline_event.ts";
export type {
  CsvCellWriter,
  EventKindDefinition,
  HistogramDeclaration,
  KindFolder,
  KindStore,
  LineFormat,
  RecordFormat,
  Tally,
  TallyDeclaration,
  ValueSink,
} from "./src/events/event_kind.ts";
export { EVENT_KINDS, EventKindTable, type RecordFolder } from "./src/events/event_kinds.ts";
export type { FileName } from "./src/events/file_path_record.ts";
export type { ExecMapping } from "./src/events/exec_mapping_record.ts";
export {
  type HistogramBucket,
  type HistogramReport,
  Log2Histogram,
} from "./src/aggregate/log2_histogram.ts";
export {
  type AggregateSnapshot,
  Aggregator,
  type ReportContext,
  type ReportTallies,
} from "./src/aggregate/aggregator.ts";
export {
  type IntervalLatency,
  type IntervalReport,
  type IntervalSample,
  Timeline,
  type TimelineOptions,
} from "./src/aggregate/timeline.ts";
export {
  type FaultKindCounts,
  type Report,
  REPORT_VERSION,
  type ReportCounts,
  type ReportHistograms,
  type ReportTarget,
} from "./src/aggregate/report.ts";
export {
  type ProcessInfo,
  type ProcessReport,
  ProcessTable,
  type ProcessTableOptions,
} from "./src/aggregate/process_table.ts";
export {
  type MappingReport,
  type MappingSource,
  MappingTable,
  type MappingTableOptions,
  type MapsEntry,
} from "./src/aggregate/mapping_table.ts";
export { REPORT_CSV_COLUMNS, reportToCsv } from "./src/output/report_csv.ts";
export {
  BY_NAMES,
  MAPPINGS_CSV_COLUMNS,
  mappingsToCsv,
  type SummaryBy,
} from "./src/output/attribution_tables.ts";
export { intervalsToCsv } from "./src/output/intervals_csv.ts";
export {
  type CsvRecordFormatter,
  csvRecordFormatter,
  type CsvRowFormatter,
  csvRowFormatter,
  EVENTS_CSV_COLUMNS,
  EventsCsvWriter,
  eventToCsvRow,
} from "./src/output/events_csv_writer.ts";
export {
  formatHistogram,
  formatSummary,
  type SummaryOptions,
} from "./src/output/terminal_summary.ts";
export {
  EXIT_RUNTIME,
  EXIT_USAGE,
  FaultlineError,
  usageError,
} from "./src/common/faultline_error.ts";
