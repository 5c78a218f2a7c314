/**
 * The ring-buffer record layout of probes/faultline.h, and its decoding into the event model.
 * Offsets here and in the C header must agree: src/ringbuf_record_test.ts reads the C side's
 * offsets out of the committed object's BTF and compares.
 *
 * @module
 */

import { decodeErrorCode, type EventFolder, type FaultlineEvent } from "./faultline_event.ts";

/** enum fl_kind. */
export const FL_MMAP = 1;
/** enum fl_kind. */
export const FL_MUNMAP = 2;
/** enum fl_kind. */
export const FL_FAULT_USER = 3;
/** enum fl_kind. */
export const FL_FAULT_KERNEL = 4;
/** enum fl_kind. */
export const FL_MINOR = 5;
/** enum fl_kind. */
export const FL_MAJOR = 6;

/** Byte offsets of each struct's fields, as in probes/faultline.h. */
export const LAYOUT = {
  fl_header: { ts_ns: 0, tid: 8, kind: 12, size: 16 },
  fl_syscall: {
    addr: 16,
    len: 24,
    ret: 32,
    latency_ns: 40,
    off: 48,
    prot: 56,
    flags: 60,
    fd: 64,
    size: 72,
  },
  fl_fault: { address: 16, ip: 24, error_code: 32, size: 40 },
  fl_done: { latency_ns: 16, size: 24 },
  fl_config: { target_tgid: 0, arm_on_exec: 4, size: 8 },
} as const;

const S = LAYOUT.fl_syscall;
const F = LAYOUT.fl_fault;
const D = LAYOUT.fl_done;
const TWO_32 = 2 ** 32;

/** A u64 field as a number (exact below 2^53: times, lengths, latencies). */
function u64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * TWO_32;
}

/** An fl_done record's latency, or null for FL_UNPAIRED (all ones). */
function doneLatency(view: DataView, at: number): number | null {
  const low = view.getUint32(at + D.latency_ns, true);
  const high = view.getUint32(at + D.latency_ns + 4, true);
  return low === 0xffffffff && high === 0xffffffff ? null : low + high * TWO_32;
}

/**
 * Decodes the record at `at` in `view` into an event of process `pid`, or null for a kind this
 * version does not know.
 */
export function decodeRecord(view: DataView, at: number, pid: number): FaultlineEvent | null {
  const timestampNs = u64(view, at);
  const tid = view.getUint32(at + 8, true);
  const kind = view.getUint32(at + 12, true);
  switch (kind) {
    case FL_MMAP:
      return {
        kind: "mmap",
        pid,
        tid,
        timestampNs,
        addr: view.getBigUint64(at + S.addr, true),
        length: u64(view, at + S.len),
        prot: view.getUint32(at + S.prot, true),
        flags: view.getUint32(at + S.flags, true),
        fd: view.getInt32(at + S.fd, true),
        offset: u64(view, at + S.off),
        ret: view.getBigInt64(at + S.ret, true),
        latencyNs: u64(view, at + S.latency_ns),
      };
    case FL_MUNMAP:
      return {
        kind: "munmap",
        pid,
        tid,
        timestampNs,
        addr: view.getBigUint64(at + S.addr, true),
        length: u64(view, at + S.len),
        ret: Number(view.getBigInt64(at + S.ret, true)),
        latencyNs: u64(view, at + S.latency_ns),
      };
    case FL_FAULT_USER:
    case FL_FAULT_KERNEL: {
      const errorCode = view.getUint32(at + F.error_code, true);
      return {
        kind: kind === FL_FAULT_USER ? "page_fault_user" : "page_fault_kernel",
        pid,
        tid,
        timestampNs,
        address: view.getBigUint64(at + F.address, true),
        ip: view.getBigUint64(at + F.ip, true),
        errorCode,
        ...decodeErrorCode(errorCode),
      };
    }
    case FL_MINOR:
    case FL_MAJOR: {
      return {
        kind: kind === FL_MINOR ? "minor_fault" : "major_fault",
        pid,
        tid,
        timestampNs,
        latencyNs: doneLatency(view, at),
      };
    }
  }
  return null;
}

/**
 * Folds the record at `at` into `folder` without making an event object: the same fields
 * {@link decodeRecord} reads, for when only counts and histograms are wanted. Returns false
 * for a kind this version does not know.
 */
export function foldRecord(view: DataView, at: number, folder: EventFolder): boolean {
  switch (view.getUint32(at + 12, true)) {
    case FL_MMAP: {
      const retHigh = view.getInt32(at + S.ret + 4, true);
      const retLow = view.getUint32(at + S.ret, true);
      // -4095 <= ret < 0: the high word is -1 and the low word at least 2^32 - 4095.
      const failed = retHigh === -1 && retLow >= 0xfffff001;
      folder.foldMmap(u64(view, at + S.len), u64(view, at + S.latency_ns), failed);
      return true;
    }
    case FL_MUNMAP:
      folder.foldMunmap(u64(view, at + S.latency_ns), view.getInt32(at + S.ret + 4, true) < 0);
      return true;
    case FL_FAULT_USER:
      folder.foldPageFault(false, view.getUint32(at + F.error_code, true));
      return true;
    case FL_FAULT_KERNEL:
      folder.foldPageFault(true, view.getUint32(at + F.error_code, true));
      return true;
    case FL_MINOR:
    case FL_MAJOR:
      folder.foldFaultDone(view.getUint32(at + 12, true) === FL_MAJOR, doneLatency(view, at));
      return true;
  }
  return false;
}
