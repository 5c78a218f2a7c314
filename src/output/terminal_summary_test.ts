import assert from "node:assert/strict";
import { Log2Histogram } from "../aggregate/log2_histogram.ts";
import { bucketLabel, formatBuckets, formatHistogram, formatSummary } from "./terminal_summary.ts";
import { Aggregator } from "../aggregate/aggregator.ts";

const golden = JSON.parse(
  Deno.readTextFileSync(new URL("../../tests/fixtures/bpftrace_hist_golden.json", import.meta.url)),
) as { mix: [number, number][]; output: string };

Deno.test("formatBuckets() draws a histogram exactly as bpftrace draws the same values", () => {
  const h = new Log2Histogram("ns");
  for (const [value, times] of golden.mix) for (let i = 0; i < times; i++) h.add(value);
  const start = golden.output.indexOf("@mix: \n") + "@mix: \n".length;
  const end = golden.output.indexOf("\n\n", start);
  const bpftrace = golden.output.slice(start, end + 1);
  assert.equal(formatBuckets(h.buckets()), bpftrace);
});

Deno.test("bucketLabel() names buckets the way bpftrace does", () => {
  assert.equal(bucketLabel({ low: 0, high: 1, count: 0 }), "[0]");
  assert.equal(bucketLabel({ low: 1, high: 2, count: 0 }), "[1]");
  assert.equal(bucketLabel({ low: 2, high: 4, count: 0 }), "[2, 4)");
  assert.equal(bucketLabel({ low: 512, high: 1024, count: 0 }), "[512, 1K)");
  assert.equal(bucketLabel({ low: 2 ** 20, high: 2 ** 21, count: 0 }), "[1M, 2M)");
  assert.equal(bucketLabel({ low: 2 ** 41, high: 2 ** 42, count: 0 }), "[2T, 4T)");
});

Deno.test("formatHistogram() heads the bars with count, min, max and percentiles", () => {
  const h = new Log2Histogram("ns");
  for (const v of [1500, 2500, 2_000_000]) h.add(v);
  const text = formatHistogram("mmap_latency_ns", h.toReport());
  const [head] = text.split("\n");
  assert.equal(
    head,
    // p50 is 2500 reported as 2511, the top of its 1/128-wide percentile bucket [2496, 2512).
    "@mmap_latency_ns: count 3, min 1.50us, max 2.00ms, avg 668.00us, p50 2.51us, " +
      "p90 2.00ms, p99 2.00ms, p99.9 2.00ms",
  );
  assert.match(text, /^\[1K, 2K\) +1 \|/m);
  assert.equal(formatHistogram("x", new Log2Histogram("ns").toReport()), "@x: no events\n");
});

Deno.test("formatSummary() shouts lost events", () => {
  const agg = new Aggregator();
  agg.addLost(42);
  const report = agg.report({
    engine: "bpftrace",
    target: { pid: 7, command: ["./w", "9"] },
    startedAt: new Date(0),
    durationNs: 1_500_000_000,
    stopReason: "target_exited",
    exitStatus: 0,
  });
  const text = formatSummary(report);
  assert.match(text, /^faultline: traced \.\/w 9 \(pid 7\) for 1\.500s with bpftrace/);
  assert.match(text, /LOST 42 events/);
});
