/**
 * Aggregation: folds the event stream into counts and log2 histograms, and builds the report.
 *
 * @module
 */

import {
  type EventFolder,
  type FaultlineEvent,
  PF_INSTR,
  PF_PROT,
  PF_WRITE,
} from "./faultline_event.ts";
import { Log2Histogram } from "./log2_histogram.ts";
import {
  type FaultKindCounts,
  type Report,
  REPORT_VERSION,
  type ReportCounts,
  type ReportTarget,
} from "./report.ts";

/** Facts about a trace that the events themselves do not carry. */
export interface ReportContext {
  /** The capture engine's name. */
  engine: string;
  /** What was traced. */
  target: ReportTarget;
  /** When tracing started. */
  startedAt: Date;
  /** How long tracing ran, in ns. */
  durationNs: number;
  /** Why tracing ended. */
  stopReason: string;
  /** The launched command's exit status, or null. */
  exitStatus: number | null;
}

/**
 * Folds events into counts and histograms. Engines call {@link Aggregator.add} per event and
 * {@link Aggregator.addLost} when they learn of lost events.
 *
 * @example Usage
 * ```ts
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 10, latencyNs: 2500 });
 * agg.counts.minor_faults; // 1
 * ```
 */
export class Aggregator implements EventFolder {
  /** Events counted by kind. */
  readonly counts: ReportCounts = {
    mmap: 0,
    munmap: 0,
    page_fault_user: 0,
    page_fault_kernel: 0,
    minor_faults: 0,
    major_faults: 0,
  };
  /** Page faults by decoded error code. */
  readonly faultKinds: FaultKindCounts = {
    read: 0,
    write: 0,
    exec: 0,
    not_present: 0,
    protection: 0,
  };
  /** mmap latency in ns. */
  readonly mmapLatency: Log2Histogram = new Log2Histogram("ns");
  /** munmap latency in ns. */
  readonly munmapLatency: Log2Histogram = new Log2Histogram("ns");
  /** mmap length argument in bytes. */
  readonly mmapSize: Log2Histogram = new Log2Histogram("bytes");
  /** Page-fault latency in ns. */
  readonly faultLatency: Log2Histogram = new Log2Histogram("ns");
  #lost = 0;
  #unpaired = 0;
  #mmapErrors = 0;
  #munmapErrors = 0;

  /** Events lost so far. */
  get lost(): number {
    return this.#lost;
  }

  /** Counts `n` lost events. */
  addLost(n: number): void {
    this.#lost += n;
  }

  /** Folds one event in. */
  add(event: FaultlineEvent): void {
    switch (event.kind) {
      case "mmap":
        return this.foldMmap(event.length, event.latencyNs, event.ret < 0n && event.ret >= -4095n);
      case "munmap":
        return this.foldMunmap(event.latencyNs, event.ret < 0);
      case "page_fault_user":
      case "page_fault_kernel":
        return this.foldPageFault(event.kind === "page_fault_kernel", event.errorCode);
      case "minor_fault":
      case "major_fault":
        return this.foldFaultDone(event.kind === "major_fault", event.latencyNs);
    }
  }

  /** Folds in one completed mmap. */
  foldMmap(length: number, latencyNs: number, failed: boolean): void {
    this.counts.mmap++;
    this.mmapLatency.add(latencyNs);
    this.mmapSize.add(length);
    if (failed) this.#mmapErrors++;
  }

  /** Folds in one completed munmap. */
  foldMunmap(latencyNs: number, failed: boolean): void {
    this.counts.munmap++;
    this.munmapLatency.add(latencyNs);
    if (failed) this.#munmapErrors++;
  }

  /** Folds in one page fault, decoding its error code as decodeErrorCode() does. */
  foldPageFault(kernel: boolean, errorCode: number): void {
    if (kernel) this.counts.page_fault_kernel++;
    else this.counts.page_fault_user++;
    if (errorCode & PF_INSTR) this.faultKinds.exec++;
    else if (errorCode & PF_WRITE) this.faultKinds.write++;
    else this.faultKinds.read++;
    if (errorCode & PF_PROT) this.faultKinds.protection++;
    else this.faultKinds.not_present++;
  }

  /** Folds in one handled fault. */
  foldFaultDone(major: boolean, latencyNs: number | null): void {
    if (major) this.counts.major_faults++;
    else this.counts.minor_faults++;
    if (latencyNs === null) this.#unpaired++;
    else this.faultLatency.add(latencyNs);
  }

  /** The report of everything folded in so far. */
  report(context: ReportContext): Report {
    return {
      version: REPORT_VERSION,
      engine: context.engine,
      target: context.target,
      started_at: context.startedAt.toISOString(),
      duration_ns: context.durationNs,
      stop_reason: context.stopReason,
      exit_status: context.exitStatus,
      counts: { ...this.counts },
      lost: this.#lost,
      fault_kinds: { ...this.faultKinds },
      unpaired_faults: this.#unpaired,
      mmap_errors: this.#mmapErrors,
      munmap_errors: this.#munmapErrors,
      histograms: {
        mmap_latency_ns: this.mmapLatency.toReport(),
        munmap_latency_ns: this.munmapLatency.toReport(),
        mmap_size_bytes: this.mmapSize.toReport(),
        fault_latency_ns: this.faultLatency.toReport(),
      },
    };
  }
}
