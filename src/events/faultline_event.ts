/**
 * The one event model every capture engine produces: a typed record per kernel event.
 *
 * Times are the kernel's CLOCK_MONOTONIC in nanoseconds (bpftrace's `nsecs`,
 * `bpf_ktime_get_ns()`). Addresses are `bigint` because kernel addresses do not fit in a
 * double. Each kind's rules (its ring record, its bpftrace line, how it folds, its CSV cells)
 * are declared once, in its definition beside this file (see event_kind.ts).
 *
 * @module
 */

/**
 * The kinds of event this version defines (a test or a later kind may add more).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventKind } from "./faultline_event.ts";
 * const kinds: EventKind[] = ["mmap", "munmap", "minor_fault"];
 * assert.equal(kinds.length, 3);
 * ```
 */
export type EventKind =
  | "mmap"
  | "munmap"
  | "mremap"
  | "mprotect"
  | "madvise"
  | "brk"
  | "msync"
  | "page_fault_user"
  | "page_fault_kernel"
  | "minor_fault"
  | "major_fault"
  | "process_fork"
  | "process_exec"
  | "process_exit";

/**
 * Fields every event carries.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventBase } from "./faultline_event.ts";
 * const e: EventBase = { kind: "minor_fault", pid: 1, tid: 2, timestampNs: 3 };
 * assert.equal(e.tid, 2);
 * ```
 */
export interface EventBase {
  /** What happened: an {@link EventKind}, or the name a added definition gives. */
  readonly kind: string;
  /** Process id (tgid) of the traced process. */
  readonly pid: number;
  /** Thread id the event happened on. */
  readonly tid: number;
  /** Kernel monotonic time of the event in ns (for syscalls: their exit). */
  readonly timestampNs: number;
}

/**
 * One completed `mmap` call: its arguments, return value and latency.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MmapEvent } from "./faultline_event.ts";
 * const e: MmapEvent = {
 *   kind: "mmap", pid: 1, tid: 1, timestampNs: 10, addr: 0n, length: 8192, prot: 3,
 *   flags: 0x22, fd: -1, offset: 0, ret: 0x7f0000000000n, latencyNs: 1200,
 * };
 * assert.ok(e.ret > 0n);
 * ```
 */
export interface MmapEvent extends EventBase {
  /** Always `"mmap"`. */
  readonly kind: "mmap";
  /** The `addr` argument (a hint, or the fixed address with MAP_FIXED). */
  readonly addr: bigint;
  /** The `length` argument in bytes. */
  readonly length: number;
  /** The `prot` argument (PROT_* bits). */
  readonly prot: number;
  /** The `flags` argument (MAP_* bits). */
  readonly flags: number;
  /** The `fd` argument, -1 for anonymous mappings. */
  readonly fd: number;
  /** The `offset` argument in bytes. */
  readonly offset: number;
  /** The return value: the mapped address, or a negative errno. */
  readonly ret: bigint;
  /** Time from syscall entry to exit, in ns. */
  readonly latencyNs: number;
  /**
   * A file mapping's file as the descriptor held it at the call's exit: its inode number and
   * device (the kernel's dev_t, major << 20 | minor); absent when unknown (the bpftrace engine).
   */
  readonly file?: { readonly inode: number; readonly device: number };
}

/**
 * One completed `munmap` call.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MunmapEvent } from "./faultline_event.ts";
 * const e: MunmapEvent = {
 *   kind: "munmap", pid: 1, tid: 1, timestampNs: 20, addr: 0x7f0000000000n, length: 8192,
 *   ret: 0, latencyNs: 900,
 * };
 * assert.equal(e.ret, 0);
 * ```
 */
export interface MunmapEvent extends EventBase {
  /** Always `"munmap"`. */
  readonly kind: "munmap";
  /** The `addr` argument. */
  readonly addr: bigint;
  /** The `length` argument in bytes. */
  readonly length: number;
  /** The return value: 0, or a negative errno. */
  readonly ret: number;
  /** Time from syscall entry to exit, in ns. */
  readonly latencyNs: number;
}

/**
 * One completed `mremap` call.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MremapEvent } from "./faultline_event.ts";
 * const e: MremapEvent = {
 *   kind: "mremap", pid: 1, tid: 1, timestampNs: 5, addr: 0x7f0000000000n, length: 8192,
 *   newLength: 16384, flags: 1, newAddr: 0n, ret: 0x7f0000100000n, latencyNs: 2100,
 * };
 * assert.ok(e.newLength > e.length);
 * ```
 */
