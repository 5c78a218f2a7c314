/**
 * The one event model every capture engine produces: a typed record per kernel event.
 *
 * Times are the kernel's CLOCK_MONOTONIC in nanoseconds (bpftrace's `nsecs`,
 * `bpf_ktime_get_ns()`). Addresses are `bigint` because kernel addresses do not fit in a
 * double.
 *
 * @module
 */

/** The kinds of event, named as the JSON report's `counts` keys name them. */
export type EventKind =
  | "mmap"
  | "munmap"
  | "page_fault_user"
  | "page_fault_kernel"
  | "minor_fault"
  | "major_fault";

/** Fields every event carries. */
export interface EventBase {
  /** What happened. */
  readonly kind: EventKind;
  /** Process id (tgid) of the traced process. */
  readonly pid: number;
  /** Thread id the event happened on. */
  readonly tid: number;
  /** Kernel monotonic time of the event in ns (for syscalls: their exit). */
  readonly timestampNs: number;
}

/** One completed `mmap` call: its arguments, return value and latency. */
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
}

/** One completed `munmap` call. */
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

/** The access that faulted, from the error code's write and instruction-fetch bits. */
export type FaultAccess = "read" | "write" | "exec";
/** Whether the CPU was in user or kernel mode, from the error code's user bit. */
export type FaultMode = "user" | "kernel";
/** Why it faulted, from the error code's present bit. */
export type FaultCause = "not_present" | "protection";

/** An x86 page-fault error code, decoded. */
export interface DecodedErrorCode {
  /** read, write or exec (instruction fetch). */
  readonly access: FaultAccess;
  /** user or kernel mode. */
  readonly mode: FaultMode;
  /** not_present (no page) or protection (a page, wrong permissions). */
  readonly cause: FaultCause;
}

/** One page fault as the CPU raised it (`exceptions:page_fault_user` or `_kernel`). */
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
 */
export interface FaultDoneEvent extends EventBase {
  /** `"minor_fault"` or `"major_fault"`. */
  readonly kind: "minor_fault" | "major_fault";
  /** Time from the page_fault tracepoint to the end of handling, in ns; null if unpaired. */
  readonly latencyNs: number | null;
}

/** Any event an engine produces. */
export type FaultlineEvent = MmapEvent | MunmapEvent | PageFaultEvent | FaultDoneEvent;

/**
 * Takes events field by field, with no object per event: all that counting and histograms
 * need. An engine that decodes binary records folds them straight into one of these when
 * nothing downstream needs the event objects (see EventSink.folder).
 */
export interface EventFolder {
  /** One completed mmap. */
  foldMmap(length: number, latencyNs: number, failed: boolean): void;
  /** One completed munmap. */
  foldMunmap(latencyNs: number, failed: boolean): void;
  /** One page fault; `kernel` for page_fault_kernel. */
  foldPageFault(kernel: boolean, errorCode: number): void;
  /** One handled fault; latency null when unpaired. */
  foldFaultDone(major: boolean, latencyNs: number | null): void;
}

/** x86 page-fault error code bit: the page was present (a protection fault). */
export const PF_PROT = 1 << 0;
/** x86 page-fault error code bit: the access was a write. */
export const PF_WRITE = 1 << 1;
/** x86 page-fault error code bit: the access came from user mode. */
export const PF_USER = 1 << 2;
/** x86 page-fault error code bit: the access was an instruction fetch. */
export const PF_INSTR = 1 << 4;

/**
 * Decodes an x86 page-fault error code (arch/x86/include/asm/trap_pf.h) into access, mode and
 * cause.
 *
 * @example Usage
 * ```ts
 * import { decodeErrorCode } from "./faultline_event.ts";
 * decodeErrorCode(6); // { access: "write", mode: "user", cause: "not_present" }
 * ```
 */
export function decodeErrorCode(errorCode: number): DecodedErrorCode {
  return {
    access: errorCode & PF_INSTR ? "exec" : errorCode & PF_WRITE ? "write" : "read",
    mode: errorCode & PF_USER ? "user" : "kernel",
    cause: errorCode & PF_PROT ? "protection" : "not_present",
  };
}
