import assert from "node:assert/strict";
import { Aggregator } from "./aggregator.ts";
import { decodeErrorCode, type FaultlineEvent } from "../events/faultline_event.ts";
import { log2Slot } from "./log2_histogram.ts";

const base = { pid: 10, tid: 11, timestampNs: 1 };

function events(): FaultlineEvent[] {
  const out: FaultlineEvent[] = [];
  for (let i = 0; i < 3; i++) {
    out.push({
      ...base,
      kind: "mmap",
      addr: 0n,
      length: 0x5a5000,
      prot: 3,
      flags: 0x22,
      fd: -1,
      offset: 0,
      ret: 0x7f0000000000n,
      latencyNs: 1000 + i,
    });
  }
  out.push({
    ...base,
    kind: "mmap",
    addr: 0n,
    length: 0,
    prot: 3,
    flags: 0x22,
    fd: -1,
    offset: 0,
    ret: -22n,
    latencyNs: 500,
  });
  out.push({ ...base, kind: "munmap", addr: 1n, length: 4096, ret: 0, latencyNs: 2000 });
  out.push({ ...base, kind: "munmap", addr: 1n, length: 4096, ret: -22, latencyNs: 100 });
  for (const code of [6, 6, 4, 0x14, 7]) {
    out.push({
      ...base,
      kind: "page_fault_user",
      address: 1n,
      ip: 2n,
      errorCode: code,
      ...decodeErrorCode(code),
    });
  }
  out.push({
    ...base,
    kind: "page_fault_kernel",
    address: 1n,
    ip: 0xffffffff81000000n,
    errorCode: 2,
    ...decodeErrorCode(2),
  });
  for (const latencyNs of [9000, 12000, 15000, 20000, 31000]) {
    out.push({ ...base, kind: "minor_fault", latencyNs });
  }
  out.push({ ...base, kind: "minor_fault", latencyNs: null });
  out.push({ ...base, kind: "major_fault", latencyNs: 2_000_000 });
  return out;
}

Deno.test("Aggregator counts every kind of event and folds latencies and sizes", () => {
  const agg = new Aggregator();
  for (const e of events()) agg.add(e);
  agg.addLost(3);
  const r = agg.report({
    engine: "bpftrace",
    target: { pid: 10, command: null },
    startedAt: new Date(0),
    durationNs: 5,
    stopReason: "duration",
    exitStatus: null,
  });
  assert.deepEqual(r.counts, {
    mmap: 4,
    munmap: 2,
    page_fault_user: 5,
    page_fault_kernel: 1,
    minor_faults: 6,
    major_faults: 1,
    mremap: 0,
    mprotect: 0,
    madvise: 0,
    brk: 0,
    msync: 0,
    process_forks: 0,
    process_execs: 0,
    process_exits: 0,
  });
  assert.deepEqual(r.fault_kinds, { read: 1, write: 4, exec: 1, not_present: 5, protection: 1 });
  assert.equal(r.lost, 3);
  assert.equal(r.unpaired_faults, 1);
  assert.equal(r.mmap_errors, 1);
  assert.equal(r.munmap_errors, 1);
  const h = r.histograms;
  assert.equal(h.mmap_latency_ns.count, 4);
  assert.equal(h.mmap_latency_ns.sum, 1000 + 1001 + 1002 + 500);
  assert.equal(h.mmap_size_bytes.count, 4);
  assert.equal(h.mmap_size_bytes.max, 0x5a5000);
  const sizeSlot = h.mmap_size_bytes.buckets.find((b) => b.low === 2 ** (log2Slot(0x5a5000) - 2));
  assert.equal(sizeSlot?.count, 3);
  assert.equal(h.munmap_latency_ns.count, 2);
  assert.equal(h.fault_latency_ns.count, 6, "the unpaired fault has no latency");
  assert.equal(h.fault_latency_ns.max, 2_000_000);
  const p50 = h.fault_latency_ns.p50;
  assert.ok(p50 >= 15000 && p50 <= 15000 * (1 + 1 / 128), `p50 ${p50} is the median, 15000`);
  assert.equal(r.version, 1);
  assert.equal(r.started_at, "1970-01-01T00:00:00.000Z");
});

