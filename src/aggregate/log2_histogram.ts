/**
 * Power-of-two histograms whose slots are the slots bpftrace's `hist()` uses, with exact count,
 * sum, min and max, and percentiles read from a finer log-linear index kept beside the slots.
 *
 * @module
 */

/** Sub-buckets per power of two in the percentile index: percentiles are within 1/128. */
const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
/** Fine index size: exact below 2 * SUB_COUNT, then SUB_COUNT per power of two up to 2^64. */
const FINE_SIZE = (64 - SUB_BITS) * SUB_COUNT + SUB_COUNT;
/** bpftrace slots: 0 holds negatives (never used here), 1 holds 0, k >= 2 holds [2^(k-2), 2^(k-1)). */
const SLOT_COUNT = 66;
const TWO_32 = 2 ** 32;
/**
 * 2^k for k in 0..64, looked up: `2 ** k` with k not a constant is a call to the C library's
 * pow() in V8's optimized code (12% of the time to fold a fault into the tables, profiled).
 */
const POW2: Float64Array = Float64Array.from({ length: 65 }, (_, k) => 2 ** k);

/** The floor of log2 of a positive integer-valued number, exact up to 2^64. */
function floorLog2(value: number): number {
  return value < TWO_32 ? 31 - Math.clz32(value) : 63 - Math.clz32(Math.floor(value / TWO_32));
}

/**
 * The bpftrace `hist()` slot of a non-negative integer: 1 for 0, and `floor(log2(value)) + 2`
 * otherwise, so slot k >= 2 holds [2^(k-2), 2^(k-1)). Slot 0 is bpftrace's slot for negatives.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { log2Slot } from "./log2_histogram.ts";
 * assert.equal(log2Slot(4096), 14); // bpftrace prints it as [4K, 8K)
 * ```
 */
export function log2Slot(value: number): number {
  if (value < 0) return 0;
  return value === 0 ? 1 : floorLog2(value) + 2;
}

/** The lowest value slot `slot` holds (inclusive); slot 0, for negatives, has none. */
export function slotLow(slot: number): number {
  return slot <= 1 ? 0 : POW2[slot - 2]!;
}

/** The value above the highest value slot `slot` holds (exclusive). */
export function slotHigh(slot: number): number {
  return slot <= 0 ? 0 : POW2[slot - 1]!;
}

function fineIndex(value: number): number {
  if (value < 2 * SUB_COUNT) return value;
  const e = floorLog2(value);
  // Below 2^32 (any latency under 4.2 s) the sub-bucket is a shift; above, an exact division.
  const sub = value < TWO_32 ? value >>> (e - SUB_BITS) : Math.floor(value / POW2[e - SUB_BITS]!);
  return (e - SUB_BITS) * SUB_COUNT + sub;
}

/** The lowest value fine bucket `index` holds. */
function fineLowest(index: number): number {
  if (index < 2 * SUB_COUNT) return index;
  const e = Math.floor(index / SUB_COUNT) + SUB_BITS - 1;
  const sub = index - (e - SUB_BITS) * SUB_COUNT;
  return sub * POW2[e - SUB_BITS]!;
}

/** The highest value fine bucket `index` holds. */
function fineHighest(index: number): number {
  if (index < 2 * SUB_COUNT) return index;
  const e = Math.floor(index / SUB_COUNT) + SUB_BITS - 1;
  const sub = index - (e - SUB_BITS) * SUB_COUNT;
  return (sub + 1) * POW2[e - SUB_BITS]! - 1;
}

/**
 * One slot of a histogram as exported: values in [low, high).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type HistogramBucket, Log2Histogram } from "./log2_histogram.ts";
 * const h = new Log2Histogram("ns");
 * h.add(5000);
 * const bucket: HistogramBucket = h.buckets()[0]!;
 * assert.deepEqual(bucket, { low: 4096, high: 8192, count: 1 });
 * ```
 */
export interface HistogramBucket {
  /** Lowest value in the slot (inclusive). */
  low: number;
  /** Value above the highest in the slot (exclusive). */
  high: number;
  /** Values counted in the slot. */
  count: number;
}

/**
 * A histogram as the JSON report writes it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type HistogramReport, Log2Histogram } from "./log2_histogram.ts";
 * const h = new Log2Histogram("ns");
 * h.add(5000);
 * const report: HistogramReport = h.toReport();
 * assert.equal(report.p50, 5000);
 * assert.equal(report.unit, "ns");
 * ```
 */
