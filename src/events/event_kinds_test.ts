import { FL_FILE, FL_FILE_ID } from "./file_path_record.ts";
import { FL_VMA, FL_VMA_ID } from "./exec_mapping_record.ts";
import assert from "node:assert/strict";
import { Aggregator, type ReportContext } from "../aggregate/aggregator.ts";
import { FL_CONFIG } from "../capture/ringbuf/ringbuf_engine.ts";
import { FL_FOLLOWED, FL_HEADER } from "./event_kind.ts";
import type { FaultlineEvent } from "./faultline_event.ts";
import { EVENT_KINDS } from "./event_kinds.ts";
import { FL_DONE } from "./fault_done_kind.ts";
import { FL_FAULT } from "./page_fault_kind.ts";
import { FL_SYSCALL } from "./syscall_record.ts";

const LAYOUT = {
  fl_header: FL_HEADER,
  fl_syscall: FL_SYSCALL,
  fl_fault: FL_FAULT,
  fl_done: FL_DONE,
};
const CONTEXT: ReportContext = {
  engine: "ringbuf",
  target: { pid: 1, command: null },
  startedAt: new Date(0),
  durationNs: 0,
  stopReason: "target_exited",
  exitStatus: null,
};
const FL_MMAP = 1;
const FL_FAULT_KERNEL = 4;
const FL_MINOR = 5;
/** Decodes the record at `at` as process `pid`'s (written into its header first). */
const decodeRecord = (view: DataView, at: number, pid: number) => {
  view.setUint32(at + FL_HEADER.pid, pid, true);
  return EVENT_KINDS.decodeRecord(view, at);
};

interface Btf {
  /** struct name -> { size, members: name -> byte offset }. */
  structs: Map<string, { size: number; members: Map<string, number> }>;
  /** enumerator name -> value, for every enum. */
  enumerators: Map<string, number>;
}

/** The structs and enumerators of a BPF object's BTF. */
function readBtf(elf: Uint8Array): Btf {
  const v = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      name: v.getUint32(at, true),
      offset: Number(v.getBigUint64(at + 0x18, true)),
      size: Number(v.getBigUint64(at + 0x20, true)),
    };
  };
  const names = section(shstrndx);
  const cstr = (base: number, off: number) => {
    let end = base + off;
    while (elf[end] !== 0) end++;
    return new TextDecoder().decode(elf.subarray(base + off, end));
  };
  let btf: { offset: number; size: number } | null = null;
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (cstr(names.offset, s.name) === ".BTF") btf = s;
  }
  assert.ok(btf, "the object has a .BTF section (built with -g)");
  const b = btf.offset;
  assert.equal(v.getUint16(b, true), 0xeb9f, "BTF magic");
  const hdrLen = v.getUint32(b + 4, true);
  const typeStart = b + hdrLen + v.getUint32(b + 8, true);
  const typeEnd = typeStart + v.getUint32(b + 12, true);
  const strBase = b + hdrLen + v.getUint32(b + 16, true);
  // Bytes of data after each kind's 12-byte header: fixed, or per member (vlen).
  const fixed: Record<number, number> = { 1: 4, 3: 12, 14: 4, 17: 4 };
  const perMember: Record<number, number> = { 4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12 };
  const structs = new Map<string, { size: number; members: Map<string, number> }>();
  const enumerators = new Map<string, number>();
  for (let at = typeStart; at < typeEnd;) {
    const nameOff = v.getUint32(at, true);
    const info = v.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const bitfields = info >>> 31;
    if (kind === 4) {
      const members = new Map<string, number>();
      for (let m = 0; m < vlen; m++) {
        const mAt = at + 12 + m * 12;
        const offset = v.getUint32(mAt + 8, true);
        members.set(
          cstr(strBase, v.getUint32(mAt, true)),
          (bitfields ? offset & 0xffffff : offset) / 8,
        );
      }
      structs.set(cstr(strBase, nameOff), { size: v.getUint32(at + 8, true), members });
    }
    if (kind === 6) {
      for (let m = 0; m < vlen; m++) {
        const mAt = at + 12 + m * 8;
        enumerators.set(cstr(strBase, v.getUint32(mAt, true)), v.getInt32(mAt + 4, true));
      }
    }
    at += 12 + (fixed[kind] ?? 0) + vlen * (perMember[kind] ?? 0);
  }
  return { structs, enumerators };
}

