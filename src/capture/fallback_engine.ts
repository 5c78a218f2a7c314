/**
 * An engine that prefers one engine and falls back to another when the first cannot run here.
 *
 * @module
 */

import type { AttachOptions, Capture, Engine, EventSink } from "./engine.ts";

/**
 * An engine that tries `primary` and, if it cannot run here (its preflight or its attach
 * fails), says why through `onFallback` and uses `fallback` instead. When the fallback cannot
 * run either, the primary's error is the one thrown, and nothing is said of falling back.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { FallbackEngine } from "./fallback_engine.ts";
 * import { BpftraceEngine } from "./bpftrace/bpftrace_engine.ts";
 * import { RingbufEngine } from "./ringbuf/ringbuf_engine.ts";
 * const told: string[] = [];
 * const engine = new FallbackEngine(
 *   new RingbufEngine({ object: "/nonexistent/faultline.bpf.o" }),
 *   new BpftraceEngine(),
 *   (reason, to) => told.push(`${reason} -> ${to}`),
 * );
 * assert.equal(engine.name, "ringbuf"); // until it has to fall back
 * ```
 */
export class FallbackEngine implements Engine {
  readonly #primary: Engine;
  readonly #fallback: Engine;
  readonly #onFallback: (reason: string, fallback: string) => void;
  #primaryOk = true;

  /** Makes an engine that prefers `primary`. */
  constructor(
    primary: Engine,
    fallback: Engine,
    onFallback: (reason: string, fallback: string) => void,
  ) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#onFallback = onFallback;
  }

  /** The primary's name: the one a trace uses unless it falls back. */
  get name(): string {
    return this.#primaryOk ? this.#primary.name : this.#fallback.name;
  }

  async #fallBack(primaryError: unknown): Promise<void> {
    try {
      await this.#fallback.preflight();
    } catch {
      throw primaryError;
    }
    this.#primaryOk = false;
    this.#onFallback(
      primaryError instanceof Error ? primaryError.message : String(primaryError),
      this.#fallback.name,
    );
  }

  /** Checks the primary; if it cannot run, checks the fallback. */
  async preflight(): Promise<void> {
    try {
      await this.#primary.preflight();
    } catch (e) {
      await this.#fallBack(e);
    }
  }

  /** Attaches the primary; if that fails, the fallback. */
  async attach(options: AttachOptions, sink: EventSink): Promise<Capture> {
    // What options.ready rejects with is the caller's failure, not the primary engine's.
    let notReady = false;
    options.ready?.catch(() => notReady = true);
    if (this.#primaryOk) {
      try {
        return await this.#primary.attach(options, sink);
      } catch (e) {
        if (notReady) throw e;
        await this.#fallBack(e);
      }
    }
    return this.#fallback.attach(options, sink);
  }
}
