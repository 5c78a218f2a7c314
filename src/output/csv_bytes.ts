/**
 * A growable buffer of ASCII text written a cell at a time: how the events CSV makes its rows
 * without a string per cell (a row of concatenated strings cost about 2 µs; most of the cells
 * are numbers).
 *
 * @module
 */

/**
 * ASCII bytes appended to a buffer that grows as needed.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { CsvBytes } from "./csv_bytes.ts";
 * const out = new CsvBytes(4);
 * out.ascii("minor_fault,");
 * out.int(-42);
 * out.byte(0x2c);
 * out.int(123456789012345);
 * assert.equal(new TextDecoder().decode(out.view()), "minor_fault,-42,123456789012345");
 * out.clear();
 * assert.equal(out.length, 0);
 * ```
 */
export class CsvBytes {
  #buf: Uint8Array;
  #pos = 0;
  readonly #digits = new Uint8Array(24);

  /** An empty buffer of `capacity` bytes to start with. */
  constructor(capacity = 1 << 16) {
    this.#buf = new Uint8Array(Math.max(capacity, 32));
  }

  /** Bytes written since the last clear. */
  get length(): number {
    return this.#pos;
  }

  /** The bytes written, as a view of the buffer (valid until the next write or clear). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /** Forgets what was written (the buffer stays). */
  clear(): void {
    this.#pos = 0;
  }

  /** Makes room for `n` more bytes. */
  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const bigger = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    bigger.set(this.#buf.subarray(0, this.#pos));
    this.#buf = bigger;
  }

  /** One byte. */
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#pos++] = b;
  }

  /** Bytes made beforehand (a kind's name, the commas between two cells). */
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** A string of ASCII characters (every CSV cell faultline writes is one). */
  ascii(s: string): void {
    this.#room(s.length);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
    this.#pos = pos;
  }

  /** An integer in decimal, as String() writes it (exact up to 2^53). */
  int(n: number): void {
    if (!Number.isSafeInteger(n)) return this.ascii(String(n));
    this.#room(21);
    if (n < 0) {
      this.#buf[this.#pos++] = 0x2d; // -
      n = -n;
    }
    const digits = this.#digits;
    let count = 0;
    do {
      const q = Math.floor(n / 10);
      digits[count++] = 0x30 + (n - q * 10);
      n = q;
    } while (n > 0);
    const buf = this.#buf;
    let pos = this.#pos;
    while (count > 0) buf[pos++] = digits[--count]!;
    this.#pos = pos;
  }

  /** A cell: a number in decimal, a string as it is. */
  cell(c: string | number): void {
    if (typeof c === "number") this.int(c);
    else this.ascii(c);
  }
}
