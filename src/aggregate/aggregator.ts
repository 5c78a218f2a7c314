/**
 * Aggregation: folds the event stream into counts, tallies and log2 histograms, as the event
 * kind definitions say, and builds the report.
 *
 * @module
 */

import { type KindFolder, type KindStore, recordKind, type Tally } from "../events/event_kind.ts";
import { EVENT_KINDS, type EventKindTable } from "../events/event_kinds.ts";
import type { EventBase, FaultlineEvent } from "../events/faultline_event.ts";
import { Log2Histogram } from "./log2_histogram.ts";
import type { MappingTable } from "./mapping_table.ts";
import type { ProcessTable } from "./process_table.ts";
import {
  type HistogramReport,
  type Report,
  REPORT_VERSION,
  type ReportCounts,
  type ReportHistograms,
  type ReportTarget,
} from "./report.ts";

/**
 * Facts about a trace that the events themselves do not carry.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator, type ReportContext } from "./aggregator.ts";
 * const context: ReportContext = {
 *   engine: "ringbuf", target: { pid: 7, command: null }, startedAt: new Date(0),
 *   durationNs: 1e9, stopReason: "duration", exitStatus: null,
 * };
 * assert.equal(new Aggregator().report(context).stop_reason, "duration");
 * ```
 */
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
 * Folds events into counts and histograms. Engines call {@link Aggregator.add} per event (or
 * fold ring records into it as a {@link KindStore}) and {@link Aggregator.addLost} when they
 * learn of lost events.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 10, latencyNs: 2500 });
 * assert.equal(agg.counts.minor_faults, 1);
 * assert.equal(agg.histogram("fault_latency_ns").max, 2500);
 * ```
 */
export class Aggregator implements KindStore {
  /** The kinds it folds. */
  readonly kinds: EventKindTable;
  readonly #counts = new Map<string, Tally>();
  readonly #tallies = new Map<string, Tally>();
  readonly #histograms = new Map<string, Log2Histogram>();
  readonly #folders = new Map<string, KindFolder<EventBase>>();
  /** Events per process, when kept (the report's `processes`). */
  readonly processes: ProcessTable | null;
  /** Faults per mapping, when kept (the report's `mappings`). */
  readonly mappings: MappingTable | null;
  #lost = 0;

  /**
   * Makes an empty aggregation of the kinds in `kinds` (by default every kind faultline has),
   * feeding every event to the tables given too.
   */
  constructor(
    kinds: EventKindTable = EVENT_KINDS,
    tables: { processes?: ProcessTable; mappings?: MappingTable } = {},
  ) {
    this.kinds = kinds;
    this.processes = tables.processes ?? null;
    this.mappings = tables.mappings ?? null;
    for (const key of kinds.countKeys) this.#counts.set(key, { value: 0 });
    for (const t of kinds.tallies) this.#tallies.set(t.path, { value: 0 });
    for (const h of kinds.histograms) this.#histograms.set(h.name, new Log2Histogram(h.unit));
    for (const d of kinds.definitions) {
      const folder = d.bind(this);
      for (const kind of Object.keys(d.counts)) this.#folders.set(kind, folder);
    }
  }

  /** The counter behind `counts[key]`. */
  count(key: string): Tally {
    return declared(this.#counts, key, "count");
  }

  /** A tally by its report path (`"mmap_errors"`, `"fault_kinds.read"`). */
  tally(path: string): Tally {
    return declared(this.#tallies, path, "tally");
  }

  /** A histogram by its report name (`"fault_latency_ns"`). */
  histogram(name: string): Log2Histogram {
    return declared(this.#histograms, name, "histogram");
  }

  /** Whether nothing reached the aggregation since snapshot `earlier` was taken. */
  #unchangedSince(earlier: AggregateSnapshot): boolean {
    if (earlier.lost !== this.#lost) return false;
    for (const [key, t] of this.#counts) if (earlier.counts.get(key) !== t.value) return false;
    for (const [path, t] of this.#tallies) if (earlier.tallies.get(path) !== t.value) return false;
    for (const [name, h] of this.#histograms) {
      if (earlier.histograms.get(name)?.count !== h.count) return false;
    }
    return true;
  }

  /** Events counted so far, by JSON counts key. */
  get counts(): ReportCounts {
    const out: Record<string, number> = {};
    for (const [key, t] of this.#counts) out[key] = t.value;
    return out as ReportCounts;
  }

  /** Events lost so far. */
  get lost(): number {
    return this.#lost;
  }

  /** Counts `n` lost events. */
  addLost(n: number): void {
    this.#lost += n;
  }

  /**
   * Folds one event in.
   *
   * @throws {RangeError} for an event of a kind the table does not hold.
   */
  add(event: FaultlineEvent | EventBase): void {
    const folder = this.#folders.get(event.kind);
    if (folder === undefined) {
      throw new RangeError(
        `Cannot aggregate an event of kind "${event.kind}": no definition of it was given`,
      );
    }
    folder.add(event);
    this.processes?.add(event);
    this.mappings?.add(event);
  }

  /**
   * What its tables take of each ring record an engine folds straight in as a
   * {@link KindStore} (the engine calls it after folding the record): the hot kinds read from
   * the record, the others decoded into their event. Null when it keeps no tables.
   */
  recordTap(): ((view: DataView, at: number) => void) | null {
    const { processes, mappings, kinds } = this;
    if (processes === null && mappings === null) return null;
    return (view, at) => {
      const id = recordKind(view, at);
      const byProcess = processes === null || processes.foldRecord(view, at, id);
      const byMapping = mappings === null || mappings.foldRecord(view, at, id);
      if (byProcess && byMapping) return;
      const event = kinds.decodeRecord(view, at);
      if (event === null) return;
      if (!byProcess) processes!.add(event);
      if (!byMapping) mappings!.add(event);
    };
  }

  /**
   * Every histogram as the report writes it, by report name. Given earlier reports (of this
   * aggregation), it keeps each one whose histogram has had nothing added since (histograms
   * only grow: an equal count is an equal histogram), so a view redrawn while nothing happens
   * builds none.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Aggregator } from "./aggregator.ts";
   * const agg = new Aggregator();
   * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 });
   * const first = agg.histogramReports();
   * const again = agg.histogramReports(first);
   * assert.equal(again.fault_latency_ns, first.fault_latency_ns);
   * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 2, latencyNs: 900 });
   * const later = agg.histogramReports(again);
   * assert.equal(later.fault_latency_ns!.count, 2);
   * assert.equal(later.mmap_latency_ns, first.mmap_latency_ns);
   * ```
   */
  histogramReports(earlier?: Record<string, HistogramReport>): Record<string, HistogramReport> {
    const out: Record<string, HistogramReport> = {};
    for (const [name, h] of this.#histograms) {
      const old = earlier?.[name];
      out[name] = old !== undefined && old.count === h.count && old.unit === h.unit
        ? old
        : h.toReport();
    }
    return out;
  }

  /**
   * A copy of everything folded in so far, to measure what comes later against. Given an
   * earlier snapshot, it shares that one's copy of each histogram nothing was added to since
   * (histograms only grow, so an equal count is an equal histogram), and when nothing at all
   * changed since (counts, tallies, histograms, lost) it is that snapshot itself: a quiet
   * trace copies nothing.
   */
  snapshot(earlier?: AggregateSnapshot): AggregateSnapshot {
    if (earlier !== undefined && this.#unchangedSince(earlier)) return earlier;
    const histograms = new Map<string, Log2Histogram>();
    for (const [name, h] of this.#histograms) {
      const old = earlier?.histograms.get(name);
      histograms.set(name, old !== undefined && old.count === h.count ? old : h.clone());
    }
    return {
      counts: new Map([...this.#counts].map(([k, t]) => [k, t.value])),
      tallies: new Map([...this.#tallies].map(([k, t]) => [k, t.value])),
      histograms,
      lost: this.#lost,
    };
  }

  /** The tallies as the report nests them (`fault_kinds.read` under `fault_kinds`). */
  tallies(): ReportTallies {
    return nestTallies(new Map([...this.#tallies].map(([k, t]) => [k, t.value])));
  }

  /** The report of everything folded in so far. */
  report(context: ReportContext): Report {
    const tallies = this.tallies();
    const histograms = this.histogramReports();
    return {
      version: REPORT_VERSION,
      engine: context.engine,
      target: context.target,
      started_at: context.startedAt.toISOString(),
      duration_ns: context.durationNs,
      stop_reason: context.stopReason,
      exit_status: context.exitStatus,
      counts: this.counts,
      lost: this.#lost,
      ...tallies,
      histograms: histograms as ReportHistograms,
      ...(this.processes ? { processes: this.processes.report() } : {}),
      ...(this.mappings
        ? { mappings: this.mappings.report(100, (pid) => this.processes?.commandOf(pid) ?? null) }
        : {}),
    } as Report;
  }
}

/**
 * Everything an {@link Aggregator} holds at one moment, copied.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type AggregateSnapshot, Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 });
 * const before: AggregateSnapshot = agg.snapshot();
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 2, latencyNs: 800 });
 * assert.equal(before.counts.get("minor_faults"), 1);
 * assert.equal(agg.counts.minor_faults, 2);
 * ```
 */
export interface AggregateSnapshot {
  /** Counts by JSON counts key. */
  readonly counts: ReadonlyMap<string, number>;
  /** Tallies by report path. */
  readonly tallies: ReadonlyMap<string, number>;
  /** Histograms by report name (copies). */
  readonly histograms: ReadonlyMap<string, Log2Histogram>;
  /** Events lost. */
  readonly lost: number;
}

/**
 * Tallies as a report holds them: top-level numbers, or objects of numbers.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator, type ReportTallies } from "./aggregator.ts";
 * const tallies: ReportTallies = new Aggregator().tallies();
 * assert.deepEqual(tallies.fault_kinds, { read: 0, write: 0, exec: 0, not_present: 0, protection: 0 });
 * assert.equal(tallies.mmap_errors, 0);
 * ```
 */
export type ReportTallies = Record<string, number | Record<string, number>>;

/** Tallies by path, nested as the report writes them. */
export function nestTallies(byPath: ReadonlyMap<string, number>): ReportTallies {
  const out: ReportTallies = {};
  for (const [path, value] of byPath) {
    const [top, sub] = path.split(".", 2) as [string, string | undefined];
    if (sub === undefined) out[top] = value;
    else ((out[top] ??= {}) as Record<string, number>)[sub] = value;
  }
  return out;
}

function declared<T>(map: Map<string, T>, name: string, what: string): T {
  const value = map.get(name);
  if (value === undefined) {
    throw new RangeError(
      `Cannot fold into ${what} "${name}": no event kind definition declares it`,
    );
  }
  return value;
}
