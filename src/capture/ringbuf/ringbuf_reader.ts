/**
 * A zero-copy reader of a BPF ring buffer (BPF_MAP_TYPE_RINGBUF): it maps the map's consumer
 * page read-write and its producer page and data read-only, and hands out records as offsets
 * into one DataView over the data, which the kernel maps twice in a row so a record that wraps
 * reads straight through.
 *
 * The reader owns its mappings: {@link RingbufReader.close} unmaps them, and must be called.
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { errnoText, lastErrno, type LibbpfHandle } from "./libbpf.ts";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HEADER = 8;
const PAGE = 4096;
/** Records read() hands out per call of #readBatch (see there). */
const BATCH = 1024;
const BPF_MAP_TYPE_RINGBUF = 27;
/** sizeof(struct bpf_map_info) up to max_entries, the last field read. */
const MAP_INFO_SIZE = 80;

/** The type and max_entries (for a ring: its size in bytes) of BPF map `fd`. */
export function mapInfo(lib: LibbpfHandle, fd: number): { type: number; maxEntries: number } {
  const info = new Uint8Array(MAP_INFO_SIZE);
  const length = new Uint32Array([MAP_INFO_SIZE]);
  if (lib.bpf.bpf_obj_get_info_by_fd(fd, info, length) !== 0) {
    const errno = lastErrno(lib);
    throw new FaultlineError(
      `Cannot read BPF map fd ${fd}'s info: ${errnoText(lib, errno)} (errno ${errno})`,
    );
  }
  const v = new DataView(info.buffer);
  return { type: v.getUint32(0, true), maxEntries: v.getUint32(16, true) };
}

/** Called with the view and the offset of one record's data, and its length. */
export type RecordHandler = (view: DataView, at: number, length: number) => void;

/** Reads one ring-buffer map from user space. */
export class RingbufReader {
  readonly #lib: LibbpfHandle;
  readonly #size: number;
  readonly #mask: number;
  #consumerPage: Deno.PointerObject | null;
  #producerMap: Deno.PointerObject | null;
  readonly #consumer: BigInt64Array;
  readonly #producer: BigInt64Array;
  readonly #headers: Int32Array;
  readonly #data: DataView;
  #consumerPos: number;

