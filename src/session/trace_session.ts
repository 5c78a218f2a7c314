/**
 * One trace from start to report: check the target, attach the caller's engine, stream events
 * into the aggregation (and the events CSV), stop on target exit, duration or abort, and
 * report.
 *
 * @module
 */

import { Aggregator } from "../aggregate/aggregator.ts";
import type { Report } from "../aggregate/report.ts";
import { type IntervalSample, Timeline } from "../aggregate/timeline.ts";
import type { Capture, Engine } from "../capture/engine.ts";
import { FaultlineError, usageError } from "../common/faultline_error.ts";
import { EVENT_KINDS, type EventKindTable } from "../events/event_kinds.ts";
import type { FaultlineEvent } from "../events/faultline_event.ts";
import { escapeText } from "../common/escape_text.ts";
import { EventsCsvWriter } from "../output/events_csv_writer.ts";
import { OutputFile } from "../output/output_file.ts";
import { LaunchedCommand } from "./launched_command.ts";
import { isAlive, processParentAndName } from "../common/process_state.ts";
import { closeFd, FdWaiter, pidFd } from "../common/fd_waiter.ts";
import { Timer } from "../common/timer.ts";
import { IntervalClock } from "./interval_clock.ts";
import { MappingTable } from "../aggregate/mapping_table.ts";
import { ProcessTable } from "../aggregate/process_table.ts";
import { procMappingSource } from "./proc_maps.ts";
import { resolveCgroup } from "./cgroup_target.ts";
import type { CgroupTarget } from "../capture/engine.ts";

/**
 * Options for {@link trace}. Give exactly one of `pid` and `command`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TraceOptions } from "./trace_session.ts";
 * import { BpftraceEngine } from "../capture/bpftrace/bpftrace_engine.ts";
 * const options: TraceOptions = {
 *   command: ["./build/mmap_touch", "10", "2"],
 *   engine: new BpftraceEngine(),
 *   durationSeconds: 5,
 * };
 * assert.equal(options.pid, undefined);
 * ```
 */
export interface TraceOptions {
  /** Trace this running process (all of its threads). */
  pid?: number;
  /** Launch this command (program and arguments) and trace it from its exec. */
  command?: string[];
  /** Trace every process in this cgroup v2 directory (a path, or one below a cgroup2 mount). */
  cgroup?: string;
  /** Trace every process on the system but faultline. */
  all?: boolean;
  /**
   * With `pid` or `command`: trace what it forks too, at any depth, as perf stat and strace -f
   * count (default true).
   */
  children?: boolean;
  /** Stop after this many seconds. */
  durationSeconds?: number;
  /**
   * The capture engine: `makeEngine()` gives the ringbuf engine falling back to bpftrace, or
   * name one.
   */
  engine: Engine;
  /** The kinds to aggregate and write; every kind faultline has by default. */
  kinds?: EventKindTable;
  /**
   * The aggregation to fold into (by default a new one of `kinds` with the per-process and
   * per-mapping tables, see {@link attributionTables}): give your own to read it while tracing
   * goes on, as the metrics endpoint does.
   */
  aggregator?: Aggregator;
  /** The length of one interval of the timeline, in seconds (at least 0.1); default 1. */
  intervalSeconds?: number;
  /**
   * Called at the end of each interval, once the engine has delivered every event of it, and
   * once more for the last, partial, interval after tracing stops.
   */
  onInterval?: (sample: IntervalSample, aggregator: Aggregator, capture: Capture) => void;
  /** Called with the running total each time the engine reports lost events. */
  onLost?: (total: number) => void;
  /** Stream one CSV row per event to this file. */
  eventsCsv?: string;
  /** Called for every event, after it is aggregated. */
  onEvent?: (event: FaultlineEvent) => void;
  /**
   * For a command: where its stdout and stderr go (a file, appended to), its stdin then being
   * /dev/null; by default it keeps faultline's.
   */
  commandOutput?: string;
  /** Told what faultline decided for the user (a thread id traced as its process...). */
  onNotice?: (message: string) => void;
  /** Told when an output fails while tracing (the events CSV on a full disk); tracing goes on. */
  onOutputError?: (error: FaultlineError) => void;
  /**
   * Aborting it after `signal` (a second Ctrl-C) kills a command that has not exited after
   * its stop signal.
   */
  forceStop?: AbortSignal;
  /** Called once the probes are attached (and, for a command, just before it runs). */
  onAttached?: (pid: number) => void;
  /** Aborting stops the trace the way the target exiting does: probes detached, report whole. */
  signal?: AbortSignal;
  /**
   * For a command: the signal it is sent if tracing stops (duration or abort) while it still
   * runs; default SIGTERM, null to leave it running.
   */
  stopCommandWith?: Deno.Signal | null;
}

