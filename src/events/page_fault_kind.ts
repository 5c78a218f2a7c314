/**
 * The page-fault kinds: `page_fault_user` and `page_fault_kernel`, one per hit of the
 * `exceptions:page_fault_*` tracepoints, with the address, ip and decoded error code.
 *
 * @module
 */

import {
  type EventKindDefinition,
  hexCell,
  recordPid,
  recordTid,
  recordTimestamp,
} from "./event_kind.ts";
import {
  decodeErrorCode,
  FAULT_ACCESSES,
  faultAccessIndex,
  isProtectionFault,
  type PageFaultEvent,
} from "./faultline_event.ts";

/** Byte offsets of struct fl_fault's fields, and its size. */
export const FL_FAULT = { address: 24, ip: 32, error_code: 40, size: 48 } as const;

const IDS = { page_fault_user: 3, page_fault_kernel: 4 } as const;

/**
 * The page-fault kinds: counted as `counts.page_fault_user` / `page_fault_kernel`, and by
 * their decoded error code in `fault_kinds` (read, write, exec; not_present, protection).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { pageFaultKind } from "./page_fault_kind.ts";
 * assert.equal(pageFaultKind.record?.ids.page_fault_kernel, 4);
 * ```
 */
export const pageFaultKind: EventKindDefinition<PageFaultEvent> = {
  name: "page_fault",
  counts: { page_fault_user: "page_fault_user", page_fault_kernel: "page_fault_kernel" },
  tallies: [...FAULT_ACCESSES, "not_present", "protection"].map((k) => ({
    path: `fault_kinds.${k}`,
    order: 10,
  })),
  csvColumns: ["address", "ip", "error_code", "access", "mode", "cause"],
  csvCells: (e) => [hexCell(e.address), hexCell(e.ip), e.errorCode, e.access, e.mode, e.cause],
  record: {
    struct: "fl_fault",
    layout: FL_FAULT,
    ids: IDS,
    decode(view, at, id) {
      const errorCode = view.getUint32(at + FL_FAULT.error_code, true);
      return {
        kind: id === IDS.page_fault_user ? "page_fault_user" : "page_fault_kernel",
        pid: recordPid(view, at),
        tid: recordTid(view, at),
        timestampNs: recordTimestamp(view, at),
        address: view.getBigUint64(at + FL_FAULT.address, true),
        ip: view.getBigUint64(at + FL_FAULT.ip, true),
        errorCode,
        ...decodeErrorCode(errorCode),
      };
    },
    csvWrite(out, view, at) {
      const errorCode = view.getUint32(at + FL_FAULT.error_code, true);
      out.hexU64(view, at + FL_FAULT.address);
      out.hexU64(view, at + FL_FAULT.ip);
      out.cell(errorCode);
      const { access, mode, cause } = decodeErrorCode(errorCode);
      out.cell(access);
      out.cell(mode);
      out.cell(cause);
    },
  },
  line: {
    tags: { U: "page_fault_user", K: "page_fault_kernel" },
    fields: 6, // U|K TID TS ADDRESS IP ERROR_CODE
    parse(f, kind, pid) {
      const errorCode = Number(f[5]);
      return {
        kind: kind as PageFaultEvent["kind"],
        pid,
        tid: Number(f[1]),
        timestampNs: Number(f[2]),
        address: BigInt(f[3]!),
        ip: BigInt(f[4]!),
        errorCode,
        ...decodeErrorCode(errorCode),
      };
    },
  },
  bind(store) {
    const user = store.count("page_fault_user");
    const kernel = store.count("page_fault_kernel");
    const access = FAULT_ACCESSES.map((a) => store.tally(`fault_kinds.${a}`));
    const notPresent = store.tally("fault_kinds.not_present");
    const protection = store.tally("fault_kinds.protection");
    const fold = (isKernel: boolean, errorCode: number) => {
      (isKernel ? kernel : user).value++;
      access[faultAccessIndex(errorCode)]!.value++;
      (isProtectionFault(errorCode) ? protection : notPresent).value++;
    };
    return {
      add: (e) => fold(e.kind === "page_fault_kernel", e.errorCode),
      fold: (view, at, id) =>
        fold(id === IDS.page_fault_kernel, view.getUint32(at + FL_FAULT.error_code, true)),
    };
  },
};