  /**
   * Maps ring-buffer map `fd`, its size read from the map itself.
   *
   * @throws {FaultlineError} if `fd` is not a ring-buffer map or a mapping fails.
   */
  constructor(lib: LibbpfHandle, fd: number) {
    const { type, maxEntries: size } = mapInfo(lib, fd);
    if (type !== BPF_MAP_TYPE_RINGBUF) {
      throw new FaultlineError(
        `Cannot read BPF map fd ${fd} as a ring buffer: its type is ${type}, not BPF_MAP_TYPE_RINGBUF (${BPF_MAP_TYPE_RINGBUF})`,
      );
    }
    this.#lib = lib;
    this.#size = size;
    this.#mask = size - 1;
    const consumer = lib.libc.mmap(null, BigInt(PAGE), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n);
    if (isMapFailed(consumer)) throw mapError(lib, "consumer page");
    const producerLength = PAGE + 2 * size;
    const producer = lib.libc.mmap(
      null,
      BigInt(producerLength),
      PROT_READ,
      MAP_SHARED,
      fd,
      BigInt(PAGE),
    );
    if (isMapFailed(producer)) {
      lib.libc.munmap(consumer, BigInt(PAGE));
      throw mapError(lib, "producer page and data");
    }
    this.#consumerPage = consumer!;
    this.#producerMap = producer!;
    // The positions are read and written with Atomics, which order everything else: the
    // producer position is loaded (acquire) before any header it covers, and the consumer
    // position is stored (release) after every read of the records it gives back. Headers and
    // bodies are plain loads after that acquire, in program order. On x86-64 (the only
    // architecture the probes are built for) loads are not reordered with loads, so that is
    // what libbpf's smp_load_acquire of each header gives: a header seen committed means its
    // body, written before the kernel's xchg of that header, is there. V8's compilers keep
    // typed-array and DataView loads in program order (they may reuse an earlier load of the
    // same place, and each header is read once between two Atomics calls). An Atomics.load
    // per header is a call out of the compiled code (V8 inlines none): ~12 ns a record, a
    // third of the headers-only read. A test reads a ring the kernel fills at full speed and
    // checks every record is whole and in order. (Atomics header loads were back for a while,
    // for a loss in the test of a reader woken at half full of a 1 MiB ring; that loss came
    // with Atomics too, 5 of 12 runs against 7 of 12 with plain loads, a cold reader's: the
    // test now uses a 4 MiB ring.)
    this.#consumer = new BigInt64Array(
      Deno.UnsafePointerView.getArrayBuffer(consumer!, PAGE),
      0,
      1,
    );
    const all = Deno.UnsafePointerView.getArrayBuffer(producer!, producerLength);
    this.#producer = new BigInt64Array(all, 0, 1);
    this.#headers = new Int32Array(all, PAGE, (2 * size) / 4);
    this.#data = new DataView(all, PAGE, 2 * size);
    this.#consumerPos = Number(Atomics.load(this.#consumer, 0));
  }

  /** The ring's data size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** Bytes written by the kernel and not yet read. */
  pending(): number {
    return Number(Atomics.load(this.#producer, 0)) - this.#consumerPos;
  }

  /**
   * Hands every committed record to `handler`, in order, and releases their space to the
   * kernel. Stops at a record still being written. Returns how many records it read.
   * The view is only valid during the call: copy what must outlive it.
   */
  read(handler: RecordHandler): number {
    if (this.#producerMap === null) throw new Error("RingbufReader is closed");
    let records = 0;
    for (;;) {
      const producerPos = Number(Atomics.load(this.#producer, 0));
      const start = this.#consumerPos;
      if (start >= producerPos) break;
      records += this.#readBatch(handler, producerPos);
      if (this.#consumerPos === start) break; // the next record is still busy
      Atomics.store(this.#consumer, 0, BigInt(this.#consumerPos));
    }
    return records;
  }

  /**
   * Reads at most BATCH records from the consumer position towards `producerPos` and moves
   * the position past them (the caller releases their space); returns how many it handed out.
   *
   * Kept apart from read() so that no one call loops for long over a burst. One loop over
   * the whole burst made V8 compile read() twice, on-stack first (21 ms) and then whole
   * (13 ms), on a background thread that competes with the traced program for a CPU: V8's
   * compiler threads' CPU in a trace of `mmap_touch 2000 64` went from a median 63.9 to
   * 51.3 ms with batches. Under heavier load V8 may still compile the batch's loop both ways.
   */
  #readBatch(handler: RecordHandler, producerPos: number): number {
    const data = this.#data;
    const headers = this.#headers;
    const mask = this.#mask;
    const longest = this.#size - HEADER;
    let pos = this.#consumerPos;
    let records = 0;
    for (let n = 0; n < BATCH && pos < producerPos; n++) {
      const at = pos & mask;
      const header = headers[at >>> 2]!; // a plain load: see the constructor
      if (header & BUSY) break;
      const length = header & ~(BUSY | DISCARD);
      if (length === 0 || length > longest) {
        throw new FaultlineError(
          `Cannot read the ring buffer: the record at position ${pos} claims ${length} bytes`,
        );
      }
      if (!(header & DISCARD)) {
        handler(data, at + HEADER, length);
        records++;
      }
      pos += (length + HEADER + 7) & ~7;
    }
    this.#consumerPos = pos;
    return records;
  }

  /** Unmaps the ring. Safe to call twice. */
  close(): void {
    if (this.#consumerPage) this.#lib.libc.munmap(this.#consumerPage, BigInt(PAGE));
    if (this.#producerMap) {
      this.#lib.libc.munmap(this.#producerMap, BigInt(PAGE + 2 * this.#size));
    }
    this.#consumerPage = null;
    this.#producerMap = null;
  }
}

function isMapFailed(p: Deno.PointerValue): boolean {
  return p === null || Deno.UnsafePointer.value(p) === 0xffffffffffffffffn;
}

function mapError(lib: LibbpfHandle, what: string): FaultlineError {
  const errno = lastErrno(lib);
  return new FaultlineError(
    `Cannot map the ring buffer's ${what}: ${errnoText(lib, errno)} (errno ${errno})`,
  );
}
