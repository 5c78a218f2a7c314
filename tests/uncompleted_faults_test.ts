/**
 * Page faults that never complete (a SIGSEGV a handler catches: no minor or major fault
 * follows) are counted all the same. The ringbuf engine keeps each fault in the kernel until
 * it completes and writes the two as one record; a fault that does not complete is written at
 * the thread's next fault, or at its exit.
 */
import assert from "node:assert/strict";
import { reportOf, traceWithBothEngines } from "./_both_engines.ts";
import { probeTest, repoPath } from "./_capability.ts";
import { perfStat } from "./_kernel_counts.ts";

const CAUGHT = 300, ANON = 200;
const ARGV = [repoPath("build/segv_touch"), String(CAUGHT), String(ANON)];

probeTest(
  "Faults caught by a SIGSEGV handler are counted by both engines, the last one too",
  async () => {
    const both = await traceWithBothEngines(ARGV);
    const reports = [reportOf(both.bpftrace, "bpftrace"), reportOf(both.ringbuf, "ringbuf")];
    for (const r of reports) {
      const c = r.counts;
      assert.equal(r.lost, 0, r.engine);
      // Every fault but the caught ones completes as a minor or major fault.
      assert.equal(
        c.page_fault_user + c.page_fault_kernel - c.minor_faults - c.major_faults,
        CAUGHT,
        `${r.engine}: faults that did not complete`,
      );
      assert.equal(r.unpaired_faults, 0, r.engine);
      assert.equal(r.histograms.fault_latency_ns.count, c.minor_faults + c.major_faults, r.engine);
      assert.ok(c.minor_faults >= ANON, `${r.engine}: the workload's first touches`);
    }
    assert.deepEqual(reports[1]!.counts, reports[0]!.counts, "both engines, one run");
    assert.deepEqual(reports[1]!.fault_kinds, reports[0]!.fault_kinds);

    // The kernel's own counts, on another run of the same command, hold the same identity.
    const perf = await perfStat(ARGV, [
      "exceptions:page_fault_user",
      "exceptions:page_fault_kernel",
      "minor-faults",
      "major-faults",
    ]);
    const ringbuf = reports[1]!.counts;
    assert.ok(
      Math.abs(ringbuf.page_fault_user - perf["exceptions:page_fault_user"]!) <= 8,
      `page_fault_user ${ringbuf.page_fault_user} vs perf stat ${
        perf["exceptions:page_fault_user"]
      }`,
    );
    assert.equal(
      perf["exceptions:page_fault_user"]! + perf["exceptions:page_fault_kernel"]! -
        perf["minor-faults"]! - perf["major-faults"]!,
      CAUGHT,
      "perf stat: faults that did not complete",
    );
  },
);