const C_ENUMERATORS: Record<string, string> = {
  mmap: "FL_MMAP",
  munmap: "FL_MUNMAP",
  page_fault_user: "FL_FAULT_USER",
  page_fault_kernel: "FL_FAULT_KERNEL",
  minor_fault: "FL_MINOR",
  major_fault: "FL_MAJOR",
  mremap: "FL_MREMAP",
  mprotect: "FL_MPROTECT",
  madvise: "FL_MADVISE",
  brk: "FL_BRK",
  msync: "FL_MSYNC",
  process_fork: "FL_FORK",
  process_exec: "FL_EXEC",
  process_exit: "FL_EXIT",
};

Deno.test("Every kind's record layout and id match the committed object's BTF, field for field", () => {
  const elf = Deno.readFileSync(new URL("../../probes/faultline.bpf.o", import.meta.url));
  const { structs, enumerators } = readBtf(elf);
  const layouts: Record<string, Readonly<Record<string, number>>> = {
    fl_header: FL_HEADER,
    fl_config: FL_CONFIG,
  };
  for (const d of EVENT_KINDS.definitions) {
    assert.ok(d.record, `${d.name} has a ring record`);
    layouts[d.record.struct] = d.record.layout;
    for (const [kind, id] of Object.entries(d.record.ids)) {
      assert.equal(enumerators.get(C_ENUMERATORS[kind]!), id, `enum fl_kind ${kind}`);
    }
  }
  assert.deepEqual(Object.keys(layouts).sort(), [
    "fl_config",
    "fl_done",
    "fl_fault",
    "fl_header",
    "fl_syscall",
    "fl_task",
  ]);
  for (const [name, fields] of Object.entries(layouts)) {
    const c = structs.get(name);
    assert.ok(c, `struct ${name} is in the BTF`);
    for (const [field, offset] of Object.entries(fields)) {
      if (field === "size") assert.equal(c.size, offset, `sizeof(struct ${name})`);
      else if (name === "fl_header" || !["ts_ns", "tid", "kind", "pid", "flags"].includes(field)) {
        assert.equal(c.members.get(field), offset, `offsetof(struct ${name}, ${field})`);
      }
    }
    // Every C field is known to TypeScript (the header is one member, h, at 0).
    for (const member of c.members.keys()) {
      assert.ok(member === "h" || member === "pad" || member in fields, `${name}.${member}`);
    }
  }
  // A fault and its completion in one ring record: the two records back to back.
  const pair = structs.get("fl_fault_pair");
  assert.ok(pair, "struct fl_fault_pair is in the BTF");
  assert.equal(pair.size, FL_FAULT.size + FL_DONE.size);
  assert.deepEqual([...pair.members], [["fault", 0], ["done", FL_FAULT.size]]);
  assert.equal(enumerators.get("FL_FOLLOWED"), undefined, "FL_FOLLOWED is a #define");
  // A file's path and an exec's mapping: no event kinds, read beside them
  // (file_path_record.ts, exec_mapping_record.ts).
  const beside: [string, string, number, Record<string, number>][] = [
    ["fl_file", "FL_FILE", FL_FILE_ID, FL_FILE],
    ["fl_vma", "FL_VMA", FL_VMA_ID, FL_VMA],
  ];
  for (const [name, enumerator, id, layout] of beside) {
    assert.equal(enumerators.get(enumerator), id, `enum fl_kind ${enumerator}`);
    const c = structs.get(name);
    assert.ok(c, `struct ${name} is in the BTF`);
    assert.equal(c.size, layout.size, `sizeof(struct ${name})`);
    for (const member of c.members.keys()) {
      if (member === "h") continue;
      assert.ok(member in layout, `${name}.${member}`);
      assert.equal(c.members.get(member), layout[member], `${name}.${member}`);
    }
  }
});

