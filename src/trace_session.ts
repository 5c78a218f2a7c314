/**
 * One trace from start to report: check the target, attach an engine, stream events into the
 * aggregation (and the events CSV), stop on target exit, duration or abort, and report.
 *
 * @module
 */

import { Aggregator } from "./aggregator.ts";
import type { Capture, Engine } from "./engine.ts";
import { EventsCsvWriter } from "./events_csv_writer.ts";
import type { FaultlineEvent } from "./faultline_event.ts";
import { FaultlineError, usageError } from "./faultline_error.ts";
import { LaunchedCommand } from "./launched_command.ts";
import { makeEngine } from "./make_engine.ts";
import { isAlive } from "./process_state.ts";
import type { Report } from "./report.ts";

/** Options for {@link trace}. Give exactly one of `pid` and `command`. */
export interface TraceOptions {
  /** Trace this running process (all of its threads). */
  pid?: number;
  /** Launch this command (program and arguments) and trace it from its exec. */
  command?: string[];
  /** Stop after this many seconds. */
  durationSeconds?: number;
  /**
   * The capture engine. By default the ringbuf engine, falling back to bpftrace (and telling
   * `onFallback` why) when it cannot run here.
   */
  engine?: Engine;
  /** Told why the default engine fell back to bpftrace. */
  onFallback?: (reason: string, fallback: string) => void;
  /** Called with the running total each time the engine reports lost events. */
  onLost?: (total: number) => void;
  /** Stream one CSV row per event to this file. */
  eventsCsv?: string;
  /** Called for every event, after it is aggregated. */
  onEvent?: (event: FaultlineEvent) => void;
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

/** How often a traced pid is checked for having exited, in ms. */
const PID_POLL_MS = 50;

function checkPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw usageError(`Cannot trace pid ${pid}: a pid is a positive integer`);
  }
  if (!isAlive(pid)) {
    throw new FaultlineError(
      `Cannot trace pid ${pid}: no such process; check it with ps -p ${pid}`,
    );
  }
}

/**
 * Traces one process and returns its report.
 *
 * @example Usage
 * ```ts ignore
 * import { trace } from "./trace_session.ts";
 * const report = await trace({ command: ["./build/mmap_touch", "100", "8"] });
 * console.log(report.counts.mmap);
 * ```
 */
export async function trace(options: TraceOptions): Promise<Report> {
  const { pid, command } = options;
  if ((pid === undefined) === (command === undefined)) {
    throw usageError("Cannot trace: give either a pid (--pid PID) or a command (-- CMD ARGS...)");
  }
  const duration = options.durationSeconds;
  if (duration !== undefined && !(duration > 0 && Number.isFinite(duration))) {
    throw usageError(
      `Cannot trace for ${duration} seconds: the duration must be a positive number`,
    );
  }
  if (pid !== undefined) checkPid(pid);
  const engine = options.engine ?? makeEngine(undefined, { onFallback: options.onFallback });
  await engine.preflight();

  const launched = command !== undefined ? await LaunchedCommand.start(command) : null;
  const targetPid = launched?.pid ?? pid!;
  const aggregator = new Aggregator();
  let csv: EventsCsvWriter | null = null;
  let capture: Capture;
  try {
    csv = options.eventsCsv !== undefined ? openCsv(options.eventsCsv) : null;
    const onEvent = options.onEvent;
    capture = await engine.attach({ pid: targetPid, armOnExec: launched !== null }, {
      event(e) {
        aggregator.add(e);
        csv?.write(e);
        onEvent?.(e);
      },
      lost(n) {
        aggregator.addLost(n);
        options.onLost?.(aggregator.lost);
      },
      // With no one to see the event objects, engines may fold records straight in.
      folder: csv === null && onEvent === undefined ? aggregator : undefined,
    });
  } catch (e) {
    csv?.close();
    if (launched) {
      launched.kill("SIGKILL");
      await launched.exited;
    }
    throw e;
  }

  const startedAt = new Date();
  const t0 = performance.now();
  options.onAttached?.(targetPid);
  launched?.resume();

  const cleanups: (() => void)[] = [];
  const stopReason = await new Promise<string>((resolve, reject) => {
    if (launched) launched.exited.then(() => resolve("target_exited"));
    else {
      const poll = setInterval(() => {
        if (!isAlive(targetPid)) resolve("target_exited");
      }, PID_POLL_MS);
      cleanups.push(() => clearInterval(poll));
    }
    if (duration !== undefined) {
      const timer = setTimeout(() => resolve("duration"), duration * 1000);
      cleanups.push(() => clearTimeout(timer));
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
  }).finally(() => cleanups.forEach((c) => c()));

  const durationNs = Math.round((performance.now() - t0) * 1e6);
  await capture.stop();
  csv?.close();

  let exitStatus: number | null = null;
  if (launched) {
    const stopWith = options.stopCommandWith === undefined ? "SIGTERM" : options.stopCommandWith;
    if (stopReason !== "target_exited" && stopWith !== null) launched.kill(stopWith);
    exitStatus = await launched.exited;
  }
  return aggregator.report({
    engine: capture.engine,
    target: { pid: targetPid, command: command ?? null },
    startedAt,
    durationNs,
    stopReason,
    exitStatus,
  });
}

function openCsv(path: string): EventsCsvWriter {
  try {
    return new EventsCsvWriter(path);
  } catch (e) {
    throw new FaultlineError(
      `Cannot write events CSV to ${path}: ${
        (e as Error).message
      }; check the directory exists and is writable`,
    );
  }
}
