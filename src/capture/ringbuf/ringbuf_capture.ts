/**
 * The ringbuf engine's capture: the loaded probes and their ring, read until stopped. The
 * policy of reading lives here (the mapping in {@link RingbufReader}, the sleeping in
 * {@link FdWaiter}): while records come, every `pollMs`; once the ring is found empty, the
 * wait doubles up to `idleMs`, and the kernel wakes the reader at the first record committed
 * once it has read everything (the ring buffer's own wake-up), so a quiet trace costs next to
 * nothing and a burst after it is read at once.
 *
 * @module
 */

import type { EventKindTable } from "../../events/event_kinds.ts";
import type { FaultlineEvent } from "../../events/faultline_event.ts";
import { recordKind } from "../../events/event_kind.ts";
import { decodeFileRecord, FL_FILE_ID } from "../../events/file_path_record.ts";
import { decodeExecMappingRecord, FL_VMA_ID } from "../../events/exec_mapping_record.ts";
import type { Capture, EventSink } from "../engine.ts";
import type { BpfObject } from "./bpf_object.ts";
import type { RingbufReader } from "./ringbuf_reader.ts";
import type { FdWaiter } from "../../common/fd_waiter.ts";
import { sleep } from "../../common/timer.ts";

/** How a {@link RingbufCapture} reads. */
export interface RingbufCaptureOptions {
  /** The kinds records decode as. */
  kinds: EventKindTable;
  /** How often the ring is drained while records come, in ms. */
  pollMs: number;
  /** The longest wait once the ring is empty, in ms (a record wakes the reader sooner). */
  idleMs: number;
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
  readonly #waiter: FdWaiter;
  readonly #sink: EventSink;
  readonly #deliver: (view: DataView, at: number) => void;
  #lostSeen = 0;
  /** What to call before the next delivery (see onNextDelivery), or null. */
  #onNext: (() => void) | null = null;
  #stopping = false;
  #stopped: Promise<void> | null = null;
  #loop: Promise<void>;

  /** Starts reading `reader` (the ring of `obj`, whose programs are attached) into `sink`. */
  constructor(
    obj: BpfObject,
    reader: RingbufReader,
    waiter: FdWaiter,
    sink: EventSink,
    options: RingbufCaptureOptions,
  ) {
    this.#obj = obj;
    this.#reader = reader;
    this.#waiter = waiter;
    this.#sink = sink;
    const { kinds } = options;
    // A kind this version does not know is not dropped silently: it counts as lost. A file's
    // path (before its mmap's record) and an exec's mapping (before the exec's) are no events:
    // they go to the sink's fileName and execMapping.
    const fileName = sink.fileName?.bind(sink) ?? (() => {});
    const execMapping = sink.execMapping?.bind(sink) ?? (() => {});
    // They have the highest kinds (faultline.h): one comparison keeps them off the events' way.
    const other = (view: DataView, at: number, kind: number): boolean => {
      if (kind === FL_FILE_ID) fileName(decodeFileRecord(view, at));
      else if (kind === FL_VMA_ID) execMapping(decodeExecMappingRecord(view, at));
      else return false;
      return true;
    };
    if (sink.folder) {
      const fold = kinds.recordFolder(sink.folder, sink.recordTap);
      this.#deliver = (view, at) => {
        const kind = recordKind(view, at);
        if (kind >= FL_FILE_ID && other(view, at, kind)) return;
        if (!fold(view, at)) sink.lost(1);
      };
    } else {
      const event = (e: FaultlineEvent) => sink.event(e);
      this.#deliver = (view, at) => {
        const kind = recordKind(view, at);
        if (kind >= FL_FILE_ID && other(view, at, kind)) return;
        if (!kinds.decodeRecords(view, at, event)) sink.lost(1);
      };
    }
    // Every program is attached: open the window, at one instant for all of them.
    this.#setWindow(true);
    this.#loop = this.#poll(options.pollMs, options.idleMs, options.lostPollMs);
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

  /**
   * Tells the probes whether the reader drains on its timer (records then wake nobody but a
   * fork, an exec or a file mmap) or waits for the first record to wake it.
   */
  #setBusy(busy: boolean): void {
    this.#obj.writeGlobal(".data.reader", new Uint8Array(new Uint32Array([busy ? 1 : 0]).buffer));
  }

  async #poll(pollMs: number, idleMs: number, lostPollMs: number): Promise<void> {
    let lastLost = performance.now();
    let readSince = 0;
    let wait = pollMs;
    let busy = false;
    while (!this.#stopping) {
      const read = this.#read();
      readSince += read;
      const now = performance.now();
      // A record is dropped only when the ring is full, and then the next read finds records:
      // with none read since, the drop counter is read once a second only (it also counts a
      // syscall that found no storage for its entry).
      if (now - lastLost >= (readSince > 0 ? lostPollMs : Math.max(lostPollMs, 1000))) {
        this.#countLost();
        lastLost = now;
        readSince = 0;
      }
      if (read > 0) {
        // Records are coming: read them in batches, every pollMs. Only a fork, an exec or a
        // file mmap (read while its process lives, to name what it maps) or stop() ends the
        // wait early: the probes wake nobody for the rest while busy is set.
        if (!busy) this.#setBusy(busy = true);
        wait = pollMs;
        await this.#waiter.wait(pollMs);
      } else if (busy) {
        // Quiet: from now on the first record wakes the reader. One committed before the flag
        // went down woke nobody, so the ring is read once more before sleeping.
        this.#setBusy(busy = false);
      } else {
        // Quiet: sleep longer each time, until a record wakes the ring or stop() does.
        wait = Math.min(wait * 2, idleMs);
        await this.#waiter.wait(wait);
      }
    }
  }

  /** Reads what the ring holds into the sink, telling #onNext first if there is any. */
  #read(): number {
    if (this.#onNext !== null && this.#reader.pending() > 0) this.#delivering();
    return this.#reader.read(this.#deliver);
  }

  #delivering(): void {
    const callback = this.#onNext!;
    this.#onNext = null;
    callback();
  }

  #countLost(): void {
    const dropped = this.#obj.sumPerCpu("dropped");
    if (dropped > this.#lostSeen) {
      if (this.#onNext !== null) this.#delivering();
      this.#sink.lost(dropped - this.#lostSeen);
      this.#lostSeen = dropped;
    }
  }

  /** How full the ring is, 0 to 1. */
  fill(): number {
    return this.#stopping ? 0 : this.#reader.pending() / this.#reader.size;
  }

  /** Reads every record committed so far, and the drop counter. */
  onNextDelivery(callback: () => void): void {
    this.#onNext = callback;
  }

  drain(): Promise<void> {
    if (!this.#stopping) {
      this.#read();
      this.#countLost();
    }
    return Promise.resolve();
  }

  /** Detaches every program, reads every record left in the ring, then frees it all. */
  stop(): Promise<void> {
    if (this.#stopped) return this.#stopped;
    this.#stopping = true;
    this.#waiter.interrupt();
    this.#stopped = (async () => {
      await this.#loop.catch(() => {});
      try {
        // Close the window before any program goes, so no kind is counted longer than another.
        this.#setWindow(false);
        this.#obj.detach();
        // A program already running when its link went may still be committing a record.
        const deadline = performance.now() + 1000;
        while (this.#read() > 0 || this.#reader.pending() > 0) {
          if (performance.now() > deadline) break;
          await sleep(1);
        }
        this.#countLost();
      } finally {
        await this.#waiter.close();
        this.#reader.close();
        this.#obj.close();
      }
    })();
    return this.#stopped;
  }
}
