/**
 * The ringbuf engine: loads the compiled probes (probes/faultline.bpf.o) through libbpf over
 * Deno FFI, attaches them, and hands their ring to a {@link RingbufCapture}.
 *
 * @module
 */

import { FaultlineError, usageError } from "../../common/faultline_error.ts";
import { EVENT_KINDS, type EventKindTable } from "../../events/event_kinds.ts";
import type { AttachOptions, Capture, Engine, EventSink } from "../engine.ts";
import { onlineCpus } from "../online_cpus.ts";
import { requireTracefs } from "../tracefs.ts";
import { BpfObject, BpfObjectSpec } from "./bpf_object.ts";
import { openLibbpf } from "./libbpf.ts";
import {
  openSoftwareEvent,
  PERF_COUNT_SW_PAGE_FAULTS_MAJ,
  PERF_COUNT_SW_PAGE_FAULTS_MIN,
} from "./perf_event.ts";
import { RingbufCapture } from "./ringbuf_capture.ts";
import { RingbufReader } from "./ringbuf_reader.ts";
import { FdWaiter } from "../../common/fd_waiter.ts";

/** The compiled probes, committed beside their source. */
export const BPF_OBJECT: URL = new URL("../../../probes/faultline.bpf.o", import.meta.url);

/**
 * The default ring size: 64 MiB, about 760 K faults (an 88-byte ring record each, a fault and
 * its completion, with the ring's own 8-byte header), 0.15 s of a storm of 5 M faults/s. A
 * smaller ring costs every event less (its writes stay in the cache: ~470 ns per completion
 * with 64 MiB, ~370 with 16 MiB, ~280 with 4 MiB) and every start less, but a storm near the
 * reader's own rate then outruns it: at 5 M faults/s, 16 MiB lost 1-3% where 64 MiB lost none.
 * `--ring-size` makes that trade. The probes wake a busy reader once the ring is half full,
 * whatever its size.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_RING_SIZE } from "./ringbuf_engine.ts";
 * assert.equal(DEFAULT_RING_SIZE, 2 ** 26);
 * ```
 */
export const DEFAULT_RING_SIZE = 64 * 1024 * 1024;

/** How often the reader drains the ring while records come, in ms (see pollMs). */
const DEFAULT_POLL_MS = 20;

/** Byte offsets of struct fl_config (probes/faultline.h), the whole of the object's .rodata. */
export const FL_CONFIG = {
  target_tgid: 0,
  arm_on_exec: 4,
  mode: 8,
  follow_children: 12,
  cgroup_id: 16,
  cgroup_level: 24,
  self_tgid: 28,
  size: 32,
} as const;

/** enum fl_mode (probes/faultline.h). */
const FL_MODE = { pids: 0, cgroup: 1, all: 2 } as const;

const MIN_RING = 4096;
const MAX_RING = 2 ** 30;

/**
 * Throws a usage FaultlineError unless `bytes` is a ring size the engine takes: a power of two
 * from 4096 to 1 GiB. `shown` is how the message names the value (the CLI quotes what was
 * typed).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRingSize } from "./ringbuf_engine.ts";
 * checkRingSize(65536);
 * assert.throws(() => checkRingSize(5000, '"5000"'), /Cannot use a ring of "5000" bytes/);
 * ```
 */
export function checkRingSize(bytes: number, shown: string = String(bytes)): void {
  if (
    !Number.isSafeInteger(bytes) || bytes < MIN_RING || bytes > MAX_RING ||
    (bytes & (bytes - 1)) !== 0
  ) {
    throw usageError(
      `Cannot use a ring of ${shown} bytes: --ring-size takes a power of two from ${MIN_RING} to ${MAX_RING}`,
    );
  }
}

