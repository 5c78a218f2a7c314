/**
 * The other memory-mapping syscalls: `mremap`, `mprotect`, `madvise`, `brk` and `msync`. Each is
 * an struct fl_syscall record (see syscall_record.ts for which field holds which argument), a
 * bpftrace line, a count, a latency histogram and, where the call returns -errno, an error
 * tally.
 *
 * @module
 */

import { type EventKindDefinition, hexCell, readU64 } from "./event_kind.ts";
import {
  type BrkEvent,
  isErrnoInt,
  isErrnoValue,
  type MadviseEvent,
  type MprotectEvent,
  type MremapEvent,
  type MsyncEvent,
} from "./faultline_event.ts";
import {
  FL_SYSCALL as S,
  recordFailed,
  syscallFolder,
  syscallHead as head,
  syscallLineHead as lineHead,
} from "./syscall_record.ts";

/**
 * mremap: counts as `counts.mremap`, its latency in `mremap_latency_ns`, failures in
 * `mremap_errors`; CSV `length` is the old size, `new_length` and `new_addr` beside it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mremapKind } from "./syscall_kinds.ts";
 * assert.equal(mremapKind.record?.ids.mremap, 7);
 * ```
 */
export const mremapKind: EventKindDefinition<MremapEvent> = {
  name: "mremap",
  counts: { mremap: "mremap" },
  tallies: [{ path: "mremap_errors", order: 50 }],
  histograms: [{ name: "mremap_latency_ns", unit: "ns", order: 50 }],
  csvColumns: ["latency_ns", "addr", "length", "flags", "ret", "new_length", "new_addr"],
  csvCells: (e) => [
    e.latencyNs,
    hexCell(e.addr),
    e.length,
    e.flags,
    hexCell(e.ret),
    e.newLength,
    hexCell(e.newAddr),
  ],
  record: {
    struct: "fl_syscall",
    layout: S,
    ids: { mremap: 7 },
    decode: (view, at) => ({
      kind: "mremap",
      ...head(view, at),
      addr: view.getBigUint64(at + S.addr, true),
      length: readU64(view, at + S.len),
      newLength: readU64(view, at + S.off),
      flags: view.getUint32(at + S.flags, true),
      newAddr: view.getBigUint64(at + S.addr2, true),
      ret: view.getBigInt64(at + S.ret, true),
    }),
  },
  line: {
    tags: { r: "mremap" },
    fields: 10, // r TID TS LAT ADDR OLD_LEN NEW_LEN FLAGS NEW_ADDR RET
    parse: (f, _kind, pid) => ({
      kind: "mremap",
      ...lineHead(f, pid),
      addr: BigInt(f[4]!),
      length: Number(f[5]),
      newLength: Number(f[6]),
      flags: Number(f[7]),
      newAddr: BigInt(f[8]!),
      ret: BigInt(f[9]!),
    }),
  },
  bind(store) {
    const fold = syscallFolder(store, "mremap", true);
    return {
      add: (e) => fold(e.latencyNs, isErrnoValue(e.ret)),
      fold: (view, at) => fold(readU64(view, at + S.latency_ns), recordFailed(view, at)),
    };
  },
};

/**
 * mprotect: `counts.mprotect`, `mprotect_latency_ns`, `mprotect_errors`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mprotectKind } from "./syscall_kinds.ts";
 * assert.deepEqual(mprotectKind.csvColumns, ["latency_ns", "addr", "length", "prot", "ret"]);
 * ```
 */
export const mprotectKind: EventKindDefinition<MprotectEvent> = {
  name: "mprotect",
  counts: { mprotect: "mprotect" },
  tallies: [{ path: "mprotect_errors", order: 51 }],
  histograms: [{ name: "mprotect_latency_ns", unit: "ns", order: 51 }],
  csvColumns: ["latency_ns", "addr", "length", "prot", "ret"],
  csvCells: (e) => [e.latencyNs, hexCell(e.addr), e.length, e.prot, e.ret],
  record: {
    struct: "fl_syscall",
    layout: S,
    ids: { mprotect: 8 },
    decode: (view, at) => ({
      kind: "mprotect",
      ...head(view, at),
      addr: view.getBigUint64(at + S.addr, true),
      length: readU64(view, at + S.len),
      prot: view.getUint32(at + S.prot, true),
      ret: view.getInt32(at + S.ret, true),
    }),
  },
  line: {
    tags: { p: "mprotect" },
    fields: 8, // p TID TS LAT ADDR LEN PROT RET
    parse: (f, _kind, pid) => ({
      kind: "mprotect",
      ...lineHead(f, pid),
      addr: BigInt(f[4]!),
      length: Number(f[5]),
      prot: Number(f[6]),
      ret: Number(f[7]),
    }),
  },
  bind(store) {
    const fold = syscallFolder(store, "mprotect", true);
    return {
      add: (e) => fold(e.latencyNs, isErrnoInt(e.ret)),
      fold: (view, at) => fold(readU64(view, at + S.latency_ns), recordFailed(view, at)),
    };
  },
};

