/**
 * A child process started with posix_spawn(3) and reaped with waitpid(2), through the FFI:
 * `Deno.Command` loads its module at the first use (7 ms of every trace here), cannot report a
 * stop, and throws on a child killed by a real-time signal ("Invalid signal: 37"); this gives
 * the raw wait status, stops included, and signals the child through a pidfd, which cannot reach
 * another process once the child is reaped and its pid reused.
 *
 * @module
 */

import { FaultlineError } from "./faultline_error.ts";
import { cString, libc, SIGNAL_NUMBERS, SYS } from "./libc.ts";

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
/** sizeof(posix_spawnattr_t) is 336 on x86-64 glibc, sizeof(sigset_t) 128: room for both. */
const ATTR_BYTES = 512;
const SIGSET_BYTES = 128;
const WUNTRACED = 2;
/** How many times a wait that fails (a signal on its thread) is tried again. */
const WAIT_TRIES = 100;

/** A NULL-terminated array of pointers to `strings`, and the buffers it points into. */
function cStrings(strings: readonly string[]): { array: Uint8Array; keep: Uint8Array[] } {
  const keep = strings.map(cString);
  const pointers = new BigUint64Array(keep.length + 1);
  keep.forEach((b, i) => pointers[i] = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b))));
  return { array: new Uint8Array(pointers.buffer), keep };
}

/**
 * Whether a wait(2) status says the process stopped (WIFSTOPPED).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStopStatus } from "./child_process.ts";
 * assert.equal(isStopStatus((19 << 8) | 0x7f), true, "stopped by SIGSTOP");
 * assert.equal(isStopStatus(0), false, "exited 0");
 * ```
 */
export function isStopStatus(status: number): boolean {
  return (status & 0xff) === 0x7f;
}

/**
 * A process this one started: its pid, its wait statuses, its signals.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ChildProcess } from "./child_process.ts";
 * const child = ChildProcess.spawn("/bin/sh", ["sh", "-c", "exit 3"]);
 * assert.equal(await child.wait(), 3 << 8, "exit 3, as wait(2) says it");
 * ```
 */
export class ChildProcess {
  /** Its pid. */
  readonly pid: number;
  #pidfd: number | null;
  #reaped = false;

  private constructor(pid: number) {
    this.pid = pid;
    // The child cannot be reaped yet (only wait() reaps it): its pid is still its own.
    const fd = Number(libc().syscall(SYS.pidfd_open, BigInt(pid), 0n, 0n, 0n));
    this.#pidfd = fd >= 0 ? fd : null;
  }

  /**
   * Starts `path` with `argv` (argv[0] included) and faultline's environment (as it is now,
   * every variable byte for byte), stdin, stdout and stderr, with no signal blocked and SIGPIPE
   * at its default (Deno ignores it), as `Deno.Command` starts one.
   *
   * @throws {FaultlineError} naming the path and errno if posix_spawn fails.
   */
  static spawn(path: string, argv: readonly string[]): ChildProcess {
    const c = libc();
    const args = cStrings(argv);
    const environ = new Deno.UnsafePointerView(c.environ as Deno.PointerObject).getPointer(0);
    const attr = new Uint8Array(ATTR_BYTES);
    const mask = new Uint8Array(SIGSET_BYTES);
    const defaults = new Uint8Array(SIGSET_BYTES);
    const pid = new Int32Array(1);
    c.posix_spawnattr_init(attr);
    try {
      c.sigemptyset(mask);
      c.sigemptyset(defaults);
      c.sigaddset(defaults, SIGNAL_NUMBERS.SIGPIPE!);
      c.posix_spawnattr_setsigmask(attr, mask);
      c.posix_spawnattr_setsigdefault(attr, defaults);
      c.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
      const error = c.posix_spawn(
        new Uint8Array(pid.buffer),
        cString(path),
        null,
        attr,
        args.array,
        environ,
      );
      if (error !== 0) {
        throw new FaultlineError(`Cannot start ${path}: posix_spawn failed with errno ${error}`);
      }
    } finally {
      c.posix_spawnattr_destroy(attr);
    }
    return new ChildProcess(pid[0]!);
  }

  /**
   * Waits (on a thread of Deno's pool) for the child to end, and reaps it; with `stopped`, also
   * for it to stop, without reaping it then. Resolves with the wait(2) status.
   *
   * @throws {FaultlineError} if waitpid keeps failing (the child reaped by someone else).
   */
  async wait(options: { stopped?: boolean } = {}): Promise<number> {
    const status = new Int32Array(1);
    const flags = options.stopped ? WUNTRACED : 0;
    for (let tries = 0; tries < WAIT_TRIES; tries++) {
      const pid = await libc().waitpid(this.pid, new Uint8Array(status.buffer), flags);
      if (pid !== this.pid) continue;
      if (!isStopStatus(status[0]!)) this.#reap();
      return status[0]!;
    }
    throw new FaultlineError(`Cannot wait for process ${this.pid}: waitpid keeps failing`);
  }

  /** Sends `signal`; does nothing once the child has been reaped. */
  kill(signal: Deno.Signal): void {
    const number = SIGNAL_NUMBERS[signal];
    if (number === undefined) {
      throw new FaultlineError(`Cannot send ${signal}: Linux has no such signal`);
    }
    if (this.#reaped) return;
    if (this.#pidfd !== null) {
      libc().syscall(SYS.pidfd_send_signal, BigInt(this.#pidfd), BigInt(number), 0n, 0n);
    } else libc().kill(this.pid, number);
  }

  #reap(): void {
    this.#reaped = true;
    if (this.#pidfd !== null) libc().close(this.#pidfd);
    this.#pidfd = null;
  }
}
