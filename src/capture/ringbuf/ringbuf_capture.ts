/**
 * The ringbuf engine's capture: the loaded probes and their ring, read on a timer (the policy
 * of polling lives here, the mapping in {@link RingbufReader}), until stopped.
 *
 * @module
 */

import type { EventKindTable } from "../../events/event_kinds.ts";
import type { Capture, EventSink } from "../engine.ts";
import type { BpfObject } from "./bpf_object.ts";
import type { RingbufReader } from "./ringbuf_reader.ts";

/** How a {@link RingbufCapture} reads. */
export interface RingbufCaptureOptions {
  /** The kinds records decode as. */
  kinds: EventKindTable;
  /** How often the ring is drained, in ms. */
  pollMs: number;
  /** How often the drop counter is read, in ms. */
  lostPollMs: number;
}

/** Probes attached by the ringbuf engine, and the loop reading their ring. */
export class RingbufCapture implements Capture {
  /** Always `"ringbuf"`. */
  readonly engine = "ringbuf";
  /** Resolves once stopped; rejects if reading failed. */
  readonly ended: Promise<void>;
  readonly #obj: BpfObject;
  readonly #reader: RingbufReader;
  readonly #sink: EventSink;
  readonly #deliver: (view: DataView, at: number) => void;
  #lostSeen = 0;
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #loop: Promise<void>;

  /** Starts reading `reader` (the ring of `obj`, whose programs are attached) into `sink`. */
  constructor(
    obj: BpfObject,
    reader: RingbufReader,
    sink: EventSink,
    options: RingbufCaptureOptions,
  ) {
    this.#obj = obj;
    this.#reader = reader;
    this.#sink = sink;
    const { kinds } = options;
    // A kind this version does not know is not dropped silently: it counts as lost.
    if (sink.folder) {
      const fold = kinds.recordFolder(sink.folder);
      const tap = sink.recordTap;
      this.#deliver = tap === undefined
        ? (view, at) => {
          if (!fold(view, at)) sink.lost(1);
        }
        : (view, at) => {
          if (!fold(view, at)) sink.lost(1);
          else tap(view, at);
        };
    } else {
      this.#deliver = (view, at) => {
        const event = kinds.decodeRecord(view, at);
        if (event !== null) sink.event(event);
        else sink.lost(1);
      };
    }
    // Every program is attached: open the window, at one instant for all of them.
    this.#setWindow(true);
    this.#loop = this.#poll(options.pollMs, options.lostPollMs);
    // The loop only ends by stop(), or by failing: a failure must stop the capture too.
    this.ended = this.#loop.then(
      () => this.stop(),
      async (e) => {
        await this.stop().catch(() => {});
        throw e;
      },
    );
  }

  /** Opens or closes the tracing window (the probes' `enabled`), for every program at once. */
  #setWindow(open: boolean): void {
    this.#obj.writeGlobal(".data.window", new Uint8Array(new Uint32Array([open ? 1 : 0]).buffer));
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

  /** How full the ring is, 0 to 1. */
  fill(): number {
    return this.#stopping ? 0 : this.#reader.pending() / this.#reader.size;
  }

  /** Reads every record committed so far, and the drop counter. */
  drain(): Promise<void> {
    if (!this.#stopping) {
      this.#reader.read(this.#deliver);
      this.#countLost();
    }
    return Promise.resolve();
  }

  /** Detaches every program, reads every record left in the ring, then frees it all. */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#stopping = true;
    this.#stopped = (async () => {
      await this.#loop.catch(() => {});
      try {
        // Close the window before any program goes, so no kind is counted longer than another.
        this.#setWindow(false);
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
