/**
 * Sleeping and calling back later on a thread of Deno's pool (an epoll wait with a timeout)
 * instead of Deno's `setTimeout`: Deno 2.9's timers are Node's, and the first one loads them and
 * Node's compatibility layer (13-20 ms of main-thread CPU here), on the way to every trace.
 *
 * @module
 */

import { FdWaiter } from "./fd_waiter.ts";
import { libc } from "./libc.ts";

/** The longest wait epoll_wait takes (an int of ms); longer ones go in steps. */
const MAX_WAIT_MS = 2 ** 31 - 1;

/**
 * Resolves after `ms` milliseconds (at most 2^32 / 1000 of them), sleeping on a thread of
 * Deno's pool; it cannot be cut short: for a wait that can, use {@link Timer}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./timer.ts";
 * const t0 = performance.now();
 * await sleep(20);
 * assert.ok(performance.now() - t0 >= 19);
 * ```
 */
export async function sleep(ms: number): Promise<void> {
  await libc().usleep(Math.min(Math.max(0, Math.round(ms * 1000)), 2 ** 32 - 1));
}

/** Options for {@link Timer}. */
export interface TimerOptions {
  /** Call back every `ms` until cancelled, not once. */
  repeat?: boolean;
  /**
   * With `repeat`: the first call after this many ms (0 or more), then every `ms` (to keep a
   * clock's phase when it starts again mid-period); default `ms`.
   */
  firstMs?: number;
}

/**
 * Calls `callback` once after `ms` milliseconds (any number of them: long waits go in steps
 * toward the deadline), or every `ms` with `repeat` (a call that runs late does not make the
 * next ones early: missed calls are skipped, not bunched), until {@link Timer.cancel}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timer } from "./timer.ts";
 * let calls = 0;
 * const timer = new Timer(() => calls++, 10, { repeat: true });
 * await new Promise<void>((resolve) => new Timer(resolve, 55));
 * await timer.cancel();
 * assert.ok(calls >= 3 && calls <= 6, `${calls} calls in 55 ms`);
 * ```
 */
export class Timer {
  readonly #waiter = new FdWaiter([]);
  #cancelled = false;
  /** Settles when the timer has called back for the last time; rejects with its error. */
  readonly done: Promise<void>;

  /**
   * Starts the timer. An error `callback` throws ends it and rejects {@link Timer.done}.
   *
   * @throws {RangeError} if a repeating timer's `ms` is less than 1.
   * @throws {FaultlineError} if its epoll set cannot be made.
   */
  constructor(callback: () => void, ms: number, options: TimerOptions = {}) {
    if (options.repeat && !(ms >= 1)) {
      throw new RangeError(`Cannot repeat a timer every ${ms} ms; give 1 ms or more`);
    }
    const first = Math.max(0, options.repeat ? options.firstMs ?? ms : ms);
    this.done = this.#run(callback, Math.max(0, ms), first, options.repeat === true);
  }

  async #run(callback: () => void, ms: number, first: number, repeat: boolean): Promise<void> {
    try {
      let due = performance.now() + first;
      while (true) {
        for (let left = due - performance.now(); left > 0; left = due - performance.now()) {
          if (this.#cancelled) return;
          await this.#waiter.wait(Math.min(Math.ceil(left), MAX_WAIT_MS));
        }
        if (this.#cancelled) return;
        callback();
        if (!repeat) return;
        const now = performance.now();
        due += ms;
        if (due <= now) due = now + ms;
      }
    } finally {
      await this.#waiter.close();
    }
  }

  /** Stops the timer: no call after this one; resolves once its wait has ended. */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    this.#waiter.interrupt();
    await this.done.catch(() => {});
  }
}