/** How often a traced pid is checked for having exited where there is no pidfd, in ms. */
const PID_POLL_MS = 50;

/**
 * Throws a usage FaultlineError unless `pid` is a pid: a positive safe integer. `shown` is how
 * the message names the value (the CLI quotes what was typed).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPid } from "./trace_session.ts";
 * checkPid(1);
 * assert.throws(() => checkPid(0), /Cannot trace pid 0: a pid is a positive integer/);
 * ```
 */
export function checkPid(pid: number, shown: string = String(pid)): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw usageError(`Cannot trace pid ${shown}: a pid is a positive integer`);
  }
}

/**
 * Throws a usage FaultlineError unless `seconds` is a duration to trace for: a positive
 * finite number. `shown` is how the message names the value.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkDuration } from "./trace_session.ts";
 * checkDuration(0.5);
 * assert.throws(() => checkDuration(-1), /Cannot trace for -1 seconds/);
 * ```
 */
export function checkDuration(seconds: number, shown: string = String(seconds)): void {
  if (!(seconds > 0 && seconds <= MAX_DURATION_SECONDS)) {
    throw usageError(
      `Cannot trace for ${shown} seconds: --duration takes a positive number of seconds up to ${MAX_DURATION_SECONDS} (a year)`,
    );
  }
}

/** The longest --duration: a year. */
export const MAX_DURATION_SECONDS = 366 * 24 * 3600;

/**
 * Throws a usage FaultlineError unless `seconds` is an interval length faultline takes: a
 * finite number from 0.1 up.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkInterval } from "./trace_session.ts";
 * checkInterval(0.1);
 * assert.throws(() => checkInterval(0.05), /--interval takes a number of seconds from 0.1/);
 * ```
 */
export function checkInterval(seconds: number, shown: string = String(seconds)): void {
  if (!(seconds >= MIN_INTERVAL_SECONDS && Number.isFinite(seconds))) {
    throw usageError(
      `Cannot draw every ${shown} seconds: --interval takes a number of seconds from ${MIN_INTERVAL_SECONDS} up`,
    );
  }
}

const MIN_INTERVAL_SECONDS = 0.1;

/**
 * Traces one process and returns its report.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { trace } from "./trace_session.ts";
 * import type { Engine } from "../capture/engine.ts";
 * // An engine that delivers one handled fault and ends: how a test stands in for the kernel.
 * const engine: Engine = {
 *   name: "fake",
 *   preflight: () => Promise.resolve(),
 *   attach(_options, sink) {
 *     sink.event({ kind: "minor_fault", pid: Deno.pid, tid: Deno.pid, timestampNs: 1, latencyNs: 700 });
 *     return Promise.resolve({
 *       engine: "fake",
 *       drain: () => Promise.resolve(),
 *       stop: () => Promise.resolve(),
 *       ended: Promise.resolve(),
 *     });
 *   },
 * };
 * const report = await trace({ pid: Deno.pid, engine });
 * assert.equal(report.counts.minor_faults, 1);
 * assert.equal(report.histograms.fault_latency_ns.max, 700);
 * ```
 */
