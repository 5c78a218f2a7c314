/**
 * The trace's interval clock: it ends an interval of the timeline every interval, once the
 * capture has delivered what it holds. A trace nobody watches interval by interval (no live
 * view, no snapshots printed) need not wake for an interval that brings nothing: when one
 * ends empty and the capture can say when it next delivers, the clock stops, and just before
 * that delivery it records the intervals that went by (empty, ending at their times) and ticks
 * on in phase. The report's intervals come out as a clock that never stopped would have made
 * them; an idle trace stops waking once a second.
 *
 * @module
 */

import type { IntervalSample, Timeline } from "../aggregate/timeline.ts";
import type { Capture } from "../capture/engine.ts";
import { Timer } from "../common/timer.ts";

/**
 * Options for {@link IntervalClock}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { IntervalClockOptions } from "./interval_clock.ts";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { Timeline } from "../aggregate/timeline.ts";
 * const options: IntervalClockOptions = {
 *   everyMs: 1000,
 *   timeline: new Timeline(new Aggregator()),
 *   capture: { drain: () => Promise.resolve() },
 *   now: () => 0,
 * };
 * assert.equal(options.everyMs, 1000);
 * ```
 */
export interface IntervalClockOptions {
  /** The length of an interval, in ms (1 or more). */
  everyMs: number;
  /** Where intervals are recorded. */
  timeline: Timeline;
  /** What is drained before each interval ends; with `onNextDelivery`, the clock may stop. */
  capture: Pick<Capture, "drain" | "onNextDelivery">;
  /** Now, in ns since tracing started (the timeline's clock). */
  now: () => number;
  /**
   * Called with each interval as it ends, on time: with it, the clock never stops (whoever
   * watches sees every interval when it ends).
   */
  onInterval?: (sample: IntervalSample) => void;
}

/**
 * Ends the timeline's intervals, from its construction until {@link IntervalClock.stop}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { IntervalClock } from "./interval_clock.ts";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { Timeline } from "../aggregate/timeline.ts";
 * import { sleep } from "../common/timer.ts";
 * const timeline = new Timeline(new Aggregator());
 * const t0 = performance.now();
 * const now = () => Math.round((performance.now() - t0) * 1e6);
 * const clock = new IntervalClock({ everyMs: 20, timeline, capture: { drain: () => Promise.resolve() }, now });
 * await sleep(70);
 * const end = now();
 * await clock.stop(end);
 * clock.finish();
 * timeline.tick(end);
 * assert.ok(timeline.intervals.length >= 3);
 * ```
 */
export class IntervalClock {
  readonly #options: IntervalClockOptions;
  readonly #everyNs: number;
  #timer: Timer | null = null;
  #ticking: Promise<void> = Promise.resolve();
  #error: unknown = null;
  /** Where the last recorded interval ended, ns. */
  #lastNs = 0;
  #stopped = false;
  #endNs = Infinity;
  #idle = false;

  /** Starts the clock: the first interval ends `everyMs` from now. */
  constructor(options: IntervalClockOptions) {
    if (!(options.everyMs >= 1)) {
      throw new RangeError(`Cannot end intervals every ${options.everyMs} ms; give 1 ms or more`);
    }
    this.#options = options;
    this.#everyNs = options.everyMs * 1e6;
    this.#start(options.everyMs);
  }

  /** True while the clock is stopped for want of anything to measure. */
  get idle(): boolean {
    return this.#idle;
  }

  /** The error an interval's end threw (the clock stopped at it), or null. */
  get error(): unknown {
    return this.#error;
  }

  #start(firstMs: number): void {
    this.#timer = new Timer(() => this.#onTime(), this.#options.everyMs, {
      repeat: true,
      firstMs,
    });
  }

  #onTime(): void {
    this.#ticking = this.#ticking.then(async () => {
      if (this.#error !== null || this.#stopped) return;
      const { capture, timeline, onInterval } = this.#options;
      await capture.drain();
      if (this.#stopped) return;
      const nowNs = this.#options.now();
      const sample = timeline.tick(nowNs);
      this.#lastNs = nowNs;
      onInterval?.(sample);
      // Synchronously after the measure: whatever is delivered from here on wakes the clock.
      if (onInterval === undefined && capture.onNextDelivery && isEmpty(sample)) {
        capture.onNextDelivery(() => this.#wake());
        this.#idle = true;
        const timer = this.#timer;
        this.#timer = null;
        await timer?.cancel();
      }
    }).catch((e) => {
      this.#error ??= e;
    });
  }

  /** Something is about to be delivered: the intervals that went by first, then on in phase. */
  #wake(): void {
    if (!this.#idle) return;
    this.#idle = false;
    const now = this.#options.now();
    try {
      this.#catchUp(Math.min(now + 1, this.#endNs));
    } catch (e) {
      this.#error ??= e;
      return;
    }
    if (!this.#stopped) this.#start((this.#lastNs + this.#everyNs - now) / 1e6);
  }

  /** Records the empty intervals whose ends lie before `beforeNs`. */
  #catchUp(beforeNs: number): void {
    for (let at = this.#lastNs + this.#everyNs; at < beforeNs; at += this.#everyNs) {
      this.#options.timeline.tickQuiet(at);
      this.#lastNs = at;
    }
  }

  /**
   * Ends no more intervals on time, and resolves once none is ending; the intervals the clock
   * records from now on (on the capture's next delivery, or in {@link IntervalClock.finish})
   * end before `endNs`, the trace's end.
   */
  async stop(endNs: number): Promise<void> {
    this.#stopped = true;
    this.#endNs = endNs;
    await this.#timer?.cancel();
    this.#timer = null;
    await this.#ticking;
  }

  /**
   * After {@link IntervalClock.stop} and once the capture has delivered everything: records the
   * empty intervals that went by while the clock was idle, up to the trace's end (the caller
   * then ticks the last one).
   */
  finish(): void {
    if (!this.#idle) return;
    this.#idle = false;
    this.#catchUp(this.#endNs);
  }
}

/** Nothing was counted or lost in the interval. */
function isEmpty(sample: IntervalSample): boolean {
  const { counts, lost } = sample.interval;
  if (lost !== 0) return false;
  for (const key in counts) if ((counts as Record<string, number>)[key] !== 0) return false;
  return true;
}
