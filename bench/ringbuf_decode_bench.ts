/**
 * The ringbuf engine's per-record work, without the kernel: records laid out as the ring
 * holds them (8-byte header, then the struct), decoded into events and aggregated.
 * Goal (issue 3): 10 M records/s or more. Records/s = 1M / the time per iteration.
 */
import { Aggregator, EVENT_KINDS, type MappingSource, MappingTable, ProcessTable } from "../mod.ts";
import { FL_HEADER } from "../src/events/event_kind.ts";
import { FL_DONE } from "../src/events/fault_done_kind.ts";
import { FL_FAULT } from "../src/events/page_fault_kind.ts";
import { FL_SYSCALL } from "../src/events/syscall_record.ts";
import { EventsCsvWriter } from "../src/output/events_csv_writer.ts";

const LAYOUT = { fl_syscall: FL_SYSCALL, fl_fault: FL_FAULT, fl_done: FL_DONE };
/** Decodes the record at `at` as process `pid`'s (written into its header first). */
const decodeRecord = (view: DataView, at: number, pid: number) => {
  view.setUint32(at + FL_HEADER.pid, pid, true);
  return EVENT_KINDS.decodeRecord(view, at);
};

const N = 1_000_000;
const sizes = {
  fault: LAYOUT.fl_fault.size,
  done: LAYOUT.fl_done.size,
  sys: LAYOUT.fl_syscall.size,
};
/** A page-fault storm: per fault a fault record and a done record; an mmap and munmap per 64. */
function layout(): { view: DataView; offsets: Uint32Array } {
  const offsets = new Uint32Array(N);
  let bytes = 0;
  const kinds = new Uint8Array(N);
  for (let i = 0; i < N; i++) {
    kinds[i] = i % 64 === 0 ? 1 : i % 64 === 63 ? 2 : i % 2 === 1 ? 3 : 5;
    const size = kinds[i]! <= 2 ? sizes.sys : kinds[i] === 3 ? sizes.fault : sizes.done;
    offsets[i] = bytes + 8;
    bytes += (size + 8 + 7) & ~7;
  }
  const view = new DataView(new ArrayBuffer(bytes));
  for (let i = 0; i < N; i++) {
    const at = offsets[i]!;
    view.setBigUint64(at, BigInt(1_000_000_000 + i * 100), true);
    view.setUint32(at + 8, 4242, true);
    view.setUint32(at + 12, kinds[i]!, true);
    if (kinds[i]! <= 2) {
      view.setBigUint64(at + LAYOUT.fl_syscall.len, 0x5a5000n, true);
      view.setBigUint64(at + LAYOUT.fl_syscall.latency_ns, BigInt(1000 + (i & 1023)), true);
      view.setBigUint64(at + LAYOUT.fl_syscall.ret, 0x7f0000000000n, true);
    } else if (kinds[i] === 3) {
      view.setBigUint64(at + LAYOUT.fl_fault.address, 0x7f0000001000n + BigInt(i), true);
      view.setBigUint64(at + LAYOUT.fl_fault.ip, 0x555555555443n, true);
      view.setBigUint64(at + LAYOUT.fl_fault.error_code, 6n, true);
    } else {
      // Paired with the fault record before it (100 ns earlier), as the probes pair them.
      view.setBigUint64(at + LAYOUT.fl_done.latency_ns, 100n, true);
    }
  }
  return { view, offsets };
}

const { view, offsets } = layout();

/** An aggregation with the process and mapping tables, as every trace keeps. */
const withTables = () =>
  new Aggregator(EVENT_KINDS, {
    processes: new ProcessTable(),
    mappings: new MappingTable({ source: ONE_ANONYMOUS_MAPPING }),
  });

/** One process whose address space /proc would show as one anonymous mapping. */
const ONE_ANONYMOUS_MAPPING: MappingSource = {
  snapshot: () => [
    {
      start: 0x7f0000000000,
      end: 0x7f0001000000,
      offset: 0,
      perms: "rw-p",
      path: "",
      deleted: false,
    },
  ],
  fileAt: () => null,
};

Deno.bench(
  "EVENT_KINDS.decodeRecord() + Aggregator.add() x 1M ring records",
  { baseline: true },
  () => {
    const agg = new Aggregator();
    for (let i = 0; i < N; i++) {
      const e = decodeRecord(view, offsets[i]!, 4242);
      if (e !== null) agg.add(e);
    }
    if (agg.counts.page_fault_user === 0) throw new Error("nothing decoded");
  },
);

Deno.bench(
  "EVENT_KINDS.decodeRecord() + Aggregator.add() with the process and mapping tables x 1M ring records",
  () => {
    const agg = withTables();
    for (let i = 0; i < N; i++) {
      const e = decodeRecord(view, offsets[i]!, 4242);
      if (e !== null) agg.add(e);
    }
    if (agg.counts.minor_faults === 0 || agg.processes!.size !== 1) throw new Error("nothing");
  },
);

Deno.bench(
  "EVENT_KINDS.recordFolder() + Aggregator.recordTap() into the process and mapping tables x 1M ring records (the default)",
  () => {
    const agg = withTables();
    const fold = EVENT_KINDS.recordFolder(agg);
    const tap = agg.recordTap()!;
    for (let i = 0; i < N; i++) {
      const at = offsets[i]!;
      if (fold(view, at)) tap(view, at);
    }
    if (agg.counts.minor_faults === 0 || agg.processes!.size !== 1) throw new Error("nothing");
  },
);

Deno.bench("EVENT_KINDS.decodeRecord() alone x 1M ring records", () => {
  let n = 0;
  for (let i = 0; i < N; i++) if (decodeRecord(view, offsets[i]!, 4242) !== null) n++;
  if (n !== N) throw new Error("lost records");
});

Deno.bench(
  "EVENT_KINDS.recordFolder() into an Aggregator x 1M ring records (no event objects)",
  () => {
    const agg = new Aggregator();
    const foldRecord = EVENT_KINDS.recordFolder(agg);
    for (let i = 0; i < N; i++) foldRecord(view, offsets[i]!);
    if (agg.counts.page_fault_user === 0) throw new Error("nothing folded");
  },
);

Deno.bench(
  "EventsCsvWriter.writeRecord() x 1M ring records, to /dev/null (the --events-csv rows)",
  () => {
    const csv = new EventsCsvWriter("/dev/null");
    csv.open();
    for (let i = 0; i < N; i++) csv.writeRecord(view, offsets[i]!);
    csv.close();
    if (csv.rows !== N) throw new Error(`${csv.rows} rows`);
  },
);
