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

import { FaultlineError } from "./faultline_error.ts";
import { errnoText, lastErrno, type LibbpfHandle } from "./libbpf.ts";

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HEADER = 8;
const PAGE = 4096;

/** Whether `n` is a power of two that is at least a page: what the kernel takes as a ring size. */
export function isValidRingSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= PAGE && (n & (n - 1)) === 0 && n <= 2 ** 30;
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
  readonly #consumer: DataView;
  readonly #producer: DataView;
  readonly #data: DataView;
  #consumerPos: number;

  /**
   * Maps ring-buffer map `fd` of `size` bytes (a power of two of at least a page).
   *
   * @throws {FaultlineError} if the size is wrong or a mapping fails.
   */
  constructor(lib: LibbpfHandle, fd: number, size: number) {
    if (!isValidRingSize(size)) {
      throw new FaultlineError(
        `Cannot read a ring buffer of ${size} bytes: its size must be a power of two from 4096 to 1 GiB`,
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
    this.#consumer = new DataView(Deno.UnsafePointerView.getArrayBuffer(consumer!, PAGE));
    const all = Deno.UnsafePointerView.getArrayBuffer(producer!, producerLength);
    this.#producer = new DataView(all, 0, PAGE);
    this.#data = new DataView(all, PAGE, 2 * size);
    this.#consumerPos = Number(this.#consumer.getBigUint64(0, true));
  }

  /** The ring's data size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** Bytes written by the kernel and not yet read. */
  pending(): number {
    return Number(this.#producer.getBigUint64(0, true)) - this.#consumerPos;
  }

  /**
   * Hands every committed record to `handler`, in order, and releases their space to the
   * kernel. Stops at a record still being written. Returns how many records it read.
   * The view is only valid during the call: copy what must outlive it.
   */
  read(handler: RecordHandler): number {
    if (this.#producerMap === null) throw new Error("RingbufReader is closed");
    const data = this.#data;
    const mask = this.#mask;
    let pos = this.#consumerPos;
    let records = 0;
    for (;;) {
      const producerPos = Number(this.#producer.getBigUint64(0, true));
      if (pos >= producerPos) break;
      const start = pos;
      while (pos < producerPos) {
        const at = pos & mask;
        const header = data.getUint32(at, true);
        if (header & BUSY) break;
        const length = header & ~(BUSY | DISCARD);
        if (!(header & DISCARD)) {
          handler(data, at + HEADER, length);
          records++;
        }
        pos += (length + HEADER + 7) & ~7;
      }
      if (pos === start) break; // the next record is still busy
      this.#consumer.setBigUint64(0, BigInt(pos), true);
      this.#consumerPos = pos;
    }
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
