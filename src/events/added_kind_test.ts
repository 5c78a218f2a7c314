/**
 * Adding a kind is one definition: a kind declared only here is decoded from its ring record,
 * parsed from its bpftrace line, folded into the aggregation (both ways) and written to the
 * events CSV, with no other module edited.
 */
import assert from "node:assert/strict";
import { Aggregator } from "../aggregate/aggregator.ts";
import { parseBpftraceLine } from "../capture/bpftrace/bpftrace_line_parser.ts";
import { EventsCsvWriter } from "../output/events_csv_writer.ts";
import {
  type EventKindDefinition,
  hexCell,
  readU64,
  recordPid,
  recordTid,
  recordTimestamp,
} from "./event_kind.ts";
import { EVENT_KINDS } from "./event_kinds.ts";
import type { EventBase } from "./faultline_event.ts";

/** A made-up syscall, `frob(addr, pages)`, with its own record (id 42) and line (tag Z). */
interface FrobEvent extends EventBase {
  readonly kind: "frob";
  readonly addr: bigint;
  readonly pages: number;
  readonly latencyNs: number;
}

const FL_FROB = { addr: 24, pages: 32, latency_ns: 40, size: 48 } as const;

const frobKind: EventKindDefinition<FrobEvent> = {
  name: "frob",
  counts: { frob: "frobs" },
  tallies: [{ path: "frob_pages", order: 99 }],
  histograms: [{ name: "frob_latency_ns", unit: "ns", order: 99 }],
  csvColumns: ["latency_ns", "addr", "pages"],
  csvCells: (e) => [e.latencyNs, hexCell(e.addr), e.pages],
  record: {
    struct: "fl_frob",
    layout: FL_FROB,
    ids: { frob: 42 },
    decode: (view, at) => ({
      kind: "frob",
      pid: recordPid(view, at),
      tid: recordTid(view, at),
      timestampNs: recordTimestamp(view, at),
      addr: view.getBigUint64(at + FL_FROB.addr, true),
      pages: readU64(view, at + FL_FROB.pages),
      latencyNs: readU64(view, at + FL_FROB.latency_ns),
    }),
  },
  line: {
    tags: { Z: "frob" },
    fields: 6,
    parse: (f, _kind, pid) => ({
      kind: "frob",
      pid,
      tid: Number(f[1]),
      timestampNs: Number(f[2]),
      latencyNs: Number(f[3]),
      addr: BigInt(f[4]!),
      pages: Number(f[5]),
    }),
  },
  bind(store) {
    const count = store.count("frobs");
    const pages = store.tally("frob_pages");
    const latency = store.histogram("frob_latency_ns");
    const fold = (n: number, latencyNs: number) => {
      count.value++;
      pages.value += n;
      latency.add(latencyNs);
    };
    return {
      add: (e) => fold(e.pages, e.latencyNs),
      fold: (view, at) =>
        fold(readU64(view, at + FL_FROB.pages), readU64(view, at + FL_FROB.latency_ns)),
    };
  },
};

const CONTEXT = {
  engine: "test",
  target: { pid: 9, command: null },
  startedAt: new Date(0),
  durationNs: 0,
  stopReason: "target_exited",
  exitStatus: null,
};

Deno.test("A kind declared in one definition is decoded, parsed, folded and written to CSV", () => {
  const kinds = EVENT_KINDS.with(frobKind);
  const view = new DataView(new ArrayBuffer(FL_FROB.size));
  view.setBigUint64(0, 5000n, true);
  view.setUint32(8, 11, true);
  view.setUint32(12, 42, true);
  view.setUint32(16, 9, true);
  view.setBigUint64(FL_FROB.addr, 0x7f0000001000n, true);
  view.setBigUint64(FL_FROB.pages, 3n, true);
  view.setBigUint64(FL_FROB.latency_ns, 1500n, true);

  const decoded = kinds.decodeRecord(view, 0);
  assert.deepEqual(decoded, {
    kind: "frob",
    pid: 9,
    tid: 11,
    timestampNs: 5000,
    addr: 0x7f0000001000n,
    pages: 3,
    latencyNs: 1500,
  });
  assert.equal(EVENT_KINDS.decodeRecord(view, 0), null, "unknown to the stock table");
  const parsed = parseBpftraceLine("Z 9 11 5000 1500 139637976731648 3", kinds);
  assert.deepEqual(parsed, { type: "event", event: decoded });
  assert.equal(parseBpftraceLine("Z 9 11 5000 1500 139637976731648 3").type, "bad");

  const viaEvents = new Aggregator(kinds);
  viaEvents.add(decoded!);
  viaEvents.add({ kind: "minor_fault", pid: 9, tid: 11, timestampNs: 6000, latencyNs: 700 });
  const viaFold = new Aggregator(kinds);
  assert.ok(kinds.recordFolder(viaFold)(view, 0));
  viaFold.add({ kind: "minor_fault", pid: 9, tid: 11, timestampNs: 6000, latencyNs: 700 });
  const report = viaEvents.report(CONTEXT);
  assert.deepEqual(viaFold.report(CONTEXT), report);
  assert.equal(report.counts.frobs, 1);
  assert.equal(report.counts.minor_faults, 1, "the stock kinds still fold");
  assert.equal((report as unknown as Record<string, unknown>).frob_pages, 3);
  assert.equal(report.histograms.frob_latency_ns!.sum, 1500);
  assert.deepEqual(Object.keys(report.histograms).at(-1), "frob_latency_ns");

  const path = Deno.makeTempFileSync({ suffix: ".csv" });
  const writer = new EventsCsvWriter(path, { kinds });
  writer.open();
  writer.write(decoded!);
  writer.write({ kind: "minor_fault", pid: 9, tid: 11, timestampNs: 6000, latencyNs: 700 });
  writer.close();
  const [header, frob, minor] = Deno.readTextFileSync(path).trimEnd().split("\n");
  Deno.removeSync(path);
  const columns = header!.split(",");
  assert.deepEqual(columns, [...EVENT_KINDS.csvColumns, "pages"], "its new column appended");
  const cell = (row: string, column: string) => row.split(",")[columns.indexOf(column)];
  assert.equal(frob!.split(",").length, columns.length);
  assert.equal(cell(frob!, "kind"), "frob");
  assert.equal(cell(frob!, "latency_ns"), "1500", "a shared column");
  assert.equal(cell(frob!, "addr"), "0x7f0000001000");
  assert.equal(cell(frob!, "pages"), "3");
  assert.equal(cell(frob!, "ret"), "");
  assert.equal(minor!.split(",").length, columns.length, "stock rows gain the empty column");
  assert.equal(cell(minor!, "pages"), "");
});

Deno.test("A definition that claims a taken record id, tag or count key is refused", () => {
  assert.throws(
    () => EVENT_KINDS.with({ ...frobKind, record: { ...frobKind.record!, ids: { frob: 1 } } }),
    /Cannot add event kind definition "frob": record id 1 is taken/,
  );
  assert.throws(
    () => EVENT_KINDS.with({ ...frobKind, line: { ...frobKind.line!, tags: { m: "frob" } } }),
    /line tag m is taken/,
  );
  assert.throws(
    () => EVENT_KINDS.with({ ...frobKind, counts: { frob: "mmap" } }),
    /count key mmap is taken/,
  );
});