export async function trace(options: TraceOptions): Promise<Report> {
  const { command, engine } = options;
  const targets = [options.pid, command, options.cgroup, options.all || undefined]
    .filter((t) => t !== undefined).length;
  if (targets !== 1) {
    throw usageError(
      "Cannot trace: give exactly one of a pid (--pid PID), a cgroup (--cgroup PATH), the " +
        "whole system (--all) or a command (-- CMD ARGS...)",
    );
  }
  const cgroup: CgroupTarget | undefined = options.cgroup === undefined
    ? undefined
    : resolveCgroup(options.cgroup);
  const all = options.all === true;
  const children = options.children ?? true;
  const duration = options.durationSeconds;
  if (duration !== undefined) checkDuration(duration);
  const intervalSeconds = options.intervalSeconds ?? 1;
  checkInterval(intervalSeconds);
  const pid = options.pid === undefined ? undefined : processOf(options.pid, options.onNotice);
  if (options.eventsCsv !== undefined) OutputFile.check(options.eventsCsv, "the events CSV");
  // Checked here, not left to the launcher's shell: it would say so in its words, then exit.
  if (command !== undefined && options.commandOutput !== undefined) {
    OutputFile.check(options.commandOutput, "the command's output");
  }
  await engine.preflight();

  // The launcher execs (setpriv, sh) while the probes load; they attach once it has stopped.
  const launched = command !== undefined
    ? LaunchedCommand.spawn(command, { output: options.commandOutput })
    : null;
  const targetPid = launched?.pid ?? pid ?? 0;
  const kinds = options.kinds ?? EVENT_KINDS;
  const aggregator = options.aggregator ?? new Aggregator(kinds, attributionTables(kinds));
  // From the empty aggregation: an engine may deliver events as soon as it is attached.
  const timeline = new Timeline(aggregator);
  // Rows wait in memory until the probes are attached: a trace that fails to start leaves an
  // existing file as it was.
  const csv = options.eventsCsv === undefined
    ? null
    : new EventsCsvWriter(options.eventsCsv, { kinds, onError: options.onOutputError });
  const onEvent = options.onEvent;
  let capture: Capture;
  try {
    capture = await engine.attach({
      pid: targetPid,
      armOnExec: launched !== null,
      children,
      cgroup,
      all,
      ready: launched?.stopped,
    }, {
      event(e) {
        aggregator.add(e);
        csv?.write(e);
        onEvent?.(e);
      },
      lost(n) {
        aggregator.addLost(n);
        options.onLost?.(aggregator.lost);
      },
      fileName(file) {
        aggregator.mappings?.nameFile(file);
      },
      execMapping(mapping) {
        aggregator.mappings?.execMapping(mapping);
      },
      // With no one to see the event objects, engines may fold records straight in (the
      // events CSV formats its rows from the records too).
      folder: onEvent === undefined ? aggregator : undefined,
      recordTap: recordTaps(aggregator.recordTap(), csv),
    });
    csv?.open();
  } catch (e) {
    if (launched) {
      launched.kill("SIGKILL");
      await launched.exited;
    }
    throw e;
  }

  const startedAt = new Date();
  const t0 = performance.now();
  const sinceStart = () => Math.round((performance.now() - t0) * 1e6);
  // A running process's mappings, read while it surely lives.
  if (launched === null && targetPid > 0) aggregator.mappings?.prime(targetPid);
  let stopReason: string;
  let clock: IntervalClock | undefined;
  try {
    options.onAttached?.(targetPid);
    launched?.resume();
    // One interval after another: drain what the engine holds, then measure. Always measured:
    // the report's intervals do not depend on anyone watching them.
    const onInterval = options.onInterval;
    clock = new IntervalClock({
      everyMs: intervalSeconds * 1000,
      timeline,
      capture,
      now: sinceStart,
      onInterval: onInterval && ((sample) => onInterval(sample, aggregator, capture)),
    });
    stopReason = await waitForStop(options, launched, targetPid, capture);
  } catch (e) {
    // Whatever went wrong, nothing is left behind: probes detached, the command ended.
    await clock?.stop(sinceStart()).catch(() => {});
    await capture.stop().catch(() => {});
    csv?.close();
    if (launched) {
      launched.kill("SIGKILL");
      await launched.exited;
    }
    throw e;
  }

  const durationNs = sinceStart();
  await clock!.stop(durationNs);
  await capture.stop();
  csv?.close();
  if (clock!.error !== null) throw clock!.error;
  clock!.finish();
  const last = timeline.tick(durationNs);
  options.onInterval?.(last, aggregator, capture);

  let exitStatus: number | null = null;
  if (launched) {
    const stopWith = options.stopCommandWith === undefined ? "SIGTERM" : options.stopCommandWith;
    if (stopReason !== "target_exited" && stopWith !== null) {
      launched.kill(stopWith);
      exitStatus = await waitForCommand(launched, stopWith, options);
    } else exitStatus = await launched.exited;
  }
  return {
    ...aggregator.report({
      engine: capture.engine,
      target: {
        pid: targetPid,
        command: command ?? null,
        ...(cgroup ? { cgroup: cgroup.path } : {}),
        ...(all ? { all: true } : { children }),
      },
      startedAt,
      durationNs,
      stopReason,
      exitStatus,
    }),
    intervals: [...timeline.intervals],
  };
}

/**
 * The tables a trace keeps beside its totals: events per process (named from /proc when not
 * seen forking) and faults per mapping (names from /proc/PID/maps and map_files).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { attributionTables } from "./trace_session.ts";
 * const aggregator = new Aggregator(undefined, attributionTables());
 * assert.ok(aggregator.recordTap() !== null, "its tables take ring records too");
 * ```
 */
export function attributionTables(
  kinds: EventKindTable = EVENT_KINDS,
): { processes: ProcessTable; mappings: MappingTable } {
  return {
    processes: new ProcessTable({ kinds, describe: processParentAndName }),
    mappings: new MappingTable({ source: procMappingSource }),
  };
}

/** What sees each ring record after the aggregation folds it: its tables, the events CSV. */
function recordTaps(
  tables: ((view: DataView, at: number) => void) | null,
  csv: EventsCsvWriter | null,
): ((view: DataView, at: number) => void) | undefined {
  if (csv === null) return tables ?? undefined;
  if (tables === null) return (view, at) => void csv.writeRecord(view, at);
  return (view, at) => {
    tables(view, at);
    csv.writeRecord(view, at);
  };
}

