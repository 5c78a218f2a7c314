/**
 * mremap, mprotect, madvise, brk and msync, beside mmap and munmap: a workload calls each a
 * known number of times; faultline's counts equal strace -c's, under each engine, and the two
 * engines agree on one run traced by both at once.
 */
import assert from "node:assert/strict";
import { ENGINE_NAMES, type FaultlineEvent, makeEngine, trace } from "../mod.ts";
import { traceWithBothEngines } from "./_both_engines.ts";
import { probeTest, repoPath } from "./_capability.ts";
import { straceCounts } from "./_kernel_counts.ts";

const N = 200;
const ARGV = [repoPath("build/mm_calls"), String(N)];
const CALLS = ["mmap", "munmap", "mremap", "mprotect", "madvise", "brk", "msync"] as const;
const PAGE = 4096;

for (const name of ENGINE_NAMES) {
  probeTest(`${name}: every memory-mapping syscall's count equals strace -c's`, async () => {
    const seen: FaultlineEvent[] = [];
    const report = await trace({
      command: ARGV,
      engine: makeEngine(name),
      onEvent: (e) => {
        if (["mremap", "mprotect", "madvise", "brk", "msync"].includes(e.kind)) seen.push(e);
      },
    });
    const strace = await straceCounts(ARGV, CALLS);
    for (const call of CALLS) assert.equal(report.counts[call], strace[call], call);
    assert.ok(report.counts.mremap! >= N && report.counts.mprotect! >= 2 * N);
    assert.ok(
      report.counts.madvise! >= N && report.counts.msync! >= N && report.counts.brk! >= 2 * N,
    );
    const r = report as unknown as Record<string, number>;
    for (const call of ["mremap", "mprotect", "madvise", "msync"]) {
      assert.equal(r[`${call}_errors`], 0);
    }
    for (const call of ["mremap", "mprotect", "madvise", "brk", "msync"]) {
      assert.equal(report.histograms[`${call}_latency_ns`]!.count, report.counts[call], call);
    }
    // Their arguments, as the workload made them.
    const mremaps = seen.filter((e) => e.kind === "mremap");
    assert.equal(
      mremaps.filter((e) => e.length === 2 * PAGE && e.newLength === 4 * PAGE).length,
      N,
    );
    const madvise = seen.filter((e) => e.kind === "madvise");
    assert.equal(madvise.filter((e) => e.advice === 4 && e.length === 2 * PAGE).length, N); // MADV_DONTNEED
    const msync = seen.filter((e) => e.kind === "msync");
    assert.equal(msync.filter((e) => e.flags === 1).length, N); // MS_ASYNC
    const mprotect = seen.filter((e) => e.kind === "mprotect");
    // PROT_READ over two pages: the workload's N, and the loader's RELRO may be one more.
    const readOnly = mprotect.filter((e) => e.prot === 1 && e.length === 2 * PAGE).length;
    assert.ok(readOnly >= N && readOnly <= N + 2, `${readOnly}`);
    const brk = seen.filter((e) => e.kind === "brk");
    assert.ok(brk.every((e) => e.ret > 0n), "brk returns the break");
    assert.equal(report.lost, 0);
  });
}

probeTest("Both engines tracing one run at once agree on every syscall", async () => {
  const { bpftrace: bt, ringbuf: rb } = await traceWithBothEngines(ARGV);
  assert.equal(bt!.lost + rb!.lost, 0);
  for (const call of CALLS) assert.equal(rb!.counts[call], bt!.counts[call], call);
  assert.ok(rb!.counts.mremap! >= N);
});