Deno.test("Aggregator.recordTap() fills the tables from ring records exactly as events do", async () => {
  const { FL_FOLLOWED, FL_HEADER } = await import("../events/event_kind.ts");
  const { FL_SYSCALL } = await import("../events/syscall_record.ts");
  const { FL_FAULT } = await import("../events/page_fault_kind.ts");
  const { FL_DONE } = await import("../events/fault_done_kind.ts");
  const { FL_TASK } = await import("../events/process_kinds.ts");
  const { MappingTable } = await import("./mapping_table.ts");
  const { ProcessTable } = await import("./process_table.ts");
  const { EVENT_KINDS } = await import("../events/event_kinds.ts");
  const records: DataView[] = [];
  const record = (
    kind: number,
    pid: number,
    tid: number,
    ts: number,
    fill: (v: DataView) => void,
    into?: { view: DataView; at: number },
  ) => {
    // Alone in its ring record, or at `into.at` of another's (a fault's completion).
    const v = into === undefined ? new DataView(new ArrayBuffer(96)) : new DataView(
      into.view.buffer,
      into.at,
    );
    v.setBigUint64(FL_HEADER.ts_ns, BigInt(ts), true);
    v.setUint32(FL_HEADER.tid, tid, true);
    v.setUint32(FL_HEADER.kind, kind, true);
    v.setUint32(FL_HEADER.pid, pid, true);
    fill(v);
    if (into === undefined) records.push(v);
  };
  const fault = (
    pid: number,
    tid: number,
    ts: number,
    address: bigint,
    errorCode: number,
    followed = false,
  ) => {
    record(3, pid, tid, ts, (v) => {
      v.setBigUint64(FL_FAULT.address, address, true);
      v.setBigUint64(FL_FAULT.error_code, BigInt(errorCode), true);
      // Written with its completion in one ring record, as the ringbuf probes write faults.
      if (followed) v.setUint32(FL_HEADER.flags, FL_FOLLOWED, true);
    });
    const into = followed ? { view: records[records.length - 1]!, at: FL_FAULT.size } : undefined;
    record(5, pid, tid, ts + 700, (v) => v.setBigUint64(FL_DONE.latency_ns, 700n, true), into);
  };
  record(1, 10, 10, 100, (v) => { // mmap: 4 pages anonymous at 0x7f0000000000
    v.setBigUint64(FL_SYSCALL.len, 16384n, true);
    v.setBigInt64(FL_SYSCALL.ret, 0x7f0000000000n, true);
    v.setUint32(FL_SYSCALL.prot, 3, true);
    v.setUint32(FL_SYSCALL.flags, 0x22, true);
    v.setInt32(FL_SYSCALL.fd, -1, true);
  });
  fault(10, 10, 1000, 0x7f0000000010n, 6);
  fault(10, 11, 2000, 0x7f0000001010n, 4);
  record(12, 10, 10, 3000, (v) => { // fork of 12
    v.setUint32(FL_TASK.child, 12, true);
    new Uint8Array(v.buffer).set(new TextEncoder().encode("w"), FL_TASK.comm);
  });
  fault(12, 12, 4000, 0x7f0000002010n, 6);
  fault(12, 12, 5000, 0xffffffff81000000n, 2);
  record(14, 12, 12, 6000, (v) => v.setInt32(FL_TASK.exit_code, 256, true));
  record(5, 10, 10, 7000, (v) => v.setBigUint64(FL_DONE.latency_ns, 0xffffffffffffffffn, true));
  // Process 20: a file mmap (the probes read its inode and device), a failed mmap, a munmap
  // of one page of two, an mprotect (the table does not use it), and faults in what is left.
  record(1, 20, 20, 8000, (v) => {
    v.setBigUint64(FL_SYSCALL.len, 8192n, true);
    v.setBigInt64(FL_SYSCALL.ret, 0x7f0000100000n, true);
    v.setUint32(FL_SYSCALL.prot, 1, true);
    v.setUint32(FL_SYSCALL.flags, 0x01, true);
    v.setInt32(FL_SYSCALL.fd, 3, true);
    v.setBigUint64(FL_SYSCALL.off, 4096n, true);
    v.setBigUint64(FL_SYSCALL.addr2, 77n, true);
    v.setUint32(FL_SYSCALL.dev, 0x800001, true);
  });
  record(1, 20, 20, 8100, (v) => {
    v.setBigUint64(FL_SYSCALL.len, 4096n, true);
    v.setBigInt64(FL_SYSCALL.ret, -12n, true);
    v.setUint32(FL_SYSCALL.flags, 0x22, true);
    v.setInt32(FL_SYSCALL.fd, -1, true);
  });
  record(2, 20, 20, 8200, (v) => {
    v.setBigUint64(FL_SYSCALL.addr, 0x7f0000100000n, true);
    v.setBigUint64(FL_SYSCALL.len, 4096n, true);
  });
  record(8, 20, 20, 8300, (v) => {
    v.setBigUint64(FL_SYSCALL.addr, 0x7f0000101000n, true);
    v.setBigUint64(FL_SYSCALL.len, 4096n, true);
  });
  fault(20, 20, 9000, 0x7f0000101010n, 4, true);
  fault(20, 20, 9500, 0x7f0000100010n, 4, true);

  const make = () =>
    new Aggregator(EVENT_KINDS, {
      processes: new ProcessTable({ describe: () => ({ parent: 1, command: "w" }) }),
      mappings: new MappingTable({
        source: {
          snapshot: () => [],
          fileAt: (_pid, _start, _end, file) =>
            file ? { path: `/f/${file.fd}:${file.inode}:${file.device}`, deleted: false } : null,
        },
      }),
    });
  const viaEvents = make();
  const viaRecords = make();
  // The tap sees each record of a ring record, as the ringbuf engine gives them.
  const fold = EVENT_KINDS.recordFolder(viaRecords, viaRecords.recordTap()!);
  for (const v of records) {
    assert.ok(EVENT_KINDS.decodeRecords(v, 0, (e) => viaEvents.add(e)));
    assert.ok(fold(v, 0));
  }
  const context = {
    engine: "ringbuf",
    target: { pid: 10, command: null },
    startedAt: new Date(0),
    durationNs: 1,
    stopReason: "duration",
    exitStatus: null,
  };
  const a = viaEvents.report(context);
  const b = viaRecords.report(context);
  assert.deepEqual(b, a);
  assert.deepEqual(a.processes!.map((r) => [r.pid, r.parent, r.faults, r.exit_status]), [
    [10, 1, 3, null],
    [20, 1, 2, null],
    [12, 10, 2, 1],
  ]);
  assert.deepEqual(
    a.mappings!.map((r) => [r.pid, r.path, r.faults, r.write, r.user]),
    [
      [10, "[anon]", 2, 1, 2],
      [10, "[unknown]", 1, 0, 0],
      [12, "[kernel]", 1, 1, 1],
      [12, "[anon]", 1, 1, 1],
      [20, "[unknown]", 1, 0, 1],
      [20, "/f/3:77:8388609", 1, 0, 1],
    ],
  );
});
