/**
 * Aggregation: folds the event stream into counts and log2 histograms, and builds the report.
 *
 * @module
 */

import type { FaultlineEvent } from "./faultline_event.ts";
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
export class Aggregator {
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
        this.counts.mmap++;
        this.mmapLatency.add(event.latencyNs);
        this.mmapSize.add(event.length);
        if (event.ret < 0n && event.ret >= -4095n) this.#mmapErrors++;
        break;
      case "munmap":
        this.counts.munmap++;
        this.munmapLatency.add(event.latencyNs);
        if (event.ret < 0) this.#munmapErrors++;
        break;
      case "page_fault_user":
      case "page_fault_kernel":
        this.counts[event.kind]++;
        this.faultKinds[event.access]++;
        this.faultKinds[event.cause]++;
        break;
      case "minor_fault":
      case "major_fault":
        if (event.kind === "minor_fault") this.counts.minor_faults++;
        else this.counts.major_faults++;
        if (event.latencyNs === null) this.#unpaired++;
        else this.faultLatency.add(event.latencyNs);
        break;
    }
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
