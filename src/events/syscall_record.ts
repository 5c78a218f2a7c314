/**
 * struct fl_syscall (probes/faultline.h): the ring record of a completed memory-mapping
 * syscall, shared by the kinds whose calls fit it.
 *
 * @module
 */

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
