/**
 * What every capture engine provides: attach probes to one process and stream its events, in
 * the one event model, into a sink, until stopped.
 *
 * @module
 */

import type { EventFolder, FaultlineEvent } from "./faultline_event.ts";

/** Where an engine delivers what it captures. */
export interface EventSink {
  /** One event, in the order the engine reads them. */
  event(event: FaultlineEvent): void;
  /**
   * When set, nothing needs event objects: an engine may fold each event into this instead of
   * calling {@link EventSink.event}, and skip making the object.
   */
  readonly folder?: EventFolder;
  /** The engine learned that `count` events were lost. */
  lost(count: number): void;
}

/** What to trace. */
export interface AttachOptions {
  /** The process (tgid) to trace, all of its threads. */
  pid: number;
  /**
   * Count nothing until the process calls execve: how a command faultline launched is traced
   * from its exec, the way `perf stat CMD` counts.
   */
  armOnExec: boolean;
}

/** Probes attached to one process. */
export interface Capture {
  /** The name of the engine that attached them (reports carry it). */
  readonly engine: string;
  /**
   * Detaches the probes, delivers every event still buffered, and resolves. Safe to call more
   * than once and after the engine has ended by itself.
   */
  stop(): Promise<void>;
  /**
   * Resolves when the engine has ended, whoever ended it; rejects if it failed on its own
   * (for example the bpftrace process died).
   */
  readonly ended: Promise<void>;
}

/** A capture engine. */
export interface Engine {
  /** The name reports carry: `"bpftrace"` or `"ringbuf"`. */
  readonly name: string;
  /**
   * Checks what the engine needs (privileges, tools, tracefs) and throws a
   * FaultlineError naming what is missing and the fix.
   */
  preflight(): Promise<void>;
  /** Attaches the probes; resolves once they are live, so no later event is missed. */
  attach(options: AttachOptions, sink: EventSink): Promise<Capture>;
}

/**
 * An engine that tries `primary` and, if it cannot run here (its preflight or its attach
 * fails), says why through `onFallback` and uses `fallback` instead. When the fallback cannot
 * run either, the primary's error is the one thrown, and nothing is said of falling back.
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
    if (this.#primaryOk) {
      try {
        return await this.#primary.attach(options, sink);
      } catch (e) {
        await this.#fallBack(e);
      }
    }
    return this.#fallback.attach(options, sink);
  }
}
