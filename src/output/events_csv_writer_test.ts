import assert from "node:assert/strict";
import { EVENTS_CSV_COLUMNS, EventsCsvWriter } from "./events_csv_writer.ts";
import { decodeErrorCode, type FaultlineEvent } from "../events/faultline_event.ts";
import { sleep } from "../common/timer.ts";

Deno.test("EventsCsvWriter streams one row per event, every column in its place", () => {
  const path = Deno.makeTempFileSync({ suffix: ".csv" });
  const writer = new EventsCsvWriter(path);
  writer.open();
  const events: FaultlineEvent[] = [
    {
      kind: "mmap",
      pid: 5,
      tid: 6,
      timestampNs: 100,
      addr: 0n,
      length: 8192,
      prot: 3,
      flags: 34,
      fd: -1,
      offset: 0,
      ret: 0x7f00deadb000n,
      latencyNs: 1500,
    },
    {
      kind: "munmap",
      pid: 5,
      tid: 6,
      timestampNs: 200,
      addr: 0x7f00deadb000n,
      length: 8192,
      ret: 0,
      latencyNs: 900,
    },
    {
      kind: "page_fault_kernel",
      pid: 5,
      tid: 6,
      timestampNs: 300,
      address: 0x55aa00n,
      ip: 0xffffffff8177539an,
      errorCode: 2,
      ...decodeErrorCode(2),
    },
    { kind: "minor_fault", pid: 5, tid: 6, timestampNs: 310, latencyNs: 10 },
    { kind: "major_fault", pid: 5, tid: 6, timestampNs: 320, latencyNs: null },
  ];
  // Enough rows to cross several 64 KiB flushes.
  for (let i = 0; i < 4000; i++) for (const e of events) writer.write(e);
  writer.close();
  assert.equal(writer.rows, 20000);
  const lines = Deno.readTextFileSync(path).trimEnd().split("\n");
  Deno.removeSync(path);
  assert.equal(lines.length, 20001);
  assert.equal(lines[0], EVENTS_CSV_COLUMNS.join(","));
  const rows = lines.slice(1, 6).map((l) => {
    const cells = l.split(",");
    assert.equal(cells.length, EVENTS_CSV_COLUMNS.length, l);
    return Object.fromEntries(EVENTS_CSV_COLUMNS.map((c, i) => [c, cells[i]]));
  });
  assert.equal(rows[0]!.kind, "mmap");
  assert.equal(rows[0]!.ret, "0x7f00deadb000");
  assert.equal(rows[0]!.length, "8192");
  assert.equal(rows[0]!.fd, "-1");
  assert.equal(rows[0]!.latency_ns, "1500");
  assert.equal(rows[1]!.addr, "0x7f00deadb000");
  assert.equal(rows[1]!.ret, "0");
  assert.equal(rows[2]!.ip, "0xffffffff8177539a");
  assert.equal(rows[2]!.access, "write");
  assert.equal(rows[2]!.mode, "kernel");
  assert.equal(rows[2]!.cause, "not_present");
  assert.equal(rows[3]!.latency_ns, "10");
  assert.equal(rows[4]!.kind, "major_fault");
  assert.equal(rows[4]!.latency_ns, "");
  assert.equal(lines[20000]!.split(",")[0], "major_fault");
});