/**
 * The process `pid` names: itself, or, for a thread's id, the process it belongs to (said
 * through `onNotice`).
 *
 * @throws {FaultlineError} when there is no such process, or it is a kernel thread.
 */
function processOf(pid: number, onNotice?: (message: string) => void): number {
  checkPid(pid);
  const status = readStatus(pid);
  if (status === null || !isAlive(pid)) {
    throw new FaultlineError(
      `Cannot trace pid ${pid}: no such process; check it with ps -p ${pid}`,
    );
  }
  const name = status.get("Name") ?? "?";
  if (status.get("Kthread") === "1" || isKernelThread(pid)) {
    throw new FaultlineError(
      `Cannot trace pid ${pid} (${name}): it is a kernel thread, which has no user address ` +
        `space to map or fault in; give the pid of a user process`,
    );
  }
  const tgid = Number(status.get("Tgid"));
  if (Number.isSafeInteger(tgid) && tgid > 0 && tgid !== pid) {
    onNotice?.(
      `faultline: ${pid} is a thread of process ${tgid} (${
        escapeText(name)
      }); tracing the whole process`,
    );
    return tgid;
  }
  return pid;
}

/** /proc/PID/status as a map of its fields, or null when the process is gone. */
function readStatus(pid: number): Map<string, string> | null {
  try {
    // /proc/PID/status also answers for a thread id that is not a process (Tgid tells).
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    return new Map(
      text.split("\n").map((l) => {
        const colon = l.indexOf(":");
        return [l.slice(0, colon), l.slice(colon + 1).trim()] as [string, string];
      }),
    );
  } catch {
    return null;
  }
}

/** PF_KTHREAD in /proc/PID/stat's flags: kernels without the Kthread status field. */
function isKernelThread(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const flags = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[6]);
    return (flags & 0x00200000) !== 0;
  } catch {
    return false;
  }
}

/** Waits for the trace to end; resolves why. */
function waitForStop(
  options: TraceOptions,
  launched: LaunchedCommand | null,
  targetPid: number,
  capture: Capture,
): Promise<string> {
  const cleanups: (() => void | Promise<void>)[] = [];
  return new Promise<string>((resolve, reject) => {
    if (launched) launched.exited.then(() => resolve("target_exited"));
    else if (targetPid > 0) {
      // A pidfd turns readable when the process exits: no polling, told at once. Where the
      // kernel gives none, /proc is read every PID_POLL_MS.
      const fd = pidFd(targetPid);
      if (fd !== null) {
        const waiter = new FdWaiter([fd]);
        waiter.wait(-1).then(() => {
          if (!isAlive(targetPid)) resolve("target_exited");
        }, reject);
        cleanups.push(async () => {
          await waiter.close();
          closeFd(fd);
        });
      } else {
        const poll = new Timer(
          () => {
            if (!isAlive(targetPid)) resolve("target_exited");
          },
          PID_POLL_MS,
          { repeat: true },
        );
        cleanups.push(() => poll.cancel());
      }
    }
    const duration = options.durationSeconds;
    if (duration !== undefined) {
      const timer = new Timer(() => resolve("duration"), duration * 1000);
      cleanups.push(() => timer.cancel());
    }
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) resolve("signal");
      const onAbort = () => resolve("signal");
      signal.addEventListener("abort", onAbort);
      cleanups.push(() => signal.removeEventListener("abort", onAbort));
    }
    // bpftrace ending by itself: a failure is an error, a clean exit (Ctrl-C reached it) a stop.
    capture.ended.then(() => resolve("signal"), reject);
  }).finally(async () => {
    for (const c of cleanups) await c();
  });
}

/** How long a command may take to exit after its stop signal before faultline says so. */
const COMMAND_GRACE_MS = 1000;

/**
 * Waits for a command sent `signal` to exit: after a second, says what it waits for; when
 * `options.forceStop` aborts (a second Ctrl-C), kills it.
 */
async function waitForCommand(
  launched: LaunchedCommand,
  signal: Deno.Signal,
  options: TraceOptions,
): Promise<number> {
  let timer: Timer | undefined;
  const kill = () => launched.kill("SIGKILL");
  const force = options.forceStop;
  try {
    timer = new Timer(() => {
      options.onNotice?.(
        `faultline: waiting for the command (pid ${launched.pid}) to exit after ${signal}` +
          (force ? "; Ctrl-C again kills it" : ""),
      );
    }, COMMAND_GRACE_MS);
    if (force?.aborted) kill();
    force?.addEventListener("abort", kill);
    return await launched.exited;
  } finally {
    await timer?.cancel();
    force?.removeEventListener("abort", kill);
  }
}