const TRACEPOINT_PROGRAMS = [
  "on_sys_enter",
  "on_sys_exit",
  "on_page_fault_user",
  "on_page_fault_kernel",
  "on_process_fork",
  "on_process_exec",
  "on_process_exit",
];

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** This process's effective capabilities, from /proc/self/status. */
function effectiveCaps(): bigint {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

/**
 * Options for {@link RingbufEngine}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { RingbufEngine, type RingbufEngineOptions } from "./ringbuf_engine.ts";
 * const options: RingbufEngineOptions = { ringSize: 1 << 22, pollMs: 5 };
 * assert.equal(new RingbufEngine(options).name, "ringbuf");
 * ```
 */
export interface RingbufEngineOptions {
  /** The BPF object to load; {@link BPF_OBJECT} by default. */
  object?: string;
  /** Ring size in bytes, a power of two; {@link DEFAULT_RING_SIZE} by default. */
  ringSize?: number;
  /**
   * How often the ring is drained while records come, in ms; default 20. Each drain wakes
   * faultline's thread, which then competes with the traced program for a CPU: on a 2-CPU
   * machine tracing four busy threads, draining every 1 ms instead cost 5-8% of the program's
   * time (bench/overhead.ts --mixed). The default ring holds far more than 20 ms of records at
   * any rate the reader keeps up with.
   */
  pollMs?: number;
  /**
   * The longest the reader sleeps once the ring is empty, in ms; default 5000. The kernel wakes
   * it at the first record committed after it read everything, and every interval's drain
   * reads the ring anyway, so no event waits longer than the interval.
   */
  idleMs?: number;
  /** How often the drop counter is read while tracing, in ms; default 100. */
  lostPollMs?: number;
  /** The kinds its records are decoded as; every kind faultline has by default. */
  kinds?: EventKindTable;
}

/**
 * The ringbuf capture engine.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { RingbufEngine } from "./ringbuf_engine.ts";
 * const engine = new RingbufEngine({ ringSize: 1 << 24 });
 * assert.equal(engine.name, "ringbuf");
 * assert.throws(() => new RingbufEngine({ ringSize: 1000 }), /power of two/);
 * ```
 */
export class RingbufEngine implements Engine {
  /** Always `"ringbuf"`. */
  readonly name = "ringbuf";
  readonly #object: string;
  readonly #ringSize: number;
  readonly #pollMs: number;
  readonly #idleMs: number;
  readonly #lostPollMs: number;
  readonly #kinds: EventKindTable;

  /**
   * Makes the engine; nothing is loaded until {@link RingbufEngine.attach}.
   *
   * @throws {FaultlineError} (usage) if the ring size is not a power of two from 4096 to 1 GiB.
   */
  constructor(options: RingbufEngineOptions = {}) {
    this.#object = options.object ?? decodeURIComponent(BPF_OBJECT.pathname);
    this.#ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#idleMs = options.idleMs ?? 5000;
    this.#lostPollMs = options.lostPollMs ?? 100;
    this.#kinds = options.kinds ?? EVENT_KINDS;
    checkRingSize(this.#ringSize);
  }

  /** Checks for CAP_BPF and CAP_PERFMON (or root), libbpf, the object and tracefs. */
  preflight(): Promise<void> {
    const caps = effectiveCaps();
    const has = (c: bigint) => (caps >> c) & 1n;
    if (!has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON))) {
      throw new FaultlineError(
        `Cannot load probes: the ringbuf engine needs CAP_BPF and CAP_PERFMON (or root) and ` +
          `faultline runs as uid ${Deno.uid()} without them; run it as root (sudo)`,
      );
    }
    openLibbpf();
    try {
      Deno.statSync(this.#object);
    } catch {
      throw new FaultlineError(
        `Cannot load probes: ${this.#object} is missing; rebuild it with deno task build:bpf`,
      );
    }
    requireTracefs();
    return Promise.resolve();
  }

  /** Loads and attaches the probes; resolves once every program is attached. */
  async attach(options: AttachOptions, sink: EventSink): Promise<Capture> {
    const lib = openLibbpf();
    const config = new Uint8Array(FL_CONFIG.size);
    const cv = new DataView(config.buffer);
    const mode = options.all ? FL_MODE.all : options.cgroup ? FL_MODE.cgroup : FL_MODE.pids;
    cv.setUint32(FL_CONFIG.target_tgid, options.pid, true);
    cv.setUint32(FL_CONFIG.arm_on_exec, options.armOnExec ? 1 : 0, true);
    cv.setUint32(FL_CONFIG.mode, mode, true);
    cv.setUint32(FL_CONFIG.follow_children, options.children === false ? 0 : 1, true);
    cv.setBigUint64(FL_CONFIG.cgroup_id, BigInt(options.cgroup?.id ?? 0), true);
    cv.setUint32(FL_CONFIG.cgroup_level, options.cgroup?.level ?? 0, true);
    cv.setUint32(FL_CONFIG.self_tgid, Deno.pid, true);

    const spec = BpfObjectSpec.open(this.#object);
    let obj: BpfObject;
    try {
      spec.setInitialValue(".rodata", config);
      spec.setMaxEntries("events", this.#ringSize);
      obj = spec.load();
    } catch (e) {
      spec.close();
      throw e;
    }
    try {
      await options.ready;
    } catch (e) {
      obj.close();
      throw e;
    }
    let reader: RingbufReader | null = null;
    let waiter: FdWaiter | null = null;
    try {
      reader = new RingbufReader(lib, obj.mapFd("events"));
      // The ring's fd is ready when the kernel wakes it (edge-triggered, not whenever it holds
      // records): at the first record after the reader has read everything, and at every fork,
      // exec and file mmap (faultline.bpf.c: reader_busy).
      waiter = new FdWaiter([obj.mapFd("events")], { edge: true });
      // The target is traced from the first program on; what it forks joins in the kernel.
      // "traced" holds one bit per tgid: word tgid / 64, bit tgid % 64 (faultline.h).
      if (mode === FL_MODE.pids) {
        obj.updateElement("traced", Math.floor(options.pid / 64), 1n << BigInt(options.pid % 64));
      }
      for (const program of TRACEPOINT_PROGRAMS) obj.attach(program);
      for (const cpu of onlineCpus()) {
        obj.attachPerfEvent(
          "on_minor_fault",
          openSoftwareEvent(lib, PERF_COUNT_SW_PAGE_FAULTS_MIN, cpu),
        );
        obj.attachPerfEvent(
          "on_major_fault",
          openSoftwareEvent(lib, PERF_COUNT_SW_PAGE_FAULTS_MAJ, cpu),
        );
      }
    } catch (e) {
      await waiter?.close();
      reader?.close();
      obj.close();
      throw e;
    }
    return new RingbufCapture(obj, reader, waiter, sink, {
      kinds: this.#kinds,
      pollMs: this.#pollMs,
      idleMs: this.#idleMs,
      lostPollMs: this.#lostPollMs,
    });
  }
}
