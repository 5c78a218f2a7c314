/**
 * The bpftrace engine: runs `probes/faultline.bt` in a bpftrace child process (a
 * {@link BpftraceCapture}) and parses the lines it prints into events.
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { findExecutable } from "../../common/find_executable.ts";
import { EVENT_KINDS, type EventKindTable } from "../../events/event_kinds.ts";
import type { AttachOptions, Capture, Engine, EventSink } from "../engine.ts";
import { requireTracefs } from "../tracefs.ts";
import { BpftraceCapture } from "./bpftrace_capture.ts";

/** The probe script this engine runs. */
export const BPFTRACE_SCRIPT: URL = new URL("../../../probes/faultline.bt", import.meta.url);

/**
 * Options for {@link BpftraceEngine}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { BpftraceEngine, type BpftraceEngineOptions } from "./bpftrace_engine.ts";
 * const options: BpftraceEngineOptions = { perfBufferPages: 64 };
 * assert.equal(new BpftraceEngine(options).name, "bpftrace");
 * ```
 */
export interface BpftraceEngineOptions {
  /** The bpftrace binary; found on PATH when not given. */
  bpftrace?: string;
  /** Pages per CPU of bpftrace's perf output buffer (BPFTRACE_PERF_RB_PAGES); default 1024. */
  perfBufferPages?: number;
  /** How long to wait for the probes to attach, in ms; default 60000. */
  attachTimeoutMs?: number;
  /** The kinds its lines parse as; every kind faultline has by default. */
  kinds?: EventKindTable;
}

/**
 * The bpftrace capture engine.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { BpftraceEngine } from "./bpftrace_engine.ts";
 * const engine = new BpftraceEngine({ bpftrace: "/nonexistent/bpftrace" });
 * assert.equal(engine.name, "bpftrace");
 * ```
 */
export class BpftraceEngine implements Engine {
  /** Always `"bpftrace"`. */
  readonly name = "bpftrace";
  #options: BpftraceEngineOptions;

  /** Makes the engine; nothing runs until {@link BpftraceEngine.attach}. */
  constructor(options: BpftraceEngineOptions = {}) {
    this.#options = options;
  }

  #binary(): string {
    const name = this.#options.bpftrace ?? "bpftrace";
    const found = findExecutable(name);
    if (found === null) {
      throw new FaultlineError(
        `Cannot attach probes: bpftrace not found ${
          name.includes("/") ? `at ${name}` : "on PATH"
        }; install it with apt-get install bpftrace`,
      );
    }
    return found;
  }

  /** Checks for root, bpftrace and tracefs. */
  preflight(): Promise<void> {
    const uid = Deno.uid();
    if (uid !== 0) {
      throw new FaultlineError(
        `Cannot attach probes: bpftrace needs root and faultline runs as uid ${uid}; run it as root (sudo)`,
      );
    }
    this.#binary();
    requireTracefs();
    return Promise.resolve();
  }

  /** Starts bpftrace and resolves when its BEGIN probe has run (all probes attached). */
  async attach(options: AttachOptions, sink: EventSink): Promise<Capture> {
    // bpftrace loads and attaches in one go: nothing to get ready before.
    await options.ready;
    if (options.cgroup?.hasChildren) {
      throw new FaultlineError(
        `Cannot trace cgroup ${options.cgroup.path} with the bpftrace engine: it has cgroups ` +
          `below it, and bpftrace 0.17 matches one cgroup only; use --engine ringbuf (which ` +
          `traces the whole subtree) or name a cgroup with no children`,
      );
    }
    const capture = new BpftraceCapture({
      bpftrace: this.#binary(),
      script: decodeURIComponent(BPFTRACE_SCRIPT.pathname),
      pid: options.pid,
      armOnExec: options.armOnExec,
      children: options.children ?? true,
      cgroupId: options.cgroup?.id,
      all: options.all,
      perfBufferPages: this.#options.perfBufferPages ?? 1024,
      kinds: this.#options.kinds ?? EVENT_KINDS,
      sink,
    });
    await capture.attached(this.#options.attachTimeoutMs ?? 60_000);
    return capture;
  }
}