export interface MremapEvent extends EventBase {
  /** Always `"mremap"`. */
  readonly kind: "mremap";
  /** The `old_address` argument. */
  readonly addr: bigint;
  /** The `old_size` argument in bytes. */
  readonly length: number;
  /** The `new_size` argument in bytes. */
  readonly newLength: number;
  /** The `flags` argument (MREMAP_* bits). */
  readonly flags: number;
  /** The `new_address` argument (with MREMAP_FIXED). */
  readonly newAddr: bigint;
  /** The return value: the new address, or a negative errno. */
  readonly ret: bigint;
  /** Time from syscall entry to exit, in ns. */
  readonly latencyNs: number;
}

/**
 * One completed `mprotect` call.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MprotectEvent } from "./faultline_event.ts";
 * const e: MprotectEvent = {
 *   kind: "mprotect", pid: 1, tid: 1, timestampNs: 6, addr: 0x7f0000000000n, length: 8192,
 *   prot: 1, ret: 0, latencyNs: 700,
 * };
 * assert.equal(e.prot, 1);
 * ```
 */
export interface MprotectEvent extends EventBase {
  /** Always `"mprotect"`. */
  readonly kind: "mprotect";
  /** The `addr` argument. */
  readonly addr: bigint;
  /** The `len` argument in bytes. */
  readonly length: number;
  /** The `prot` argument (PROT_* bits). */
  readonly prot: number;
  /** The return value: 0, or a negative errno. */
  readonly ret: number;
  /** Time from syscall entry to exit, in ns. */
  readonly latencyNs: number;
}

/**
 * One completed `madvise` call.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MadviseEvent } from "./faultline_event.ts";
 * const e: MadviseEvent = {
 *   kind: "madvise", pid: 1, tid: 1, timestampNs: 7, addr: 0x7f0000000000n, length: 8192,
 *   advice: 4, ret: 0, latencyNs: 900,
 * };
 * assert.equal(e.advice, 4); // MADV_DONTNEED
 * ```
 */
export interface MadviseEvent extends EventBase {
  /** Always `"madvise"`. */
  readonly kind: "madvise";
  /** The `addr` argument. */
  readonly addr: bigint;
  /** The `length` argument in bytes. */
  readonly length: number;
  /** The `advice` argument (MADV_*). */
  readonly advice: number;
  /** The return value: 0, or a negative errno. */
  readonly ret: number;
  /** Time from syscall entry to exit, in ns. */
  readonly latencyNs: number;
}

/**
 * One completed `brk` call.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BrkEvent } from "./faultline_event.ts";
 * const e: BrkEvent = { kind: "brk", pid: 1, tid: 1, timestampNs: 8, addr: 0n, ret: 0x55550000n, latencyNs: 400 };
 * assert.equal(e.addr, 0n, "brk(0) asks for the current break");
 * ```
 */
export interface BrkEvent extends EventBase {
  /** Always `"brk"`. */
  readonly kind: "brk";
  /** The requested break (0 asks for the current one). */
  readonly addr: bigint;
  /** The return value: the break after the call (unchanged when it failed). */
  readonly ret: bigint;
  /** Time from syscall entry to exit, in ns. */
  readonly latencyNs: number;
}

/**
 * One completed `msync` call.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MsyncEvent } from "./faultline_event.ts";
 * const e: MsyncEvent = {
 *   kind: "msync", pid: 1, tid: 1, timestampNs: 9, addr: 0x7f0000000000n, length: 8192,
 *   flags: 1, ret: 0, latencyNs: 600,
 * };
 * assert.equal(e.flags, 1); // MS_ASYNC
 * ```
 */
export interface MsyncEvent extends EventBase {
  /** Always `"msync"`. */
  readonly kind: "msync";
  /** The `addr` argument. */
  readonly addr: bigint;
  /** The `length` argument in bytes. */
  readonly length: number;
  /** The `flags` argument (MS_* bits). */
  readonly flags: number;
  /** The return value: 0, or a negative errno. */
  readonly ret: number;
  /** Time from syscall entry to exit, in ns. */
  readonly latencyNs: number;
}

/**
 * The access that faulted, from the error code's write and instruction-fetch bits.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeErrorCode, type FaultAccess } from "./faultline_event.ts";
 * const access: FaultAccess = decodeErrorCode(0x14).access;
 * assert.equal(access, "exec");
 * ```
 */
