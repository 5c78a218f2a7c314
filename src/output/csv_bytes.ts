/**
 * A growable buffer of ASCII text written a cell at a time: how the events CSV makes its rows
 * without a string per cell (a row of concatenated strings cost about 2 µs; most of the cells
 * are numbers).
 *
 * @module
 */

/** The ASCII codes of 0-9a-f. */
const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");
/** The ASCII codes of 00 to 99, two by two: two digits written per division. */
const DIGIT_PAIRS = new TextEncoder().encode(
  Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join(""),
);

/** How many decimal digits `n` (0 to 2^31 - 1) has: comparisons, no division. */
function digitCount(n: number): number {
  if (n < 100_000) return n < 100 ? (n < 10 ? 1 : 2) : n < 1_000 ? 3 : n < 10_000 ? 4 : 5;
  if (n < 100_000_000) return n < 1_000_000 ? 6 : n < 10_000_000 ? 7 : 8;
  return n < 1_000_000_000 ? 9 : 10;
}

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
 * out.commas(2);
 * out.hex(0x1008, 0x7f00);
 * assert.equal(
 *   new TextDecoder().decode(out.view()),
 *   "minor_fault,-42,123456789012345,,0x7f0000001008",
 * );
 * for (const n of [0, 9, 10, 99_999_999, 100_000_000, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1]) {
 *   out.clear();
 *   out.int(n);
 *   assert.equal(new TextDecoder().decode(out.view()), String(n));
 * }
 * out.clear();
 * assert.equal(out.length, 0);
 * ```
 */
export class CsvBytes {
  #buf: Uint8Array;
  #pos = 0;

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
    // In int32 arithmetic: below 2^31 at once, above in two parts, the low one of 8 digits
    // (a timestamp in ns has 13 to 16 digits).
    if (n < 0x80000000) this.#digitsOf(n | 0, 1);
    else {
      const high = Math.floor(n / 100_000_000);
      this.#digitsOf(high | 0, 1);
      this.#digitsOf((n - high * 100_000_000) | 0, 8);
    }
  }

  /** `n` (0 to 2^31 - 1) in decimal, padded with zeros to at least `width` digits. */
  #digitsOf(n: number, width: number): void {
    let count = digitCount(n);
    if (count < width) count = width;
    const buf = this.#buf;
    let pos = this.#pos + count;
    this.#pos = pos;
    // Two digits per division, from the last; a last odd one alone.
    for (; count >= 2; count -= 2) {
      const q = (n / 100) | 0;
      const pair = (n - q * 100) << 1;
      buf[--pos] = DIGIT_PAIRS[pair + 1]!;
      buf[--pos] = DIGIT_PAIRS[pair]!;
      n = q;
    }
    if (count === 1) buf[--pos] = 0x30 + n;
  }

  /**
   * The unsigned 64-bit integer `high * 2^32 + low` in hexadecimal with `0x` before it, as
   * `"0x" + value.toString(16)` writes it (no string made).
   */
  hex(low: number, high: number): void {
    this.#room(18);
    const buf = this.#buf;
    let pos = this.#pos;
    buf[pos++] = 0x30; // 0
    buf[pos++] = 0x78; // x
    low >>>= 0;
    high >>>= 0;
    let shift = 28;
    if (high !== 0) {
      while (((high >>> shift) & 0xf) === 0) shift -= 4;
      for (; shift >= 0; shift -= 4) buf[pos++] = HEX_DIGITS[(high >>> shift) & 0xf]!;
      shift = 28;
    } else {
      while (shift > 0 && ((low >>> shift) & 0xf) === 0) shift -= 4;
    }
    for (; shift >= 0; shift -= 4) buf[pos++] = HEX_DIGITS[(low >>> shift) & 0xf]!;
    this.#pos = pos;
  }

  /** `n` commas: the empty cells between two cells. */
  commas(n: number): void {
    this.#room(n);
    const buf = this.#buf;
    let pos = this.#pos;
    for (let i = 0; i < n; i++) buf[pos++] = 0x2c;
    this.#pos = pos;
  }

  /** A cell: a number in decimal, a string as it is. */
  cell(c: string | number): void {
    if (typeof c === "number") this.int(c);
    else this.ascii(c);
  }
}
