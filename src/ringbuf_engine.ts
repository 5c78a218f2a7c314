/**
 * The ringbuf engine: loads the compiled probes (probes/faultline.bpf.o) through libbpf over
 * Deno FFI, attaches them, and reads their records straight from the kernel's BPF ring buffer,
 * mmap'd into this process, zero-copy.
 *
 * @module
 */

import { BpfObject, BpfObjectSpec } from "./bpf_object.ts";
import type { AttachOptions, Capture, Engine, EventSink } from "./engine.ts";
import { EXIT_USAGE, FaultlineError } from "./faultline_error.ts";
import { openLibbpf } from "./libbpf.ts";
import { onlineCpus } from "./online_cpus.ts";
import {
  openSoftwareEvent,
  PERF_COUNT_SW_PAGE_FAULTS_MAJ,
  PERF_COUNT_SW_PAGE_FAULTS_MIN,
} from "./perf_event.ts";
import { decodeRecord, foldRecord, LAYOUT } from "./ringbuf_record.ts";
import { isValidRingSize, RingbufReader } from "./ringbuf_reader.ts";

/** The compiled probes, committed beside their source. */
export const BPF_OBJECT: URL = new URL("../probes/faultline.bpf.o", import.meta.url);

/** The default ring size: 64 MiB, about 1.6 M fault records, 0.3 s of a 5 M/s storm. */
export const DEFAULT_RING_SIZE = 64 * 1024 * 1024;

const TRACEPOINT_PROGRAMS = [
  "on_execve",
  "on_enter_mmap",
  "on_exit_mmap",
  "on_enter_munmap",
  "on_exit_munmap",
  "on_page_fault_user",
  "on_page_fault_kernel",
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

/** Options for {@link RingbufEngine}. */
export interface RingbufEngineOptions {
  /** The BPF object to load; {@link BPF_OBJECT} by default. */
  object?: string;
  /** Ring size in bytes, a power of two; {@link DEFAULT_RING_SIZE} by default. */
  ringSize?: number;
  /** How often the ring is drained, in ms; default 1. Records are submitted without wake-ups. */
  pollMs?: number;
  /** How often the drop counter is read while tracing, in ms; default 100. */
  lostPollMs?: number;
}

/**
 * The ringbuf capture engine.
 *
 * @example Usage
 * ```ts ignore
 * import { RingbufEngine } from "./ringbuf_engine.ts";
 * const engine = new RingbufEngine({ ringSize: 1 << 24 });
 * await engine.preflight();
 * const capture = await engine.attach({ pid: 1234, armOnExec: false }, {
 *   event: (e) => console.log(e.kind),
 *   lost: (n) => console.error(`lost ${n}`),
 * });
 * await capture.stop();
 * ```
 */
export class RingbufEngine implements Engine {
  /** Always `"ringbuf"`. */
  readonly name = "ringbuf";
  readonly #object: string;
  readonly #ringSize: number;
  readonly #pollMs: number;
  readonly #lostPollMs: number;

  /**
   * Makes the engine; nothing is loaded until {@link RingbufEngine.attach}.
   *
   * @throws {FaultlineError} if the ring size is not a power of two from 4096 to 1 GiB.
   */
  constructor(options: RingbufEngineOptions = {}) {
    this.#object = options.object ?? decodeURIComponent(BPF_OBJECT.pathname);
    this.#ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
    this.#pollMs = options.pollMs ?? 1;
    this.#lostPollMs = options.lostPollMs ?? 100;
    if (!isValidRingSize(this.#ringSize)) {
      throw new FaultlineError(
        `Cannot use a ring of ${this.#ringSize} bytes: --ring-size takes a power of two from 4096 to 1073741824`,
        EXIT_USAGE,
      );
    }
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
    try {
      Deno.statSync("/sys/kernel/tracing/events/syscalls");
    } catch {
      throw new FaultlineError(
        "Cannot attach probes: tracefs is not mounted; mount it with mount -t tracefs nodev /sys/kernel/tracing",
      );
    }
    return Promise.resolve();
  }

  /** Loads and attaches the probes; resolves once every program is attached. */
  attach(options: AttachOptions, sink: EventSink): Promise<Capture> {
    const lib = openLibbpf();
    const config = new Uint8Array(LAYOUT.fl_config.size);
    const cv = new DataView(config.buffer);
    cv.setUint32(LAYOUT.fl_config.target_tgid, options.pid, true);
    cv.setUint32(LAYOUT.fl_config.arm_on_exec, options.armOnExec ? 1 : 0, true);

    const spec = BpfObjectSpec.open(this.#object);
    let obj: BpfObject;
    try {
      spec.setInitialValue(".rodata", config);
      spec.setMaxEntries("events", this.#ringSize);
      obj = spec.load();
    } catch (e) {
      spec.close();
      return Promise.reject(e);
    }
    let reader: RingbufReader | null = null;
    try {
      reader = new RingbufReader(lib, obj.mapFd("events"), this.#ringSize);
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
      reader?.close();
      obj.close();
      return Promise.reject(e);
    }
    return Promise.resolve(
      new RingbufCapture(obj, reader, options.pid, sink, this.#pollMs, this.#lostPollMs),
    );
  }
}

class RingbufCapture implements Capture {
  readonly engine = "ringbuf";
  readonly ended: Promise<void>;
  readonly #obj: BpfObject;
  readonly #reader: RingbufReader;
  readonly #sink: EventSink;
  readonly #deliver: (view: DataView, at: number) => void;
  #lostSeen = 0;
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #loop: Promise<void>;

  constructor(
    obj: BpfObject,
    reader: RingbufReader,
    pid: number,
    sink: EventSink,
    pollMs: number,
    lostPollMs: number,
  ) {
    this.#obj = obj;
    this.#reader = reader;
    this.#sink = sink;
    // A kind this version does not know is not dropped silently: it counts as lost.
    const folder = sink.folder;
    this.#deliver = folder
      ? (view, at) => {
        if (!foldRecord(view, at, folder)) sink.lost(1);
      }
      : (view, at) => {
        const event = decodeRecord(view, at, pid);
        if (event !== null) sink.event(event);
        else sink.lost(1);
      };
    this.#loop = this.#poll(pollMs, lostPollMs);
    // The loop only ends by stop(), or by failing: a failure must stop the capture too.
    this.ended = this.#loop.then(
      () => this.stop(),
      async (e) => {
        await this.stop().catch(() => {});
        throw e;
      },
    );
  }

  async #poll(pollMs: number, lostPollMs: number): Promise<void> {
    let lastLost = performance.now();
    while (!this.#stopping) {
      this.#reader.read(this.#deliver);
      const now = performance.now();
      if (now - lastLost >= lostPollMs) {
        this.#countLost();
        lastLost = now;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  #countLost(): void {
    const dropped = this.#obj.sumPerCpu("dropped");
    if (dropped > this.#lostSeen) {
      this.#sink.lost(dropped - this.#lostSeen);
      this.#lostSeen = dropped;
    }
  }

  /** Detaches every program, reads every record left in the ring, then frees it all. */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#stopping = true;
    this.#stopped = (async () => {
      await this.#loop.catch(() => {});
      try {
        this.#obj.detach();
        // A program already running when its link went may still be committing a record.
        const deadline = performance.now() + 1000;
        while (this.#reader.read(this.#deliver) > 0 || this.#reader.pending() > 0) {
          if (performance.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 1));
        }
        this.#countLost();
      } finally {
        this.#reader.close();
        this.#obj.close();
      }
    })();
    return this.#stopped;
  }
}