Deno.test("A ring record holding a fault and its completion gives both events, in order", () => {
  const view = new DataView(new ArrayBuffer(FL_FAULT.size + FL_DONE.size + 8));
  const at = 8;
  const done = at + FL_FAULT.size;
  view.setBigUint64(at + FL_HEADER.ts_ns, 1000n, true);
  view.setUint32(at + FL_HEADER.tid, 78, true);
  view.setUint32(at + FL_HEADER.kind, 3, true); // FL_FAULT_USER
  view.setUint32(at + FL_HEADER.pid, 70, true);
  view.setUint32(at + FL_HEADER.flags, FL_FOLLOWED, true);
  view.setBigUint64(at + FL_FAULT.address, 0x7f0000001000n, true);
  view.setBigUint64(at + FL_FAULT.error_code, 6n, true);
  view.setBigUint64(done + FL_HEADER.ts_ns, 1800n, true);
  view.setUint32(done + FL_HEADER.tid, 78, true);
  view.setUint32(done + FL_HEADER.kind, FL_MINOR, true);
  view.setUint32(done + FL_HEADER.pid, 70, true);
  view.setBigUint64(done + FL_DONE.latency_ns, 800n, true);
  const events: FaultlineEvent[] = [];
  assert.ok(EVENT_KINDS.decodeRecords(view, at, (e) => events.push(e)));
  assert.deepEqual(events.map((e) => [e.kind, e.tid, e.timestampNs]), [
    ["page_fault_user", 78, 1000],
    ["minor_fault", 78, 1800],
  ]);
  assert.equal((events[1] as { latencyNs: number }).latencyNs, 800);
  // Folding takes the same two, and the tap sees each record.
  const viaFold = new Aggregator();
  const tapped: number[] = [];
  assert.ok(EVENT_KINDS.recordFolder(viaFold, (_, a) => tapped.push(a))(view, at));
  assert.deepEqual(tapped, [at, done]);
  assert.equal(viaFold.counts.page_fault_user, 1);
  assert.equal(viaFold.counts.minor_faults, 1);
  assert.equal(viaFold.report(CONTEXT).unpaired_faults, 0);
  // Without the flag, the record stands alone.
  view.setUint32(at + FL_HEADER.flags, 0, true);
  events.length = 0;
  assert.ok(EVENT_KINDS.decodeRecords(view, at, (e) => events.push(e)));
  assert.deepEqual(events.map((e) => e.kind), ["page_fault_user"]);
  // An unknown kind after the flag: false, nothing past it read.
  view.setUint32(at + FL_HEADER.flags, FL_FOLLOWED, true);
  view.setUint32(done + FL_HEADER.kind, 99, true);
  events.length = 0;
  assert.equal(EVENT_KINDS.decodeRecords(view, at, (e) => events.push(e)), false);
  assert.deepEqual(events.map((e) => e.kind), ["page_fault_user"]);
});

Deno.test("EVENT_KINDS.decodeRecord() reads each kind of record as faultline.h lays it out", () => {
  const view = new DataView(new ArrayBuffer(256));
  view.setBigUint64(8, 123_456_789n, true);
  view.setUint32(16, 77, true);
  view.setUint32(20, FL_MMAP, true);
  const s = 8 + 0;
  view.setBigUint64(s + LAYOUT.fl_syscall.addr, 0n, true);
  view.setBigUint64(s + LAYOUT.fl_syscall.len, 0x5a5000n, true);
  view.setBigInt64(s + LAYOUT.fl_syscall.ret, -12n, true);
  view.setBigUint64(s + LAYOUT.fl_syscall.latency_ns, 2500n, true);
  view.setBigUint64(s + LAYOUT.fl_syscall.off, 4096n, true);
  view.setUint32(s + LAYOUT.fl_syscall.prot, 3, true);
  view.setUint32(s + LAYOUT.fl_syscall.flags, 0x22, true);
  view.setInt32(s + LAYOUT.fl_syscall.fd, -1, true);
  assert.deepEqual(decodeRecord(view, 8, 70), {
    kind: "mmap",
    pid: 70,
    tid: 77,
    timestampNs: 123_456_789,
    addr: 0n,
    length: 0x5a5000,
    prot: 3,
    flags: 0x22,
    fd: -1,
    offset: 4096,
    ret: -12n,
    latencyNs: 2500,
  });

  view.setUint32(100 + 12, FL_FAULT_KERNEL, true);
  view.setUint32(100 + 8, 78, true);
  view.setBigUint64(100 + LAYOUT.fl_fault.address, 0x7ffe0000n, true);
  view.setBigUint64(100 + LAYOUT.fl_fault.ip, 0xffffffff8177539an, true);
  view.setBigUint64(100 + LAYOUT.fl_fault.error_code, 2n, true);
  const fault = decodeRecord(view, 100, 70);
  assert.ok(fault?.kind === "page_fault_kernel");
  assert.equal(fault.ip, 0xffffffff8177539an, "kernel addresses kept exactly");
  assert.equal(fault.access, "write");
  assert.equal(fault.tid, 78);

  view.setUint32(160 + 12, FL_MINOR, true);
  view.setBigUint64(160 + LAYOUT.fl_done.latency_ns, 0xffffffffffffffffn, true);
  const unpaired = decodeRecord(view, 160, 70);
  assert.ok(unpaired?.kind === "minor_fault");
  assert.equal(unpaired.latencyNs, null);
  view.setBigUint64(160 + LAYOUT.fl_done.latency_ns, 9000n, true);
  assert.equal((decodeRecord(view, 160, 70) as { latencyNs: number }).latencyNs, 9000);

  view.setUint32(200 + 12, 99, true);
  assert.equal(decodeRecord(view, 200, 70), null, "an unknown kind is skipped");
});