export interface HistogramReport {
  /** Unit of the values: `"ns"` or `"bytes"`. */
  unit: string;
  /** Number of values. */
  count: number;
  /** Sum of the values. */
  sum: number;
  /** Smallest value, 0 when empty. */
  min: number;
  /** Largest value, 0 when empty. */
  max: number;
  /** Median (nearest rank), within 1/128 of the true value. */
  p50: number;
  /** 90th percentile, within 1/128. */
  p90: number;
  /** 99th percentile, within 1/128. */
  p99: number;
  /** 99.9th percentile, within 1/128. */
  p999: number;
  /** The bpftrace slots from the lowest to the highest non-empty one, empty ones between. */
  buckets: HistogramBucket[];
}

/**
 * A log2 histogram of non-negative integers (latencies in ns, sizes in bytes).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Log2Histogram } from "./log2_histogram.ts";
 * const h = new Log2Histogram("bytes");
 * h.add(4096);
 * h.add(4096);
 * assert.equal(h.percentile(0.5), 4096);
 * assert.deepEqual(h.buckets(), [{ low: 4096, high: 8192, count: 2 }]);
 * ```
 */
export class Log2Histogram {
  /** Unit of the values, written into reports. */
  readonly unit: string;
  // The slots from #base on, as far as a value has reached: the few slots a latency spans,
  // not all 66 (the mapping table keeps one histogram per mapping that faults: thousands of
  // them on a program that maps small pieces). A plain array, not a typed one: V8 makes a
  // typed array outside its heap (malloc and zeroing, a call into the runtime).
  #slots: number[] = [];
  #base = 0;
  /** Whether it keeps the percentile index (not coarse). */
  #fineKept: boolean;
  /** The percentile index, made at the first value (an empty histogram costs no 60 KiB). */
  #fine: Float64Array | null = null;
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /**
   * Makes an empty histogram of values in `unit`. With `coarse`, it keeps the log2 slots only
   * (tens of bytes instead of 60 KiB once it holds a value): its percentiles are then the top of their slot (clamped to
   * [min, max]), as bpftrace's own resolution, for the many small histograms of a table.
   */
  constructor(unit: string, options: { coarse?: boolean } = {}) {
    this.unit = unit;
    this.#fineKept = !options.coarse;
  }

  /** Whether it keeps the log2 slots only (see the constructor). */
  get coarse(): boolean {
    return !this.#fineKept;
  }

  /** Number of values added. */
  get count(): number {
    return this.#count;
  }

  /** Sum of the values added. */
  get sum(): number {
    return this.#sum;
  }

  /** Smallest value added, 0 when empty. */
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  /** Largest value added, 0 when empty. */
  get max(): number {
    return this.#count === 0 ? 0 : this.#max;
  }

