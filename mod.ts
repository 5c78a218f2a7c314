/**
 * faultline: trace how a Linux process maps memory (mmap, munmap and page faults) with eBPF,
 * fold the events into latency and size histograms, and export them.
 *
 * ```ts ignore
 * import { formatSummary, reportToCsv, trace } from "./mod.ts";
 * const report = await trace({ command: ["./build/mmap_touch", "100", "8"] });
 * console.log(formatSummary(report));
 * Deno.writeTextFileSync("report.csv", reportToCsv(report));
 * ```
 *
 * Dependencies flow one way: probes → engines → events → aggregation → outputs.
 *
 * @module
 */

export { trace, type TraceOptions } from "./src/trace_session.ts";
export {
  type AttachOptions,
  type Capture,
  type Engine,
  type EventSink,
  FallbackEngine,
} from "./src/engine.ts";
export {
  BPF_OBJECT,
  DEFAULT_RING_SIZE,
  RingbufEngine,
  type RingbufEngineOptions,
} from "./src/ringbuf_engine.ts";
export {
  ENGINE_NAMES,
  type EngineName,
  makeEngine,
  type MakeEngineOptions,
} from "./src/make_engine.ts";
export { isValidRingSize, type RecordHandler, RingbufReader } from "./src/ringbuf_reader.ts";
export { decodeRecord, foldRecord, LAYOUT } from "./src/ringbuf_record.ts";
export { BpfObject, BpfObjectSpec } from "./src/bpf_object.ts";
export { LIBBPF_SYMBOLS, type LibbpfHandle, LIBC_SYMBOLS, openLibbpf } from "./src/libbpf.ts";
export { onlineCpus } from "./src/online_cpus.ts";
export {
  BPFTRACE_SCRIPT,
  BpftraceEngine,
  type BpftraceEngineOptions,
} from "./src/bpftrace_engine.ts";
export { type BpftraceLine, parseBpftraceLine } from "./src/bpftrace_line_parser.ts";
export {
  type DecodedErrorCode,
  decodeErrorCode,
  type EventBase,
  type EventFolder,
  type EventKind,
  type FaultAccess,
  type FaultCause,
  type FaultDoneEvent,
  type FaultlineEvent,
  type FaultMode,
  type MmapEvent,
  type MunmapEvent,
  type PageFaultEvent,
  PF_INSTR,
  PF_PROT,
  PF_USER,
  PF_WRITE,
} from "./src/faultline_event.ts";
export {
  type HistogramBucket,
  type HistogramReport,
  Log2Histogram,
  log2Slot,
  slotHigh,
  slotLow,
} from "./src/log2_histogram.ts";
export { Aggregator, type ReportContext } from "./src/aggregator.ts";
export {
  type FaultKindCounts,
  type Report,
  REPORT_VERSION,
  type ReportCounts,
  type ReportHistograms,
  type ReportTarget,
} from "./src/report.ts";
export { REPORT_CSV_COLUMNS, reportToCsv } from "./src/report_csv.ts";
export { EVENTS_CSV_COLUMNS, EventsCsvWriter, eventToCsvRow } from "./src/events_csv_writer.ts";
export {
  bucketLabel,
  formatBuckets,
  formatHistogram,
  formatSummary,
} from "./src/terminal_summary.ts";
export { OutputFile } from "./src/output_file.ts";
export { exitStatusOf, LaunchedCommand } from "./src/launched_command.ts";
export { findExecutable } from "./src/find_executable.ts";
export { isAlive, processState } from "./src/process_state.ts";
export { EXIT_RUNTIME, EXIT_USAGE, FaultlineError, usageError } from "./src/faultline_error.ts";