Deno.test("A ring record's CSV row, made from the record, is its decoded event's row", async () => {
  const { EVENT_KINDS } = await import("../events/event_kinds.ts");
  const { FL_HEADER } = await import("../events/event_kind.ts");
  const { FL_SYSCALL } = await import("../events/syscall_record.ts");
  const { FL_FAULT } = await import("../events/page_fault_kind.ts");
  const { FL_DONE } = await import("../events/fault_done_kind.ts");
  const { csvRecordFormatter, csvRowFormatter } = await import("./events_csv_writer.ts");
  const record = (kind: number, fill: (v: DataView) => void) => {
    const v = new DataView(new ArrayBuffer(96));
    v.setBigUint64(FL_HEADER.ts_ns, 123456789012345n, true);
    v.setUint32(FL_HEADER.tid, 4321, true);
    v.setUint32(FL_HEADER.kind, kind, true);
    v.setUint32(FL_HEADER.pid, 4320, true);
    fill(v);
    return v;
  };
  const syscall = (kind: number, ret: bigint, fd = -1) =>
    record(kind, (v) => {
      v.setBigUint64(FL_SYSCALL.addr, 0x7f12345000n, true);
      v.setBigUint64(FL_SYSCALL.len, 1n << 33n, true);
      v.setBigInt64(FL_SYSCALL.ret, ret, true);
      v.setBigUint64(FL_SYSCALL.latency_ns, 987654n, true);
      v.setBigUint64(FL_SYSCALL.off, 1n << 40n, true);
      v.setUint32(FL_SYSCALL.prot, 7, true);
      v.setUint32(FL_SYSCALL.flags, 0x812, true);
      v.setInt32(FL_SYSCALL.fd, fd, true);
      v.setUint32(FL_SYSCALL.dev, 0x800001, true);
      v.setBigUint64(FL_SYSCALL.addr2, 1234n, true);
    });
  const fault = (kind: number, address: bigint, ip: bigint, errorCode: number) =>
    record(kind, (v) => {
      v.setBigUint64(FL_FAULT.address, address, true);
      v.setBigUint64(FL_FAULT.ip, ip, true);
      v.setBigUint64(FL_FAULT.error_code, BigInt(errorCode), true);
    });
  const records = [
    syscall(1, 0x7fffffffe000n, 3), // mmap of a file
    syscall(1, -12n), // mmap failing with ENOMEM
    syscall(1, 0x100000000n), // an address past 32 bits, low word 0
    syscall(2, 0n), // munmap
    syscall(2, -22n), // munmap failing with EINVAL
    fault(3, 0x7f0000001008n, 0x401000n, 6), // user write
    fault(4, 0xffff888100000000n, 0xffffffff81000010n, 2), // kernel, addresses past 2^63
    fault(3, 0n, 0n, 0x15), // a protection fault on an instruction fetch
    record(5, (v) => v.setBigUint64(FL_DONE.latency_ns, 1500n, true)),
    record(6, (v) => v.setBigUint64(FL_DONE.latency_ns, 0xffffffffffffffffn, true)), // unpaired
    syscall(7, 0x7f00000000n), // mremap: a kind formatted through its event
    syscall(8, 0n), // mprotect
  ];
  const fromRecord = csvRecordFormatter(EVENT_KINDS);
  const fromEvent = csvRowFormatter(EVENT_KINDS);
  for (const v of records) {
    const expected = fromEvent(EVENT_KINDS.decodeRecord(v, 0)!);
    assert.equal(fromRecord(v, 0), expected);
  }
  assert.equal(fromRecord(record(999, () => {}), 0), null, "a kind the table lacks");
  // The writer counts and writes them as it does events.
  const path = Deno.makeTempFileSync({ suffix: ".csv" });
  const writer = new EventsCsvWriter(path);
  writer.open();
  for (const v of records) assert.ok(writer.writeRecord(v, 0));
  assert.equal(writer.writeRecord(record(999, () => {}), 0), false);
  writer.close();
  const lines = Deno.readTextFileSync(path).trim().split("\n");
  assert.equal(writer.rows, records.length);
  assert.deepEqual(
    lines.slice(1),
    records.map((v) => fromEvent(EVENT_KINDS.decodeRecord(v, 0)!)),
  );
  Deno.removeSync(path);
});

Deno.test("Ring records of random contents make their decoded events' rows", async () => {
  // The record path writes hex and decimal digits itself: every width of address (high word
  // 0, leading zero nibbles, past 2^63), timestamps to 2^53 and every kind must match the
  // event path's String() and toString(16) exactly.
  const { EVENT_KINDS } = await import("../events/event_kinds.ts");
  const { FL_HEADER } = await import("../events/event_kind.ts");
  const { csvRecordFormatter, csvRowFormatter } = await import("./events_csv_writer.ts");
  const fromRecord = csvRecordFormatter(EVENT_KINDS);
  const fromEvent = csvRowFormatter(EVENT_KINDS);
  let seed = 99;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const word = () => {
    const r = random();
    if (r < 0.2) return 0;
    if (r < 0.3) return 0xffffffff;
    return Math.floor(random() * 2 ** (1 + Math.floor(random() * 32))) >>> 0;
  };
  const kinds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  let compared = 0;
  for (let i = 0; i < 5000; i++) {
    const v = new DataView(new ArrayBuffer(96));
    for (let at = 24; at < 96; at += 4) v.setUint32(at, word(), true);
    v.setBigUint64(FL_HEADER.ts_ns, BigInt(Math.floor(random() * 2 ** (1 + random() * 52))), true);
    v.setUint32(FL_HEADER.tid, word() >>> 1, true);
    v.setUint32(FL_HEADER.pid, word() >>> 1, true);
    v.setUint32(FL_HEADER.kind, kinds[i % kinds.length]!, true);
    v.setUint32(FL_HEADER.flags, 0, true);
    const event = EVENT_KINDS.decodeRecord(v, 0);
    if (event === null) continue;
    assert.equal(fromRecord(v, 0), fromEvent(event), `record ${i} (kind ${event.kind})`);
    compared++;
  }
  assert.ok(compared > 4000, `only ${compared} records compared`);
});

Deno.test("EventsCsvWriter writes a row within flushMs, again after a quiet spell, without close()", async () => {
  const path = Deno.makeTempFileSync({ suffix: ".csv" });
  const writer = new EventsCsvWriter(path, { flushMs: 20 });
  writer.open();
  const lines = () => Deno.readTextFileSync(path).trimEnd().split("\n").length;
  assert.equal(lines(), 1, "the header, at open");
  const row = (t: number) =>
    writer.write({ kind: "minor_fault", pid: 5, tid: 6, timestampNs: t, latencyNs: 10 });
  const until = async (n: number) => {
    for (let waited = 0; lines() < n && waited < 2000; waited += 5) await sleep(5);
    return lines();
  };
  row(1);
  assert.equal(lines(), 1, "a row waits: no write per row");
  assert.equal(await until(2), 2, "written within its flush time");
  await sleep(80); // quiet: nothing waits, nothing to write
  row(2);
  row(3);
  assert.equal(await until(4), 4, "rows after the quiet spell are written too");
  writer.close();
  Deno.removeSync(path);
});
