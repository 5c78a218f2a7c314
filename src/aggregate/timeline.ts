/**
 * The trace over time: one entry per interval (its counts, tallies, lost events and latency
 * percentiles and slots), measured as differences between snapshots of an {@link Aggregator},
 * so the intervals always add up to the totals. Bounded: past `maxIntervals` entries,
 * neighbouring entries are merged pairwise, oldest first, so a long trace keeps its whole
 * span at a coarser grain.
 *
 * @module
 */

import {
  type AggregateSnapshot,
  type Aggregator,
  nestTallies,
  type ReportTallies,
} from "./aggregator.ts";
import type { HistogramBucket, HistogramReport } from "./log2_histogram.ts";
import type { ReportCounts } from "./report.ts";

/**
 * One latency histogram over one interval.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type IntervalLatency, Timeline } from "./timeline.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * const timeline = new Timeline(agg);
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 });
 * const latency: IntervalLatency = timeline.tick(1e9).interval.latency.fault_latency_ns!;
 * assert.deepEqual([latency.count, latency.p50, latency.p99], [1, 700, 700]);
 * ```
 */
export interface IntervalLatency {
  /** Values in the interval. */
  count: number;
  /** Median, within 1/128 (after a merge: within its log2 slot). */
  p50: number;
  /** 99th percentile, within 1/128 (after a merge: within its log2 slot). */
  p99: number;
  /** The log2 slots (bpftrace's), lowest to highest non-empty. */
  buckets: HistogramBucket[];
}

/**
 * One interval of the trace, as the JSON report's `intervals` holds it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type IntervalReport, Timeline } from "./timeline.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * const timeline = new Timeline(agg);
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 });
 * const interval: IntervalReport = timeline.tick(1e9).interval;
 * assert.equal(interval.duration_ns, 1e9);
 * assert.equal(interval.counts.minor_faults, 1);
 * ```
 */
export interface IntervalReport {
  /** Its start, in ns since tracing started. */
  start_ns: number;
  /** Its length in ns. */
  duration_ns: number;
  /** Events counted in it, by JSON counts key. */
  counts: ReportCounts;
  /** Events lost in it. */
  lost: number;
  /** Its tallies (fault_kinds, errors...), nested as in the report. */
  tallies: ReportTallies;
  /** Each latency histogram (unit ns) over the interval, by report name. */
  latency: Record<string, IntervalLatency>;
}

/**
 * What {@link Timeline.tick} measured: the interval, and its whole histograms.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type IntervalSample, Timeline } from "./timeline.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const agg = new Aggregator();
 * const timeline = new Timeline(agg);
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 });
 * const sample: IntervalSample = timeline.tick(1e9);
 * assert.equal(sample.histograms.fault_latency_ns!.p999, 700);
 * ```
 */
export interface IntervalSample {
  /** The interval as recorded. */
  interval: IntervalReport;
  /** Every histogram over the interval alone, as the report writes histograms. */
  histograms: Record<string, HistogramReport>;
}

/**
 * Options for {@link Timeline}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timeline, type TimelineOptions } from "./timeline.ts";
 * import { Aggregator } from "./aggregator.ts";
 * const options: TimelineOptions = { maxIntervals: 4 };
 * const timeline = new Timeline(new Aggregator(), options);
 * for (let t = 1; t <= 9; t++) timeline.tick(t * 1e9);
 * assert.ok(timeline.intervals.length <= 4);
 * ```
 */
export interface TimelineOptions {
  /** Entries kept at most before merging pairwise; default 2048 (at least 2). */
  maxIntervals?: number;
}

/**
 * Records an aggregation interval by interval.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "./aggregator.ts";
 * import { Timeline } from "./timeline.ts";
 * const agg = new Aggregator();
 * const timeline = new Timeline(agg);
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 800 });
 * timeline.tick(1e9);
 * agg.add({ kind: "major_fault", pid: 1, tid: 1, timestampNs: 2, latencyNs: 90000 });
 * timeline.tick(2e9);
 * assert.deepEqual(timeline.intervals.map((i) => i.counts.minor_faults), [1, 0]);
 * assert.equal(timeline.intervals[1]!.latency.fault_latency_ns!.p99, 90000);
 * ```
 */
export class Timeline {
  readonly #aggregator: Aggregator;
  readonly #max: number;
  #previous: AggregateSnapshot;
  #previousNs = 0;
  #intervals: IntervalReport[] = [];

  /** Starts recording `aggregator` from now (time 0). */
  constructor(aggregator: Aggregator, options: TimelineOptions = {}) {
    this.#aggregator = aggregator;
    this.#max = Math.max(2, options.maxIntervals ?? 2048);
    this.#previous = aggregator.snapshot();
  }

  /** The intervals so far, oldest first. */
  get intervals(): readonly IntervalReport[] {
    return this.#intervals;
  }

  /** Ends the current interval at `nowNs` (ns since tracing started) and records it. */
  tick(nowNs: number): IntervalSample {
    return this.#record(nowNs, this.#aggregator.snapshot(this.#previous));
  }