export type FaultAccess = "read" | "write" | "exec";
/**
 * Whether the CPU was in user or kernel mode, from the error code's user bit.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeErrorCode, type FaultMode } from "./faultline_event.ts";
 * const mode: FaultMode = decodeErrorCode(2).mode;
 * assert.equal(mode, "kernel");
 * ```
 */
export type FaultMode = "user" | "kernel";
/**
 * Why it faulted, from the error code's present bit.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeErrorCode, type FaultCause } from "./faultline_event.ts";
 * const cause: FaultCause = decodeErrorCode(7).cause;
 * assert.equal(cause, "protection");
 * ```
 */
export type FaultCause = "not_present" | "protection";

/**
 * An x86 page-fault error code, decoded.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DecodedErrorCode, decodeErrorCode } from "./faultline_event.ts";
 * const d: DecodedErrorCode = decodeErrorCode(7);
 * assert.deepEqual(d, { access: "write", mode: "user", cause: "protection" });
 * ```
 */
export interface DecodedErrorCode {
  /** read, write or exec (instruction fetch). */
  readonly access: FaultAccess;
  /** user or kernel mode. */
  readonly mode: FaultMode;
  /** not_present (no page) or protection (a page, wrong permissions). */
  readonly cause: FaultCause;
}

/**
 * One page fault as the CPU raised it (`exceptions:page_fault_user` or `_kernel`).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeErrorCode, type PageFaultEvent } from "./faultline_event.ts";
 * const e: PageFaultEvent = {
 *   kind: "page_fault_user", pid: 1, tid: 1, timestampNs: 30, address: 0x1000n, ip: 0x401000n,
 *   errorCode: 6, ...decodeErrorCode(6),
 * };
 * assert.equal(e.access, "write");
 * ```
 */
export interface PageFaultEvent extends EventBase, DecodedErrorCode {
  /** `"page_fault_user"` or `"page_fault_kernel"`: which tracepoint fired. */
  readonly kind: "page_fault_user" | "page_fault_kernel";
  /** The faulting address (CR2). */
  readonly address: bigint;
  /** The instruction pointer at the fault. */
  readonly ip: bigint;
  /** The raw x86 error code. */
  readonly errorCode: number;
}

/**
 * One fault the kernel has finished handling, from the `minor-faults` or `major-faults` perf
 * software event, paired with the page fault that preceded it on the same thread.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FaultDoneEvent } from "./faultline_event.ts";
 * const e: FaultDoneEvent = { kind: "minor_fault", pid: 1, tid: 1, timestampNs: 40, latencyNs: null };
 * assert.equal(e.latencyNs, null, "no page fault before it on its thread: unpaired");
 * ```
 */
export interface FaultDoneEvent extends EventBase {
  /** `"minor_fault"` or `"major_fault"`. */
  readonly kind: "minor_fault" | "major_fault";
  /** Time from the page_fault tracepoint to the end of handling, in ns; null if unpaired. */
  readonly latencyNs: number | null;
}

/**
 * A traced process forked a process (not a thread): `pid` and `tid` are the parent and the
 * thread that forked. With children followed, the child is traced from its first instruction.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProcessForkEvent } from "./faultline_event.ts";
 * const e: ProcessForkEvent = {
 *   kind: "process_fork", pid: 10, tid: 11, timestampNs: 5, child: 12, command: "make",
 * };
 * assert.equal(e.child, 12);
 * ```
 */
export interface ProcessForkEvent extends EventBase {
  /** Always `"process_fork"`. */
  readonly kind: "process_fork";
  /** The new process's id. */
  readonly child: number;
  /** Its command name (the kernel's comm, up to 15 bytes): the parent's, until it execs. */
  readonly command: string;
}

/**
 * A traced process completed an execve.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProcessExecEvent } from "./faultline_event.ts";
 * const e: ProcessExecEvent = { kind: "process_exec", pid: 12, tid: 12, timestampNs: 6, command: "cc1" };
 * assert.equal(e.command, "cc1");
 * ```
 */
export interface ProcessExecEvent extends EventBase {
  /** Always `"process_exec"`. */
  readonly kind: "process_exec";
  /** The command name after the exec (the kernel's comm). */
  readonly command: string;
}

