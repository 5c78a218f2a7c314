/**
 * The per-event CSV export, streamed to disk as events arrive.
 *
 * @module
 */

import type { FaultlineEvent } from "./faultline_event.ts";

/**
 * The columns, one row per event. Columns that do not apply to an event's kind are empty.
 * Addresses are hexadecimal (`0x...`), everything else decimal.
 */
export const EVENTS_CSV_COLUMNS = [
  "kind",
  "pid",
  "tid",
  "timestamp_ns",
  "latency_ns",
  "addr",
  "length",
  "prot",
  "flags",
  "fd",
  "offset",
  "ret",
  "address",
  "ip",
  "error_code",
  "access",
  "mode",
  "cause",
] as const;

const FLUSH_BYTES = 1 << 16;
const hex = (v: bigint) => v < 0n ? String(v) : `0x${v.toString(16)}`;

/**
 * The CSV row of one event, without its newline. Every field is a number, a hex address or a
 * fixed lower-case word, so no field ever needs quoting.
 */
export function eventToCsvRow(e: FaultlineEvent): string {
  const head = `${e.kind},${e.pid},${e.tid},${e.timestampNs}`;
  switch (e.kind) {
    case "mmap":
      return `${head},${e.latencyNs},${hex(e.addr)},${e.length},${e.prot},${e.flags},${e.fd},` +
        `${e.offset},${hex(e.ret)},,,,,,`;
    case "munmap":
      return `${head},${e.latencyNs},${hex(e.addr)},${e.length},,,,,${e.ret},,,,,,`;
    case "page_fault_user":
    case "page_fault_kernel":
      return `${head},,,,,,,,,${hex(e.address)},${hex(e.ip)},${e.errorCode},${e.access},` +
        `${e.mode},${e.cause}`;
    case "minor_fault":
    case "major_fault":
      return `${head},${e.latencyNs ?? ""},,,,,,,,,,,,,`;
  }
}

/**
 * Streams events to a CSV file in 64 KiB writes. Call {@link EventsCsvWriter.close} to flush
 * the tail and close the file.
 */
export class EventsCsvWriter {
  #file: Deno.FsFile;
  #encoder = new TextEncoder();
  #pending: string[] = [];
  #pendingBytes = 0;
  #rows = 0;

  /** Opens (truncating) `path` and writes the header row. */
  constructor(path: string | URL) {
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
    this.#push(EVENTS_CSV_COLUMNS.join(","));
  }

  /** Rows written so far, not counting the header. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends one event's row. */
  write(event: FaultlineEvent): void {
    this.#rows++;
    this.#push(eventToCsvRow(event));
  }

  #push(row: string): void {
    this.#pending.push(row);
    this.#pendingBytes += row.length + 1;
    if (this.#pendingBytes >= FLUSH_BYTES) this.flush();
  }

  /** Writes every pending row to the file. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.join("\n") + "\n");
    this.#pending = [];
    this.#pendingBytes = 0;
    let off = 0;
    while (off < bytes.length) off += this.#file.writeSync(bytes.subarray(off));
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    this.#file.close();
  }
}
