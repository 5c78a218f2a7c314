/**
 * Both engines see the same events: traced at once on one run they agree exactly; traced in
 * turn on two runs of one command they agree on everything deterministic.
 */
import assert from "node:assert/strict";
import { BpftraceEngine, RingbufEngine, trace } from "../mod.ts";
import { reportOf, traceWithBothEngines } from "./_both_engines.ts";
import { probeTest, repoPath } from "./_capability.ts";

const ARGV = [repoPath("build/mmap_touch"), "300", "16", String(0x5a5000), "0", "2"];

probeTest("One run traced by both engines at once gives identical counts and buckets", async () => {
  const both = await traceWithBothEngines(ARGV);
  const [bt, rb] = [reportOf(both.bpftrace, "bpftrace"), reportOf(both.ringbuf, "ringbuf")];
  assert.equal(bt!.lost, 0);
  assert.equal(rb!.lost, 0);
  assert.deepEqual(rb!.counts, bt!.counts);
  assert.deepEqual(rb!.fault_kinds, bt!.fault_kinds);
  assert.equal(rb!.unpaired_faults, bt!.unpaired_faults);
  assert.deepEqual(rb!.histograms.mmap_size_bytes, bt!.histograms.mmap_size_bytes);
  for (const h of ["mmap_latency_ns", "munmap_latency_ns", "fault_latency_ns"] as const) {
    assert.equal(rb!.histograms[h].count, bt!.histograms[h].count, h);
  }
  assert.ok(bt!.counts.minor_faults >= 300 * 16 * 2);
});

probeTest(
  "One command traced by each engine in turn gives the same counts and size buckets",
  async () => {
    const bt = await trace({ command: ARGV, engine: new BpftraceEngine() });
    const rb = await trace({ command: ARGV, engine: new RingbufEngine() });
    assert.equal(bt.engine, "bpftrace");
    assert.equal(rb.engine, "ringbuf");
    assert.equal(rb.counts.mmap, bt.counts.mmap);
    assert.equal(rb.counts.munmap, bt.counts.munmap);
    assert.deepEqual(rb.histograms.mmap_size_bytes.buckets, bt.histograms.mmap_size_bytes.buckets);
    // Two runs: the kernel's retried faults, counted as major, vary between them.
    assert.ok(Math.abs(rb.counts.major_faults - bt.counts.major_faults) <= 2);
    // Two runs of a command differ by a few faults (ASLR); the engines add none.
    const diff = rb.counts.minor_faults - bt.counts.minor_faults;
    assert.ok(
      Math.abs(diff) <= 8,
      `minor faults ${rb.counts.minor_faults} vs ${bt.counts.minor_faults}`,
    );
  },
);
