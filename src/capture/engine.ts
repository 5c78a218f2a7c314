/**
 * What every capture engine provides: attach probes to one process and stream its events, in
 * the one event model, into a sink, until stopped.
 *
 * @module
 */

import type { KindStore } from "../events/event_kind.ts";
import type { FaultlineEvent } from "../events/faultline_event.ts";
import type { FileName } from "../events/file_path_record.ts";
import type { ExecMapping } from "../events/exec_mapping_record.ts";

/**
 * Where an engine delivers what it captures.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventSink } from "./engine.ts";
 * const seen: string[] = [];
 * const sink: EventSink = { event: (e) => void seen.push(e.kind), lost() {} };
 * sink.event({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 0, latencyNs: 5 });
 * assert.deepEqual(seen, ["minor_fault"]);
 * ```
 */
export interface EventSink {
  /** One event, in the order the engine reads them. */
  event(event: FaultlineEvent): void;
  /**
   * When set, nothing needs event objects: an engine may fold each event straight into this
   * store (as the kind definitions fold) instead of calling {@link EventSink.event}.
   */
  readonly folder?: KindStore;
  /**
   * With {@link EventSink.folder}: called with each record after it is folded (each of the
   * records one ring record holds: a fault and its completion travel together), for what the
   * folder does not fold itself (the aggregation's per-process and per-mapping tables, the
   * events CSV's rows).
   */
  readonly recordTap?: (view: DataView, at: number) => void;
  /** The engine learned that `count` events were lost. */
  lost(count: number): void;
  /**
   * A file a traced mmap mapped, named by the kernel, told before that mmap's event (the
   * ringbuf engine, for the first mmap of a file in a while): what names the mapping when the
   * process or its descriptor is gone by the time the mmap is read.
   */
  fileName?(file: FileName): void;
  /**
   * A mapping the kernel made at an exec (the program, its interpreter, the stack, the vdso),
   * told before that exec's event, each file's {@link EventSink.fileName} before its first
   * (the ringbuf engine): what names the process's faults when it is gone by the time its
   * exec is read.
   */
  execMapping?(mapping: ExecMapping): void;
}

/**
 * What to trace.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AttachOptions } from "./engine.ts";
 * const options: AttachOptions = { pid: 42, armOnExec: false };
 * assert.equal(options.pid, 42);
 * ```
 */
export interface AttachOptions {
  /** The process (tgid) to trace, all of its threads; 0 with `cgroup` or `all`. */
  pid: number;
  /**
   * Trace every process a traced one forks, from before its first instruction, as
   * `perf stat` and `strace -f` do (default true); false traces `pid` alone.
   */
  children?: boolean;
  /** Trace every process in this cgroup v2 directory (and, where the engine can, below it). */
  cgroup?: CgroupTarget;
  /** Trace every process on the system but faultline itself. */
  all?: boolean;
  /**
   * Count nothing until the process calls execve: how a command faultline launched is traced
   * from its exec, the way `perf stat CMD` counts.
   */
  armOnExec: boolean;
  /**
   * Attach only once this has resolved; the engine may get ready before (the ringbuf engine
   * loads its probes meanwhile). If it rejects, the engine frees what it made and rejects with
   * its error. How a command's launcher execs while the probes load, with the probes attached
   * only once it has stopped before the command's exec.
   */
  ready?: Promise<unknown>;
}

/**
 * A cgroup v2 directory to trace, as the kernel knows it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CgroupTarget } from "./engine.ts";
 * const cgroup: CgroupTarget = {
 *   path: "/sys/fs/cgroup/unified/ci", id: 2345, level: 1, hasChildren: false,
 * };
 * assert.equal(cgroup.level, 1);
 * ```
 */
export interface CgroupTarget {
  /** The directory. */
  path: string;
  /** Its cgroup id (the directory's inode number). */
  id: number;
  /** Its depth below the hierarchy's root (the root is 0). */
  level: number;
  /** Whether it has cgroups below it. */
  hasChildren: boolean;
}

/**
 * Probes attached to one process.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Capture } from "./engine.ts";
 * const capture: Capture = {
 *   engine: "fake",
 *   drain: () => Promise.resolve(),
 *   stop: () => Promise.resolve(),
 *   ended: Promise.resolve(),
 * };
 * await capture.stop();
 * assert.equal(capture.engine, "fake");
 * ```
 */
export interface Capture {
  /** The name of the engine that attached them (reports carry it). */
  readonly engine: string;
  /**
   * Delivers every event the kernel has handed the engine so far, without stopping: after it
   * resolves, the sink has seen everything that happened before the call.
   */
  drain(): Promise<void>;
  /** How full the engine's buffer is, 0 to 1, where it can tell (the ringbuf engine's ring). */
  fill?(): number;
  /**
   * Calls `callback` once, synchronously, just before the engine next hands the sink anything
   * (events, records or a loss), whichever path delivers it ({@link Capture.drain}, its own
   * reading, {@link Capture.stop}); a second call replaces the first callback. Where an engine
   * has it, a session can stop its interval clock while nothing comes and set it right before
   * the next event counts. Not every engine has it (bpftrace's does not).
   */
  onNextDelivery?(callback: () => void): void;
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

/**
 * A capture engine.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Capture, Engine } from "./engine.ts";
 * const capture: Capture = {
 *   engine: "fake",
 *   drain: () => Promise.resolve(),
 *   stop: () => Promise.resolve(),
 *   ended: Promise.resolve(),
 * };
 * const engine: Engine = {
 *   name: "fake",
 *   preflight: () => Promise.resolve(),
 *   attach: () => Promise.resolve(capture),
 * };
 * await engine.preflight();
 * const attached = await engine.attach({ pid: 1, armOnExec: false }, { event() {}, lost() {} });
 * assert.equal(attached.engine, "fake");
 * ```
 */
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
