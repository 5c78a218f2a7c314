import assert from "node:assert/strict";
import { Aggregator } from "./aggregator.ts";
import { bucketPercentile, mergeIntervals, Timeline } from "./timeline.ts";
import { Log2Histogram } from "./log2_histogram.ts";

function fault(agg: Aggregator, latencyNs: number, errorCode = 6): void {
  agg.add({
    kind: "page_fault_user",
    pid: 1,
    tid: 1,
    timestampNs: 0,
    address: 1n,
    ip: 1n,
    errorCode,
    access: "write",
    mode: "user",
    cause: "not_present",
  });
  agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 0, latencyNs });
}

Deno.test("Timeline intervals add up to the totals, tallies and lost included", () => {
  const agg = new Aggregator();
  const timeline = new Timeline(agg);
  let seed = 3;
  for (let t = 1; t <= 50; t++) {
    for (let i = 0; i < t * 7; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      fault(agg, 500 + (seed % 100000), seed % 3 === 0 ? 4 : 6);
    }
    agg.addLost(t % 5);
    timeline.tick(t * 1e8);
  }
  const report = agg.report({
    engine: "test",
    target: { pid: 1, command: null },
    startedAt: new Date(0),
    durationNs: 5e9,
    stopReason: "duration",
    exitStatus: null,
  });
  const sum = (f: (i: (typeof timeline.intervals)[number]) => number) =>
    timeline.intervals.reduce((s, i) => s + f(i), 0);
  assert.equal(timeline.intervals.length, 50);
  assert.equal(sum((i) => i.counts.minor_faults), report.counts.minor_faults);
  assert.equal(sum((i) => i.lost), report.lost);
  assert.equal(
    sum((i) => (i.tallies.fault_kinds as Record<string, number>).read!),
    report.fault_kinds.read,
  );
  assert.equal(
    sum((i) => i.latency.fault_latency_ns!.count),
    report.histograms.fault_latency_ns.count,
  );
  assert.equal(timeline.intervals[0]!.start_ns, 0);
  assert.equal(timeline.intervals[49]!.start_ns + timeline.intervals[49]!.duration_ns, 5e9);
  // Each interval's percentiles are its own, not the run's.
  const i7 = timeline.intervals[6]!.latency.fault_latency_ns!;
  assert.ok(i7.p50 >= 500 && i7.p99 <= 100500 * (1 + 1 / 128));
});

Deno.test("Timeline stays within its bound on a long run, merging neighbours pairwise", () => {
  const agg = new Aggregator();
  const timeline = new Timeline(agg, { maxIntervals: 64 });
  for (let t = 1; t <= 20_000; t++) {
    if (t % 3 === 0) fault(agg, 1000 + (t % 5000));
    timeline.tick(t * 1e9);
    assert.ok(timeline.intervals.length <= 64, `${timeline.intervals.length} after ${t} ticks`);
  }
  const intervals = timeline.intervals;
  assert.ok(intervals.length >= 32, "merging halves, it does not empty");
  assert.equal(
    intervals.reduce((s, i) => s + i.counts.minor_faults, 0),
    agg.counts.minor_faults,
  );
  assert.equal(intervals[0]!.start_ns, 0);
  for (let k = 1; k < intervals.length; k++) {
    const prev = intervals[k - 1]!;
    assert.equal(intervals[k]!.start_ns, prev.start_ns + prev.duration_ns, "contiguous");
  }
  assert.equal(intervals.at(-1)!.start_ns + intervals.at(-1)!.duration_ns, 20_000e9);
});

Deno.test("mergeIntervals() sums counts and slots and takes percentiles from the slots", () => {
  const agg = new Aggregator();
  const timeline = new Timeline(agg);
  for (let i = 0; i < 99; i++) fault(agg, 1000);
  timeline.tick(1e9);
  fault(agg, 70000);
  timeline.tick(2e9);
  const [a, b] = timeline.intervals;
  const m = mergeIntervals(a!, b!);
  assert.equal(m.start_ns, 0);
  assert.equal(m.duration_ns, 2e9);
  assert.equal(m.counts.minor_faults, 100);
  assert.equal(m.latency.fault_latency_ns!.count, 100);
  const p50 = m.latency.fault_latency_ns!.p50;
  assert.ok(p50 >= 512 && p50 < 2048, `p50 ${p50} within 1000's slot`);
  assert.equal(bucketPercentile([{ low: 1024, high: 2048, count: 4 }], 4, 1), 2047);
  assert.equal(bucketPercentile([], 0, 0.5), 0);
});

Deno.test("Timeline.tick() on a quiet interval copies no histogram and reports them empty", () => {
  const agg = new Aggregator();
  const timeline = new Timeline(agg);
  agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 });
  const first = timeline.tick(1e9);
  assert.equal(first.histograms.fault_latency_ns!.count, 1);
  const before = agg.snapshot();
  const quiet = timeline.tick(2e9);
  assert.deepEqual(quiet.histograms.fault_latency_ns, new Log2Histogram("ns").toReport());
  assert.equal(
    agg.snapshot(before).histograms.get("fault_latency_ns"),
    before.histograms.get("fault_latency_ns"),
    "shared",
  );
  agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 2, latencyNs: 900 });
  assert.notEqual(
    agg.snapshot(before).histograms.get("fault_latency_ns"),
    before.histograms.get("fault_latency_ns"),
  );
  assert.equal(timeline.tick(3e9).histograms.fault_latency_ns!.max, 900);
});

Deno.test("Aggregator.snapshot() is the earlier one until anything at all changes", () => {
  const agg = new Aggregator();
  const timeline = new Timeline(agg);
  agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 });
  const before = agg.snapshot();
  assert.equal(agg.snapshot(before), before, "nothing since: the same snapshot");
  // Each change alone makes a new one: a count, a histogram, a tally, events lost.
  const changes: [string, () => void][] = [
    [
      "a fault",
      () => agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 2, latencyNs: 1 }),
    ],
    ["a histogram alone", () => agg.histogram("mmap_size_bytes").add(4096)],
    ["a tally alone", () => agg.tally("mmap_errors").value++],
    ["lost events", () => agg.addLost(3)],
  ];
  for (const [what, change] of changes) {
    const was = agg.snapshot();
    change();
    const now = agg.snapshot(was);
    assert.notEqual(now, was, what);
    assert.equal(agg.snapshot(now), now, `${what}, then nothing`);
  }
  // The timeline records an unchanged interval as empty, and the next change where it came.
  timeline.tick(1e9);
  const quiet = timeline.tick(2e9);
  assert.equal(quiet.interval.counts.minor_faults, 0);
  assert.equal(quiet.interval.lost, 0);
  agg.addLost(2);
  assert.equal(timeline.tick(3e9).interval.lost, 2);
});
