/**
 * struct fl_syscall (probes/faultline.h): the ring record of a completed memory-mapping
 * syscall, and what every syscall kind reads and folds the same way (its header fields,
 * latency, count and error tally), shared by the kinds whose calls fit it.
 *
 * @module
 */

import { type KindStore, readU64, recordTid, recordTimestamp } from "./event_kind.ts";
import { isErrnoReturn } from "./faultline_event.ts";

/** Byte offsets of struct fl_syscall's fields, and its size. */
export const FL_SYSCALL = {
  addr: 16,
  len: 24,
  ret: 32,
  latency_ns: 40,
  off: 48,
  prot: 56,
  flags: 60,
  fd: 64,
  addr2: 72,
  size: 80,
} as const;

/** The fields every syscall event starts with, read from its record. */
export function syscallHead(view: DataView, at: number, pid: number) {
  return {
    pid,
    tid: recordTid(view, at),
    timestampNs: recordTimestamp(view, at),
    latencyNs: readU64(view, at + FL_SYSCALL.latency_ns),
  };
}

/** The fields every syscall line starts with: `TAG TID TS LAT`. */
export function syscallLineHead(f: readonly string[], pid: number) {
  return { pid, tid: Number(f[1]), timestampNs: Number(f[2]), latencyNs: Number(f[3]) };
}

/** Counts a call of `name`, adds its latency, and tallies it as failed when told so. */
export function syscallFolder(store: KindStore, name: string, errors: boolean) {
  const count = store.count(name);
  const failures = errors ? store.tally(`${name}_errors`) : null;
  const latency = store.histogram(`${name}_latency_ns`);
  return (latencyNs: number, failed: boolean) => {
    count.value++;
    latency.add(latencyNs);
    if (failed && failures) failures.value++;
  };
}

/** Whether the record's ret, as a 64-bit value, is -errno (-4095..-1). */
export const recordFailed = (view: DataView, at: number) =>
  isErrnoReturn(
    view.getUint32(at + FL_SYSCALL.ret, true),
    view.getInt32(at + FL_SYSCALL.ret + 4, true),
  );
