import assert from "node:assert/strict";
import { Aggregator } from "../aggregate/aggregator.ts";
import type { Report } from "../aggregate/report.ts";
import { reportToCsv } from "./report_csv.ts";

function sampleReport(): Report {
  const agg = new Aggregator();
  for (let i = 0; i < 50; i++) {
    agg.add({
      kind: "mmap",
      pid: 1,
      tid: 1,
      timestampNs: i,
      addr: 0n,
      length: 4096 * (i + 1),
      prot: 3,
      flags: 0x22,
      fd: -1,
      offset: 0,
      ret: 0x7f0000000000n,
      latencyNs: 700 + i * 97,
    });
    agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: i, latencyNs: 9000 + i * i });
  }
  return agg.report({
    engine: "bpftrace",
    target: { pid: 1, command: ["./w", "9"] },
    startedAt: new Date(1_700_000_000_000),
    durationNs: 123,
    stopReason: "target_exited",
    exitStatus: 0,
  });
}

Deno.test("reportToCsv() writes one histogram,low,high,count row per bucket and reads back", () => {
  const report = sampleReport();
  const lines = reportToCsv(report).trimEnd().split("\n");
  assert.equal(lines[0], "histogram,low,high,count");
  const rows = lines.slice(1).map((l) => l.split(","));
  for (const [name, h] of Object.entries(report.histograms)) {
    const back = rows.filter((r) => r[0] === name).map(([, low, high, count]) => ({
      low: Number(low),
      high: Number(high),
      count: Number(count),
    }));
    assert.deepEqual(back, h.buckets, name);
    assert.equal(back.reduce((s, b) => s + b.count, 0), h.count);
  }
  assert.equal(
    rows.length,
    Object.values(report.histograms).reduce((s, h) => s + h.buckets.length, 0),
  );
});

Deno.test("The JSON report round-trips and has the versioned shape", () => {
  const report = sampleReport();
  const back = JSON.parse(JSON.stringify(report));
  assert.deepEqual(back, report);
  assert.equal(back.version, 1);
  // The contract's keys first, in their order; kinds added since come after them.
  assert.deepEqual(Object.keys(back.counts), [
    "mmap",
    "munmap",
    "page_fault_user",
    "page_fault_kernel",
    "minor_faults",
    "major_faults",
    "mremap",
    "mprotect",
    "madvise",
    "brk",
    "msync",
    "process_forks",
    "process_execs",
    "process_exits",
  ]);
  assert.deepEqual(Object.keys(back.histograms), [
    "mmap_latency_ns",
    "munmap_latency_ns",
    "mmap_size_bytes",
    "fault_latency_ns",
    "mremap_latency_ns",
    "mprotect_latency_ns",
    "madvise_latency_ns",
    "brk_latency_ns",
    "msync_latency_ns",
  ]);
  for (
    const key of ["unit", "count", "sum", "min", "max", "p50", "p90", "p99", "p999", "buckets"]
  ) {
    assert.ok(key in back.histograms.mmap_latency_ns, key);
  }
  assert.deepEqual(back.target, { pid: 1, command: ["./w", "9"] });
  assert.equal(typeof back.duration_ns, "number");
  assert.equal(back.lost, 0);
});