Deno.test("EVENT_KINDS.recordFolder() aggregates exactly what decoding and Aggregator.add() do", () => {
  const records: [number, (v: DataView, at: number) => void][] = [
    [FL_MMAP, (v, at) => {
      v.setBigUint64(at + LAYOUT.fl_syscall.len, 8192n, true);
      v.setBigUint64(at + LAYOUT.fl_syscall.latency_ns, 1500n, true);
      v.setBigInt64(at + LAYOUT.fl_syscall.ret, 0x7f0000000000n, true);
    }],
    [FL_MMAP, (v, at) => {
      v.setBigUint64(at + LAYOUT.fl_syscall.len, 0n, true);
      v.setBigUint64(at + LAYOUT.fl_syscall.latency_ns, 300n, true);
      v.setBigInt64(at + LAYOUT.fl_syscall.ret, -22n, true);
    }],
    [FL_MMAP, (v, at) => {
      // A "negative" address that is not an errno: an mmap that succeeded high up.
      v.setBigUint64(at + LAYOUT.fl_syscall.len, 4096n, true);
      v.setBigUint64(at + LAYOUT.fl_syscall.latency_ns, 900n, true);
      v.setBigInt64(at + LAYOUT.fl_syscall.ret, -8192n, true);
    }],
    [2, (v, at) => {
      v.setBigUint64(at + LAYOUT.fl_syscall.latency_ns, 2500n, true);
      v.setBigInt64(at + LAYOUT.fl_syscall.ret, -22n, true);
    }],
    [FL_FAULT_KERNEL, (v, at) => v.setBigUint64(at + LAYOUT.fl_fault.error_code, 2n, true)],
    [3, (v, at) => v.setBigUint64(at + LAYOUT.fl_fault.error_code, 0x15n, true)],
    [3, (v, at) => v.setBigUint64(at + LAYOUT.fl_fault.error_code, 4n, true)],
    [FL_MINOR, (v, at) => v.setBigUint64(at + LAYOUT.fl_done.latency_ns, 7000n, true)],
    [FL_MINOR, (v, at) => v.setBigUint64(at + LAYOUT.fl_done.latency_ns, 2n ** 64n - 1n, true)],
    [6, (v, at) => v.setBigUint64(at + LAYOUT.fl_done.latency_ns, 4_000_000n, true)],
  ];
  const viaEvents = new Aggregator();
  const viaFold = new Aggregator();
  const foldRecord = EVENT_KINDS.recordFolder(viaFold);
  for (const [kind, fill] of records) {
    const view = new DataView(new ArrayBuffer(96));
    view.setUint32(12, kind, true);
    fill(view, 0);
    viaEvents.add(decodeRecord(view, 0, 1)!);
    assert.ok(foldRecord(view, 0));
  }
  const context = CONTEXT;
  const folded = viaFold.report(context);
  assert.deepEqual(folded, viaEvents.report(context));
  assert.equal(folded.mmap_errors, 1);
  assert.equal(folded.munmap_errors, 1);
  assert.equal(folded.unpaired_faults, 1);
  assert.deepEqual(folded.fault_kinds, {
    read: 1,
    write: 1,
    exec: 1,
    not_present: 2,
    protection: 1,
  });
  const unknown = new DataView(new ArrayBuffer(96));
  unknown.setUint32(12, 42, true);
  assert.equal(foldRecord(unknown, 0), false);
});
