/**
 * Sleeping until a file descriptor is ready, without keeping the event loop busy: an epoll set
 * over the descriptors given (a ring-buffer map, which the probes wake; a pidfd, readable once
 * its process has exited) and an eventfd that {@link FdWaiter.interrupt} writes, waited on by a
 * thread of Deno's pool.
 *
 * @module
 */

import { FaultlineError } from "./faultline_error.ts";
import { errno, libc as lib, SYS } from "./libc.ts";

const EPOLL_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLLIN = 0x001;
const EPOLLET = 0x80000000;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
/** sizeof(struct epoll_event) on x86-64: packed, u32 events then u64 data. */
const EPOLL_EVENT = 12;

/**
 * A descriptor readable once process `pid` has exited (pidfd_open), or null when the kernel
 * has none for it (the process is gone already, or the kernel predates pidfds). Close it with
 * {@link closeFd}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeFd, pidFd } from "./fd_waiter.ts";
 * const fd = pidFd(Deno.pid);
 * assert.ok(fd !== null && fd >= 0);
 * closeFd(fd);
 * ```
 */
export function pidFd(pid: number): number | null {
  const fd = Number(lib().syscall(SYS.pidfd_open, BigInt(pid), 0n, 0n, 0n));
  return fd >= 0 ? fd : null;
}

/**
 * Closes a descriptor {@link pidFd} gave.
 *
 * @example Usage
 * ```ts
 * import { closeFd, pidFd } from "./fd_waiter.ts";
 * closeFd(pidFd(Deno.pid)!);
 * ```
 */
export function closeFd(fd: number): void {
  lib().close(fd);
}

/**
 * An epoll set over some descriptors and an interrupting eventfd.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FdWaiter } from "./fd_waiter.ts";
 * const waiter = new FdWaiter([]);
 * const t0 = performance.now();
 * const waited = waiter.wait(5000);
 * waiter.interrupt();
 * await waited;
 * assert.ok(performance.now() - t0 < 1000, "interrupted, not timed out");
 * await waiter.close();
 * ```
 */
export class FdWaiter {
  readonly #epoll: number;
  readonly #wake: number;
  readonly #events = new Uint8Array(EPOLL_EVENT * 4);
  #closed = false;
  #waiting: Promise<number> | null = null;

  /**
   * Watches `fds` for readability. With `edge`, a descriptor counts as ready only when its
   * state changes to ready (EPOLLET: a BPF ring is then ready when the kernel wakes its
   * readers, not whenever it holds records).
   *
   * @throws {FaultlineError} if epoll or the eventfd cannot be set up.
   */
  constructor(fds: readonly number[], options: { edge?: boolean } = {}) {
    const c = lib();
    const fail = (what: string) =>
      new FaultlineError(`Cannot ${what} to wait on: errno ${errno()}`);
    this.#epoll = c.epoll_create1(EPOLL_CLOEXEC);
    if (this.#epoll < 0) throw fail("make an epoll set");
    this.#wake = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (this.#wake < 0) {
      c.close(this.#epoll);
      throw fail("make an eventfd");
    }
    for (const fd of [...fds, this.#wake]) {
      const event = new Uint8Array(EPOLL_EVENT);
      const view = new DataView(event.buffer);
      view.setUint32(0, options.edge && fd !== this.#wake ? EPOLLIN | EPOLLET : EPOLLIN, true);
      view.setBigUint64(4, BigInt(fd), true);
      if (c.epoll_ctl(this.#epoll, EPOLL_CTL_ADD, fd, event) !== 0) {
        const error = fail(`watch fd ${fd}`);
        c.close(this.#epoll);
        c.close(this.#wake);
        throw error;
      }
    }
  }

  /**
   * Resolves when a watched descriptor is ready (at once if one is when called), when
   * {@link FdWaiter.interrupt} was called, or after `timeoutMs` (-1: no timeout), whichever
   * comes first.
   */
  async wait(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#waiting = lib().epoll_wait(
      this.#epoll,
      this.#events,
      4,
      timeoutMs < 0 ? -1 : Math.round(timeoutMs),
    );
    try {
      await this.#waiting;
    } finally {
      this.#waiting = null;
    }
  }

  /** Ends the wait in progress, and every later one, at once. */
  interrupt(): void {
    if (this.#closed) return;
    // The eventfd stays readable (it is never read): every wait from now returns at once.
    lib().write(this.#wake, new BigUint64Array([1n]), 8n);
  }

  /** Interrupts any wait, lets it return, then closes the epoll set and the eventfd. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.interrupt();
    await this.#waiting?.catch(() => {});
    this.#closed = true;
    lib().close(this.#epoll);
    lib().close(this.#wake);
  }
}