/**
 * The last thread of a traced process exited.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitStatusOf, type ProcessExitEvent } from "./faultline_event.ts";
 * const e: ProcessExitEvent = {
 *   kind: "process_exit", pid: 12, tid: 12, timestampNs: 7, exitCode: 256, command: "cc1",
 * };
 * assert.equal(exitStatusOf(e.exitCode), 1);
 * ```
 */
export interface ProcessExitEvent extends EventBase {
  /** Always `"process_exit"`. */
  readonly kind: "process_exit";
  /** The kernel's exit code, as wait(2) reports it: `status << 8`, or the killing signal. */
  readonly exitCode: number;
  /** Its command name at exit. */
  readonly command: string;
}

/**
 * A wait(2) status as a shell says it: the exit status, or 128 + the signal that killed it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitStatusOf } from "./faultline_event.ts";
 * assert.equal(exitStatusOf(3 << 8), 3);
 * assert.equal(exitStatusOf(9), 137, "killed by SIGKILL");
 * ```
 */
export function exitStatusOf(waitStatus: number): number {
  const signal = waitStatus & 0x7f;
  return signal === 0 ? (waitStatus >> 8) & 0xff : 128 + signal;
}

/**
 * Any event an engine produces.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FaultlineEvent } from "./faultline_event.ts";
 * const events: FaultlineEvent[] = [
 *   { kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 700 },
 *   { kind: "munmap", pid: 1, tid: 1, timestampNs: 2, addr: 0n, length: 4096, ret: 0, latencyNs: 9 },
 * ];
 * assert.equal(events.filter((e) => e.kind === "munmap").length, 1);
 * ```
 */
export type FaultlineEvent =
  | MmapEvent
  | MunmapEvent
  | MremapEvent
  | MprotectEvent
  | MadviseEvent
  | BrkEvent
  | MsyncEvent
  | PageFaultEvent
  | FaultDoneEvent
  | ProcessForkEvent
  | ProcessExecEvent
  | ProcessExitEvent;

/** x86 page-fault error code bit: the page was present (a protection fault). */
export const PF_PROT = 1 << 0;
/** x86 page-fault error code bit: the access was a write. */
export const PF_WRITE = 1 << 1;
/** x86 page-fault error code bit: the access came from user mode. */
export const PF_USER = 1 << 2;
/** x86 page-fault error code bit: the access was an instruction fetch. */
export const PF_INSTR = 1 << 4;

/** The accesses, in the order {@link faultAccessIndex} numbers them. */
export const FAULT_ACCESSES: readonly FaultAccess[] = ["read", "write", "exec"];

/** The access of an error code as an index into {@link FAULT_ACCESSES}: 0 read, 1 write, 2 exec. */
export function faultAccessIndex(errorCode: number): number {
  return errorCode & PF_INSTR ? 2 : errorCode & PF_WRITE ? 1 : 0;
}

/** Whether an error code says the page was present: a protection fault. */
export function isProtectionFault(errorCode: number): boolean {
  return (errorCode & PF_PROT) !== 0;
}

/**
 * Decodes an x86 page-fault error code (arch/x86/include/asm/trap_pf.h) into access, mode and
 * cause.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeErrorCode } from "./faultline_event.ts";
 * assert.deepEqual(decodeErrorCode(6), { access: "write", mode: "user", cause: "not_present" });
 * ```
 */
export function decodeErrorCode(errorCode: number): DecodedErrorCode {
  return {
    access: FAULT_ACCESSES[faultAccessIndex(errorCode)]!,
    mode: errorCode & PF_USER ? "user" : "kernel",
    cause: isProtectionFault(errorCode) ? "protection" : "not_present",
  };
}

/**
 * Whether a syscall's 64-bit return value, given as its low and high 32-bit words, is an
 * error: -4095..-1, the kernel's -errno range (an mmap may return a high address, which is
 * not an error).
 */
export function isErrnoReturn(low: number, high: number): boolean {
  return (high | 0) === -1 && (low >>> 0) >= 0xfffff001;
}

/** {@link isErrnoReturn} for a small return value held as a number (0 or -errno). */
export function isErrnoInt(ret: number): boolean {
  return isErrnoReturn(ret >>> 0, ret < 0 ? -1 : 0);
}

/** {@link isErrnoReturn} for a return value held as a bigint. */
export function isErrnoValue(ret: bigint): boolean {
  return isErrnoReturn(Number(BigInt.asUintN(32, ret)), Number(BigInt.asIntN(32, ret >> 32n)));
}
