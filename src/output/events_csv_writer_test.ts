import assert from "node:assert/strict";
import { EVENTS_CSV_COLUMNS, EventsCsvWriter } from "./events_csv_writer.ts";
import { decodeErrorCode, type FaultlineEvent } from "../events/faultline_event.ts";

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
