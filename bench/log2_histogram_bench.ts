/** Aggregation throughput: values folded into a Log2Histogram, and events into an Aggregator. */
import { Aggregator, type FaultlineEvent, Log2Histogram } from "../mod.ts";

const N = 1_000_000;
const values = new Float64Array(N);
let seed = 7;
for (let i = 0; i < N; i++) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  values[i] = Math.floor(Math.exp((seed / 2 ** 31) * Math.log(5_000_000)));
}

Deno.bench("Log2Histogram.add() x 1M latencies", { group: "aggregate", baseline: true }, () => {
  const h = new Log2Histogram("ns");
  for (let i = 0; i < N; i++) h.add(values[i]!);
});

const events: FaultlineEvent[] = Array.from({ length: N }, (_, i) => ({
  kind: "minor_fault",
  pid: 1,
  tid: 1,
  timestampNs: i,
  latencyNs: values[i]!,
}));

Deno.bench("Aggregator.add() x 1M fault events", { group: "aggregate" }, () => {
  const agg = new Aggregator();
  for (let i = 0; i < N; i++) agg.add(events[i]!);
});

Deno.bench("Log2Histogram.toReport() with percentiles", () => {
  const h = new Log2Histogram("ns");
  for (let i = 0; i < 10_000; i++) h.add(values[i]!);
  h.toReport();
});
