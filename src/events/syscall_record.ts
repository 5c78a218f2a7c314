/**
 * struct fl_syscall (probes/faultline.h): the ring record of a completed memory-mapping
 * syscall, and what every syscall kind reads and folds the same way (its header fields,
 * latency, count and error tally), shared by the kinds whose calls fit it.
 *
 * @module
 */

import { type KindStore, readU64, recordPid, recordTid, recordTimestamp } from "./event_kind.ts";
import { isErrnoReturn } from "./faultline_event.ts";

/** Byte offsets of struct fl_syscall's fields, and its size. */
export const FL_SYSCALL = {
  addr: 24,
  len: 32,
  ret: 40,
  latency_ns: 48,
  off: 56,
  prot: 64,
  flags: 68,
  fd: 72,
  dev: 76,
  addr2: 80,
  size: 88,
} as const;

/** The fields every syscall event starts with, read from its record. */
export function syscallHead(view: DataView, at: number) {
  return {
    pid: recordPid(view, at),
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