  /**
   * Ends the current interval at `nowNs` as {@link Timeline.tick} does, for a caller that knows
   * nothing reached the aggregator since the last tick: the same entry, without measuring it
   * (an idle trace's intervals, recorded late and cheaply).
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Aggregator } from "./aggregator.ts";
   * import { Timeline } from "./timeline.ts";
   * const agg = new Aggregator();
   * const [measured, told] = [new Timeline(agg), new Timeline(agg)];
   * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 800 });
   * measured.tick(1e9);
   * told.tick(1e9);
   * const quiet = told.tickQuiet(2e9);
   * assert.deepEqual(quiet, measured.tick(2e9));
   * assert.deepEqual([quiet.interval.start_ns, quiet.interval.counts.minor_faults], [1e9, 0]);
   * ```
   */
  tickQuiet(nowNs: number): IntervalSample {
    return this.#record(nowNs, this.#previous);
  }

  #record(nowNs: number, now: AggregateSnapshot): IntervalSample {
    const before = this.#previous;
    const counts: Record<string, number> = {};
    for (const [key, value] of now.counts) counts[key] = value - (before.counts.get(key) ?? 0);
    const tallies = new Map<string, number>();
    for (const [path, value] of now.tallies) {
      tallies.set(path, value - (before.tallies.get(path) ?? 0));
    }
    const histograms: Record<string, HistogramReport> = {};
    const latency: Record<string, IntervalLatency> = {};
    for (const [name, h] of now.histograms) {
      const earlier = before.histograms.get(name);
      // The same copy as before: nothing was added in this interval.
      const report = earlier === h
        ? emptyReport(h.unit)
        : (earlier ? h.since(earlier) : h).toReport();
      histograms[name] = report;
      if (h.unit === "ns") {
        latency[name] = {
          count: report.count,
          p50: report.p50,
          p99: report.p99,
          buckets: report.buckets,
        };
      }
    }
    const interval: IntervalReport = {
      start_ns: this.#previousNs,
      duration_ns: Math.max(0, nowNs - this.#previousNs),
      counts: counts as ReportCounts,
      lost: now.lost - before.lost,
      tallies: nestTallies(tallies),
      latency,
    };
    this.#previous = now;
    this.#previousNs = nowNs;
    this.#intervals.push(interval);
    if (this.#intervals.length > this.#max) this.#intervals = mergePairs(this.#intervals);
    return { interval, histograms };
  }
}

/** Halves a list of intervals by merging each pair of neighbours (an odd last one stays). */
function mergePairs(intervals: IntervalReport[]): IntervalReport[] {
  const out: IntervalReport[] = [];
  for (let i = 0; i < intervals.length; i += 2) {
    const a = intervals[i]!;
    const b = intervals[i + 1];
    out.push(b === undefined ? a : mergeIntervals(a, b));
  }
  return out;
}

/** Two neighbouring intervals as one. */
export function mergeIntervals(a: IntervalReport, b: IntervalReport): IntervalReport {
  const counts: Record<string, number> = { ...a.counts };
  for (const [k, v] of Object.entries(b.counts)) counts[k] = (counts[k] ?? 0) + v;
  const tallies: ReportTallies = structuredClone(a.tallies);
  for (const [k, v] of Object.entries(b.tallies)) {
    if (typeof v === "number") tallies[k] = ((tallies[k] as number | undefined) ?? 0) + v;
    else {
      const into = (tallies[k] ??= {}) as Record<string, number>;
      for (const [sub, n] of Object.entries(v)) into[sub] = (into[sub] ?? 0) + n;
    }
  }
  const latency: Record<string, IntervalLatency> = {};
  for (const name of new Set([...Object.keys(a.latency), ...Object.keys(b.latency)])) {
    const buckets = mergeBuckets(a.latency[name]?.buckets ?? [], b.latency[name]?.buckets ?? []);
    const count = (a.latency[name]?.count ?? 0) + (b.latency[name]?.count ?? 0);
    latency[name] = {
      count,
      p50: bucketPercentile(buckets, count, 0.5),
      p99: bucketPercentile(buckets, count, 0.99),
      buckets,
    };
  }
  return {
    start_ns: a.start_ns,
    duration_ns: b.start_ns + b.duration_ns - a.start_ns,
    counts: counts as ReportCounts,
    lost: a.lost + b.lost,
    tallies,
    latency,
  };
}

function mergeBuckets(a: HistogramBucket[], b: HistogramBucket[]): HistogramBucket[] {
  const byLow = new Map<number, HistogramBucket>();
  for (const x of [...a, ...b]) {
    const had = byLow.get(x.low);
    byLow.set(x.low, { low: x.low, high: x.high, count: (had?.count ?? 0) + x.count });
  }
  return [...byLow.values()].sort((x, y) => x.low - y.low);
}

/**
 * The `q` quantile by nearest rank from log2 slots alone: the rank's place within its slot,
 * taken geometrically between the slot's bounds (what merged intervals can still say).
 */
export function bucketPercentile(buckets: HistogramBucket[], count: number, q: number): number {
  if (count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * count - 1e-9));
  let seen = 0;
  for (const b of buckets) {
    if (seen + b.count >= rank) {
      if (b.high <= 2) return b.low;
      const within = (rank - seen) / b.count;
      return Math.round(b.low * (b.high / b.low) ** within) - (within === 1 ? 1 : 0);
    }
    seen += b.count;
  }
  return buckets.at(-1)?.high ?? 0;
}

/** The report of an empty histogram of `unit` (what Log2Histogram.toReport() gives), made cheaply. */
function emptyReport(unit: string): HistogramReport {
  return { unit, count: 0, sum: 0, min: 0, max: 0, p50: 0, p90: 0, p99: 0, p999: 0, buckets: [] };
}
