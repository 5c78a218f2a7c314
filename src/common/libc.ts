/**
 * The C library's calls faultline makes itself (waiting on descriptors, sleeping, starting and
 * reaping a process, signalling it; re-executing the CLI with its V8 flags; mapping a ring,
 * opening perf events, bpf(2) and reading libbpf's log for the ringbuf engine), bound once
 * through Deno's FFI, with the x86-64 Linux constants they take. Waiting calls are bound
 * `nonblocking`: they run on a thread of Deno's pool while the event loop goes on. faultline
 * sleeps and waits here rather than on Deno's timers or `Deno.Command`: Deno's first
 * `setTimeout` loads Node's timers (13-20 ms here) and its first `Deno.Command` its process
 * module (7 ms), both on the way to every trace.
 *
 * @module
 */

const SYMBOLS = {
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  // syscall(2) is variadic; the calls made through it take integer arguments, in the same
  // registers.
  syscall: { parameters: ["i64", "i64", "i64", "i64", "i64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
  usleep: { parameters: ["u32"], result: "i32", nonblocking: true },
  kill: { parameters: ["i32", "i32"], result: "i32" },
  execv: { parameters: ["buffer", "buffer"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32", nonblocking: true },
  posix_spawn: {
    parameters: ["buffer", "buffer", "pointer", "buffer", "buffer", "pointer"],
    result: "i32",
  },
  posix_spawnattr_init: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_destroy: { parameters: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { parameters: ["buffer", "i16"], result: "i32" },
  posix_spawnattr_setsigmask: { parameters: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigdefault: { parameters: ["buffer", "buffer"], result: "i32" },
  sigemptyset: { parameters: ["buffer"], result: "i32" },
  sigaddset: { parameters: ["buffer", "i32"], result: "i32" },
  strerror: { parameters: ["i32"], result: "pointer" },
  vsnprintf: { parameters: ["buffer", "usize", "pointer", "pointer"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  // ioctl(2) is variadic; the perf event ioctls pass an integer.
  ioctl: { parameters: ["i32", "u64", "u64"], result: "i32" },
  // perf_event_open(attr, pid, cpu, group_fd, flags) through syscall(2).
  syscall_perf: {
    name: "syscall",
    parameters: ["i64", "buffer", "i32", "i32", "i32", "u64"],
    result: "i64",
  },
  // bpf(cmd, attr, size) through syscall(2).
  syscall_bpf: { name: "syscall", parameters: ["i64", "i64", "buffer", "u64"], result: "i64" },
  // The address of `char **environ`: read it for the environment as it is now, bytes as they
  // are (Deno.env.toObject() drops a variable that is not UTF-8).
  environ: { type: "pointer" },
} as const;

/** libc's functions that faultline binds. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let bound: Libc | null = null;

/** libc, opened at the first call. */
export function libc(): Libc {
  return bound ??= Deno.dlopen("libc.so.6", SYMBOLS).symbols;
}

/** The calling thread's errno (meaningful only right after a call on the main thread). */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/**
 * A NUL-terminated C string for a `buffer` parameter.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { cString } from "./libc.ts";
 * assert.deepEqual([...cString("ab")], [0x61, 0x62, 0]);
 * ```
 */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s + "\0");
}

/** syscall(2) numbers on x86-64. */
export const SYS = { pidfd_send_signal: 424n, pidfd_open: 434n } as const;

/**
 * Linux's signal numbers by Deno's names (x86-64; SIGPOLL is SIGIO, SIGUNUSED SIGSYS). Deno
 * names three that Linux has not: SIGBREAK, SIGEMT and SIGINFO.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { SIGNAL_NUMBERS } from "./libc.ts";
 * assert.equal(SIGNAL_NUMBERS.SIGKILL, 9);
 * assert.equal(SIGNAL_NUMBERS.SIGTERM, 15);
 * assert.equal(SIGNAL_NUMBERS.SIGINFO, undefined);
 * ```
 */
export const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  SIGUNUSED: 31,
};