/**
 * madvise: `counts.madvise`, `madvise_latency_ns`, `madvise_errors`; the advice in the CSV's
 * `advice` column.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { madviseKind } from "./syscall_kinds.ts";
 * assert.equal(madviseKind.line?.tags.a, "madvise");
 * ```
 */
export const madviseKind: EventKindDefinition<MadviseEvent> = {
  name: "madvise",
  counts: { madvise: "madvise" },
  tallies: [{ path: "madvise_errors", order: 52 }],
  histograms: [{ name: "madvise_latency_ns", unit: "ns", order: 52 }],
  csvColumns: ["latency_ns", "addr", "length", "advice", "ret"],
  csvCells: (e) => [e.latencyNs, hexCell(e.addr), e.length, e.advice, e.ret],
  record: {
    struct: "fl_syscall",
    layout: S,
    ids: { madvise: 9 },
    decode: (view, at) => ({
      kind: "madvise",
      ...head(view, at),
      addr: view.getBigUint64(at + S.addr, true),
      length: readU64(view, at + S.len),
      advice: view.getInt32(at + S.flags, true),
      ret: view.getInt32(at + S.ret, true),
    }),
  },
  line: {
    tags: { a: "madvise" },
    fields: 8, // a TID TS LAT ADDR LEN ADVICE RET
    parse: (f, _kind, pid) => ({
      kind: "madvise",
      ...lineHead(f, pid),
      addr: BigInt(f[4]!),
      length: Number(f[5]),
      advice: Number(f[6]),
      ret: Number(f[7]),
    }),
  },
  bind(store) {
    const fold = syscallFolder(store, "madvise", true);
    return {
      add: (e) => fold(e.latencyNs, isErrnoInt(e.ret)),
      fold: (view, at) => fold(readU64(view, at + S.latency_ns), recordFailed(view, at)),
    };
  },
};

/**
 * brk: `counts.brk` and `brk_latency_ns`. brk returns the break, not -errno (a refused change
 * leaves it where it was), so it has no error tally.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { brkKind } from "./syscall_kinds.ts";
 * assert.equal(brkKind.tallies, undefined);
 * ```
 */
export const brkKind: EventKindDefinition<BrkEvent> = {
  name: "brk",
  counts: { brk: "brk" },
  histograms: [{ name: "brk_latency_ns", unit: "ns", order: 53 }],
  csvColumns: ["latency_ns", "addr", "ret"],
  csvCells: (e) => [e.latencyNs, hexCell(e.addr), hexCell(e.ret)],
  record: {
    struct: "fl_syscall",
    layout: S,
    ids: { brk: 10 },
    decode: (view, at) => ({
      kind: "brk",
      ...head(view, at),
      addr: view.getBigUint64(at + S.addr, true),
      ret: view.getBigInt64(at + S.ret, true),
    }),
  },
  line: {
    tags: { b: "brk" },
    fields: 6, // b TID TS LAT ADDR RET
    parse: (f, _kind, pid) => ({
      kind: "brk",
      ...lineHead(f, pid),
      addr: BigInt(f[4]!),
      ret: BigInt(f[5]!),
    }),
  },
  bind(store) {
    const fold = syscallFolder(store, "brk", false);
    return {
      add: (e) => fold(e.latencyNs, false),
      fold: (view, at) => fold(readU64(view, at + S.latency_ns), false),
    };
  },
};

/**
 * msync: `counts.msync`, `msync_latency_ns`, `msync_errors`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { msyncKind } from "./syscall_kinds.ts";
 * assert.equal(msyncKind.counts.msync, "msync");
 * ```
 */
export const msyncKind: EventKindDefinition<MsyncEvent> = {
  name: "msync",
  counts: { msync: "msync" },
  tallies: [{ path: "msync_errors", order: 53 }],
  histograms: [{ name: "msync_latency_ns", unit: "ns", order: 54 }],
  csvColumns: ["latency_ns", "addr", "length", "flags", "ret"],
  csvCells: (e) => [e.latencyNs, hexCell(e.addr), e.length, e.flags, e.ret],
  record: {
    struct: "fl_syscall",
    layout: S,
    ids: { msync: 11 },
    decode: (view, at) => ({
      kind: "msync",
      ...head(view, at),
      addr: view.getBigUint64(at + S.addr, true),
      length: readU64(view, at + S.len),
      flags: view.getInt32(at + S.flags, true),
      ret: view.getInt32(at + S.ret, true),
    }),
  },
  line: {
    tags: { y: "msync" },
    fields: 8, // y TID TS LAT ADDR LEN FLAGS RET
    parse: (f, _kind, pid) => ({
      kind: "msync",
      ...lineHead(f, pid),
      addr: BigInt(f[4]!),
      length: Number(f[5]),
      flags: Number(f[6]),
      ret: Number(f[7]),
    }),
  },
  bind(store) {
    const fold = syscallFolder(store, "msync", true);
    return {
      add: (e) => fold(e.latencyNs, isErrnoInt(e.ret)),
      fold: (view, at) => fold(readU64(view, at + S.latency_ns), recordFailed(view, at)),
    };
  },
};
