/**
 * The `munmap` kind: one completed munmap call.
 *
 * @module
 */

import { type EventKindDefinition, hexCell, readU64 } from "./event_kind.ts";
import { isErrnoInt, type MunmapEvent } from "./faultline_event.ts";
import {
  FL_SYSCALL as S,
  recordFailed,
  syscallFolder,
  syscallHead,
  syscallLineHead,
} from "./syscall_record.ts";

/**
 * The munmap kind: counted as `counts.munmap`, its latency in `munmap_latency_ns`, its
 * failures in `munmap_errors`. Its record is struct fl_syscall with off, prot and flags 0.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { munmapKind } from "./munmap_kind.ts";
 * assert.deepEqual(munmapKind.csvColumns, ["latency_ns", "addr", "length", "ret"]);
 * ```
 */
export const munmapKind: EventKindDefinition<MunmapEvent> = {
  name: "munmap",
  counts: { munmap: "munmap" },
  tallies: [{ path: "munmap_errors", order: 40 }],
  histograms: [{ name: "munmap_latency_ns", unit: "ns", order: 20 }],
  csvColumns: ["latency_ns", "addr", "length", "ret"],
  csvCells: (e) => [e.latencyNs, hexCell(e.addr), e.length, e.ret],
  record: {
    struct: "fl_syscall",
    layout: S,
    ids: { munmap: 2 },
    decode: (view, at) => ({
      kind: "munmap",
      ...syscallHead(view, at),
      addr: view.getBigUint64(at + S.addr, true),
      length: readU64(view, at + S.len),
      ret: view.getInt32(at + S.ret, true),
    }),
    csvWrite(out, view, at) {
      out.cell(readU64(view, at + S.latency_ns));
      out.hexU64(view, at + S.addr);
      out.cell(readU64(view, at + S.len));
      out.cell(view.getInt32(at + S.ret, true));
    },
  },
  line: {
    tags: { u: "munmap" },
    fields: 7, // u TID TS LAT ADDR LEN RET
    parse: (f, _kind, pid) => ({
      kind: "munmap",
      ...syscallLineHead(f, pid),
      addr: BigInt(f[4]!),
      length: Number(f[5]),
      ret: Number(f[6]),
    }),
  },
  bind(store) {
    const call = syscallFolder(store, "munmap", true);
    return {
      add: (e) => call(e.latencyNs, isErrnoInt(e.ret)),
      fold: (view, at) => call(readU64(view, at + S.latency_ns), recordFailed(view, at)),
    };
  },
};
