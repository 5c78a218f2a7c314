import assert from "node:assert/strict";
import { IntervalClock } from "./interval_clock.ts";
import { Aggregator } from "../aggregate/aggregator.ts";
import { type IntervalReport, Timeline } from "../aggregate/timeline.ts";
import { sleep } from "../common/timer.ts";

/** A capture as the clock sees it: drains counted, a delivery announced as the engine does. */
class FakeCapture {
  drains = 0;
  #next: (() => void) | null = null;
  readonly onNextDelivery?: (callback: () => void) => void;

  constructor(readonly aggregator: Aggregator, canWake = true) {
    if (canWake) this.onNextDelivery = (callback) => this.#next = callback;
  }

  drain(): Promise<void> {
    this.drains++;
    return Promise.resolve();
  }

  /** One fault delivered, the announcement first. */
  deliver(): void {
    const next = this.#next;
    this.#next = null;
    next?.();
    this.aggregator.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 500 });
  }
}

function setUp(everyMs: number, canWake = true, watch = false) {
  const aggregator = new Aggregator();
  const timeline = new Timeline(aggregator);
  const capture = new FakeCapture(aggregator, canWake);
  const t0 = performance.now();
  const now = () => Math.round((performance.now() - t0) * 1e6);
  const watched: IntervalReport[] = [];
  const clock = new IntervalClock({
    everyMs,
    timeline,
    capture,
    now,
    onInterval: watch ? (s) => watched.push(s.interval) : undefined,
  });
  /** Ends the trace as the session does: the clock, the capture, the late intervals, the last. */
  const end = async () => {
    const endNs = now();
    await clock.stop(endNs);
    capture.deliver(); // what stop() reads from the ring: announced, then folded
    clock.finish();
    timeline.tick(endNs);
    return endNs;
  };
  return { timeline, capture, clock, now, end, watched };
}

/** The intervals follow one another from 0 to the trace's end, and add up to the totals. */
function assertWhole(timeline: Timeline, endNs: number, faults: number): void {
  const intervals = timeline.intervals;
  let at = 0;
  for (const i of intervals) {
    assert.equal(i.start_ns, at, "each interval starts where the one before ended");
    assert.ok(i.duration_ns > 0, `no empty span: ${JSON.stringify(i)}`);
    at += i.duration_ns;
  }
  assert.equal(at, endNs, "they end at the trace's end");
  assert.equal(intervals.reduce((s, i) => s + i.counts.minor_faults, 0), faults);
}

Deno.test("IntervalClock: stops after an empty interval, and a delivery first records the ones that went by", async () => {
  const { timeline, capture, clock, now, end } = setUp(20);
  await sleep(35);
  assert.equal(clock.idle, true, "the first interval brought nothing: the clock stopped");
  const drains = capture.drains;
  await sleep(120);
  assert.equal(capture.drains, drains, "no interval ended on time while stopped");
  assert.equal(timeline.intervals.length, 1);

  const deliveredAt = now();
  capture.deliver();
  assert.equal(clock.idle, false);
  // Six intervals went by while stopped: recorded, empty, ending every 20 ms from the first.
  const late = timeline.intervals.slice(1);
  assert.ok(late.length >= 5, `${late.length} intervals recorded on waking`);
  for (const i of late) {
    assert.equal(i.duration_ns, 20e6);
    assert.equal(i.counts.minor_faults, 0);
  }
  const last = late.at(-1)!;
  assert.ok(last.start_ns + last.duration_ns <= deliveredAt, "none ends after the delivery");
  assert.ok(last.start_ns + 2 * last.duration_ns > deliveredAt, "every one before it is there");

  // The fault counts in the interval that was running when it came, which ends on time.
  await sleep(30);
  const counted = timeline.intervals.find((i) => i.counts.minor_faults > 0)!;
  assert.equal(counted.start_ns, last.start_ns + last.duration_ns);
  assert.ok(timeline.intervals.length > late.length + 1, "the clock ticks again");
  assertWhole(timeline, await end(), 2);
});

Deno.test("IntervalClock: idle to the trace's end, finish() records the intervals up to it", async () => {
  const { timeline, clock, end } = setUp(15);
  await sleep(100);
  assert.equal(clock.idle, true);
  const endNs = await end();
  assert.ok(timeline.intervals.length >= 6, `${timeline.intervals.length} intervals in 100 ms`);
  assertWhole(timeline, endNs, 1);
  // The fault read at the stop counts in the last interval, the one that ends with the trace.
  assert.equal(timeline.intervals.at(-1)!.counts.minor_faults, 1);
});

Deno.test("IntervalClock: never stops when someone watches each interval, or the capture cannot wake it", async () => {
  for (const [canWake, watch] of [[true, true], [false, false]]) {
    const { timeline, capture, clock, end, watched } = setUp(15, canWake, watch);
    await sleep(100);
    assert.equal(clock.idle, false);
    assert.ok(capture.drains >= 4, `${capture.drains} drains in 100 ms`);
    assert.equal(timeline.intervals.length, capture.drains);
    if (watch) assert.deepEqual(watched, timeline.intervals);
    assertWhole(timeline, await end(), 1);
  }
});

Deno.test("IntervalClock: an interval that brings events keeps it going", async () => {
  const { capture, clock, end, timeline } = setUp(30);
  let faults = 0;
  for (let i = 0; i < 20; i++) {
    capture.deliver();
    faults++;
    await sleep(5);
    assert.equal(clock.idle, false, `a fault every 5 ms: step ${i}`);
  }
  assertWhole(timeline, await end(), faults + 1);
  assert.ok(timeline.intervals.length >= 3);
  const timeline2 = new Timeline(new Aggregator());
  const drain = () => Promise.resolve();
  assert.throws(
    () =>
      new IntervalClock({ everyMs: 0.5, timeline: timeline2, capture: { drain }, now: () => 0 }),
    /every 0.5 ms; give 1 ms or more/,
  );
});
