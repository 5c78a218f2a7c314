/**
 * The `mmap` kind: one completed mmap call, its arguments, return value and latency.
 *
 * @module
 */

import { type EventKindDefinition, hexCell, readU64 } from "./event_kind.ts";
import { isErrnoValue, type MmapEvent } from "./faultline_event.ts";
import {
  FL_SYSCALL as S,
  recordFailed,
  syscallFolder,
  syscallHead,
  syscallLineHead,
} from "./syscall_record.ts";

/**
 * The mmap kind: counted as `counts.mmap`; its latency and length go to `mmap_latency_ns` and
 * `mmap_size_bytes`, its failures (-4095..-1) to `mmap_errors`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { mmapKind } from "./mmap_kind.ts";
 * assert.equal(mmapKind.counts.mmap, "mmap");
 * ```
 */
export const mmapKind: EventKindDefinition<MmapEvent> = {
  name: "mmap",
  counts: { mmap: "mmap" },
  tallies: [{ path: "mmap_errors", order: 30 }],
  histograms: [
    { name: "mmap_latency_ns", unit: "ns", order: 10 },
    { name: "mmap_size_bytes", unit: "bytes", order: 30 },
  ],
  csvColumns: ["latency_ns", "addr", "length", "prot", "flags", "fd", "offset", "ret"],
  csvCells: (e) => [
    e.latencyNs,
    hexCell(e.addr),
    e.length,
    e.prot,
    e.flags,
    e.fd,
    e.offset,
    hexCell(e.ret),
  ],
  record: {
    struct: "fl_syscall",
    layout: S,
    ids: { mmap: 1 },
    decode(view, at) {
      const event: MmapEvent = {
        kind: "mmap",
        ...syscallHead(view, at),
        addr: view.getBigUint64(at + S.addr, true),
        length: readU64(view, at + S.len),
        prot: view.getUint32(at + S.prot, true),
        flags: view.getUint32(at + S.flags, true),
        fd: view.getInt32(at + S.fd, true),
        offset: readU64(view, at + S.off),
        ret: view.getBigInt64(at + S.ret, true),
      };
      // A file's: its inode (in addr2) and device, as faultline.h lays them out for mmap.
      const inode = readU64(view, at + S.addr2);
      return inode === 0
        ? event
        : { ...event, file: { inode, device: view.getUint32(at + S.dev, true) } };
    },
    csvWrite(out, view, at) {
      out.cell(readU64(view, at + S.latency_ns));
      out.hexU64(view, at + S.addr);
      out.cell(readU64(view, at + S.len));
      out.cell(view.getUint32(at + S.prot, true));
      out.cell(view.getUint32(at + S.flags, true));
      out.cell(view.getInt32(at + S.fd, true));
      out.cell(readU64(view, at + S.off));
      out.hexI64(view, at + S.ret);
    },
  },
  line: {
    tags: { m: "mmap" },
    fields: 11, // m TID TS LAT ADDR LEN PROT FLAGS FD OFF RET
    parse: (f, _kind, pid) => ({
      kind: "mmap",
      ...syscallLineHead(f, pid),
      addr: BigInt(f[4]!),
      length: Number(f[5]),
      prot: Number(f[6]),
      flags: Number(f[7]),
      fd: Number(f[8]),
      offset: Number(f[9]),
      ret: BigInt(f[10]!),
    }),
  },
  bind(store) {
    const call = syscallFolder(store, "mmap", true);
    const size = store.histogram("mmap_size_bytes");
    return {
      add(e) {
        call(e.latencyNs, isErrnoValue(e.ret));
        size.add(e.length);
      },
      fold(view, at) {
        call(readU64(view, at + S.latency_ns), recordFailed(view, at));
        size.add(readU64(view, at + S.len));
      },
    };
  },
};