  /**
   * Adds one value.
   *
   * @throws {RangeError} if `value` is negative, fractional or not finite.
   */
  add(value: number): void {
    if (!(value >= 0) || !Number.isInteger(value)) {
      throw new RangeError(
        `Cannot add ${value} to a log2 histogram: values must be non-negative integers`,
      );
    }
    const slot = log2Slot(value);
    const i = slot - this.#base;
    if (i >= 0 && i < this.#slots.length) this.#slots[i]! += 1;
    else this.#bump(slot, 1);
    if (this.#fineKept) (this.#fine ??= new Float64Array(FINE_SIZE))[fineIndex(value)]! += 1;
    this.#count += 1;
    this.#sum += value;
    if (value < this.#min) this.#min = value;
    if (value > this.#max) this.#max = value;
  }

  /** The count in bpftrace slot `slot` (see {@link log2Slot}). */
  slotCount(slot: number): number {
    return this.#slots[slot - this.#base] ?? 0;
  }

  /** Adds `n` to slot `slot`, first reaching the slots out to it. */
  #bump(slot: number, n: number): void {
    const slots = this.#slots;
    if (slots.length === 0) this.#base = slot;
    else if (slot < this.#base) {
      this.#slots = new Array<number>(this.#base - slot).fill(0).concat(slots);
      this.#base = slot;
    }
    const i = slot - this.#base;
    while (this.#slots.length <= i) this.#slots.push(0);
    this.#slots[i]! += n;
  }

  /**
   * The `q` quantile (0 < q <= 1) by nearest rank: the smallest value with at least `q` of all
   * values at or below it. Exact below 256; above, at most 1/128 over the true value and never
   * outside [min, max]. 0 when empty.
   */
  percentile(q: number): number {
    if (!(q > 0 && q <= 1)) {
      throw new RangeError(`Cannot compute percentile ${q}: it must be in (0, 1]`);
    }
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count - 1e-9));
    let seen = 0;
    const fine = this.#fine;
    if (fine === null) {
      for (let slot = log2Slot(this.#min); slot < SLOT_COUNT; slot++) {
        seen += this.slotCount(slot);
        if (seen >= rank) return Math.max(this.#min, Math.min(this.#max, slotHigh(slot) - 1));
      }
      return this.#max;
    }
    for (let i = fineIndex(this.#min); i < FINE_SIZE; i++) {
      seen += fine[i]!;
      if (seen >= rank) return Math.max(this.#min, Math.min(this.#max, fineHighest(i)));
    }
    return this.#max;
  }

  /** A copy, to compare a later state against (see {@link Log2Histogram.since}). */
  clone(): Log2Histogram {
    const c = new Log2Histogram(this.unit, { coarse: this.coarse });
    c.#slots = this.#slots.slice();
    c.#base = this.#base;
    if (this.#fine !== null) c.#fine = this.#fine.slice();
    c.#count = this.#count;
    c.#sum = this.#sum;
    c.#min = this.#min;
    c.#max = this.#max;
    return c;
  }

  /**
   * The values added since `earlier` (a {@link Log2Histogram.clone} of this one, taken
   * before): counts, sum, slots and percentiles exact as for any histogram; min and max are
   * the bounds of the lowest and highest fine buckets (exact below 256, within 1/128 above).
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Log2Histogram } from "./log2_histogram.ts";
   * const h = new Log2Histogram("ns");
   * h.add(10);
   * const before = h.clone();
   * h.add(100);
   * h.add(200);
   * const since = h.since(before);
   * assert.equal(since.count, 2);
   * assert.equal(since.sum, 300);
   * assert.equal(since.min, 100);
   * assert.equal(since.percentile(1), 200);
   * ```
   */
  since(earlier: Log2Histogram): Log2Histogram {
    const d = new Log2Histogram(this.unit, { coarse: this.coarse || earlier.coarse });
    d.#count = this.#count - earlier.#count;
    d.#sum = this.#sum - earlier.#sum;
    if (d.#count <= 0) {
      d.#count = 0;
      d.#sum = 0;
      return d;
    }
    let first = -1;
    let last = -1;
    for (let i = 0; i < SLOT_COUNT; i++) {
      const n = this.slotCount(i) - earlier.slotCount(i);
      if (n === 0) continue;
      d.#bump(i, n);
      if (first < 0) first = i;
      last = i;
    }
    if (!d.#fineKept) {
      d.#min = Math.max(this.#min, slotLow(first));
      d.#max = Math.min(this.#max, Math.max(slotHigh(last) - 1, 0));
      return d;
    }
    first = -1;
    // Only the buckets between this one's min and max can differ (the rest are 0 in both).
    // (This one holds values, so it has its index; the earlier one may have held none.)
    const fine = d.#fine = new Float64Array(FINE_SIZE);
    const mine = this.#fine!;
    const theirs = earlier.#fine;
    for (let i = fineIndex(this.#min), end = fineIndex(this.#max); i <= end; i++) {
      const n = mine[i]! - (theirs === null ? 0 : theirs[i]!);
      if (n === 0) continue;
      fine[i] = n;
      if (first < 0) first = i;
      last = i;
    }
    d.#min = Math.max(this.#min, fineLowest(first));
    d.#max = Math.min(this.#max, fineHighest(last));
    return d;
  }

  /**
   * Adds every value of `other` (same unit) in: counts, sum, min, max and slots exact; the
   * percentile index too when both keep it, else this one becomes coarse.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { Log2Histogram } from "./log2_histogram.ts";
   * const a = new Log2Histogram("ns", { coarse: true });
   * const b = new Log2Histogram("ns", { coarse: true });
   * a.add(100);
   * b.add(5000);
   * a.merge(b);
   * assert.equal(a.count, 2);
   * assert.equal(a.max, 5000);
   * ```
   */
  merge(other: Log2Histogram): void {
    if (other.#count === 0) return;
    for (let i = 0; i < other.#slots.length; i++) {
      if (other.#slots[i] !== 0) this.#bump(other.#base + i, other.#slots[i]!);
    }
    if (this.#fineKept && other.#fineKept) {
      const fine = this.#fine ??= new Float64Array(FINE_SIZE);
      const from = other.#fine!;
      for (let i = fineIndex(other.#min), end = fineIndex(other.#max); i <= end; i++) {
        fine[i]! += from[i]!;
      }
    } else {
      this.#fineKept = false;
      this.#fine = null;
    }
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /** The non-empty range of bpftrace slots, with the empty slots inside it. */
  buckets(): HistogramBucket[] {
    if (this.#count === 0) return [];
    const first = log2Slot(this.#min);
    const last = log2Slot(this.#max);
    const out: HistogramBucket[] = [];
    for (let slot = first; slot <= last; slot++) {
      out.push({ low: slotLow(slot), high: slotHigh(slot), count: this.slotCount(slot) });
    }
    return out;
  }

  /** The histogram as the JSON report writes it. */
  toReport(): HistogramReport {
    return {
      unit: this.unit,
      count: this.#count,
      sum: this.#sum,
      min: this.min,
      max: this.max,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      p999: this.percentile(0.999),
      buckets: this.buckets(),
    };
  }
}
