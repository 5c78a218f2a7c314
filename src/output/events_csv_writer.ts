/**
 * The per-event CSV export, streamed to disk as events arrive. Its columns and each kind's
 * cells come from the event kind definitions.
 *
 * @module
 */

import { FaultlineError } from "../common/faultline_error.ts";
import { EVENT_KINDS, type EventKindTable } from "../events/event_kinds.ts";
import { ioReason } from "./output_file.ts";
import type { EventBase, FaultlineEvent } from "../events/faultline_event.ts";

/**
 * The columns of the events CSV for faultline's own kinds, one row per event. Columns that do
 * not apply to an event's kind are empty. Addresses are hexadecimal (`0x...`), everything
 * else decimal.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EVENTS_CSV_COLUMNS } from "./events_csv_writer.ts";
 * assert.equal(
 *   EVENTS_CSV_COLUMNS.join(","),
 *   "kind,pid,tid,timestamp_ns,latency_ns,addr,length,prot,flags,fd,offset,ret,address,ip," +
 *     "error_code,access,mode,cause,new_length,new_addr,advice,child,command,exit_code",
 * );
 * ```
 */
export const EVENTS_CSV_COLUMNS: readonly string[] = EVENT_KINDS.csvColumns;

const FLUSH_BYTES = 1 << 16;

/**
 * Turns one event into its CSV row, for one table of kinds.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CsvRowFormatter, csvRowFormatter } from "./events_csv_writer.ts";
 * import { EVENT_KINDS } from "../events/event_kinds.ts";
 * const row: CsvRowFormatter = csvRowFormatter(EVENT_KINDS);
 * assert.match(row({ kind: "minor_fault", pid: 1, tid: 2, timestampNs: 3, latencyNs: 4 }), /^minor_fault,1,2,3,4,/);
 * ```
 */
export type CsvRowFormatter = (event: FaultlineEvent | EventBase) => string;

/**
 * The row formatter of a table of kinds: each kind's cells in their columns, the other
 * columns empty. Every cell is a number, a hex address or a fixed lower-case word, so none
 * needs quoting.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EVENT_KINDS } from "../events/event_kinds.ts";
 * import { csvRowFormatter } from "./events_csv_writer.ts";
 * const row = csvRowFormatter(EVENT_KINDS);
 * assert.equal(
 *   row({ kind: "minor_fault", pid: 5, tid: 6, timestampNs: 310, latencyNs: 10 }),
 *   "minor_fault,5,6,310,10,,,,,,,,,,,,,,,,,,,",
 * );
 * ```
 */
export function csvRowFormatter(kinds: EventKindTable): CsvRowFormatter {
  const columns = kinds.csvColumns;
  const head = 4; // kind,pid,tid,timestamp_ns
  const formats = new Map<
    string,
    { order: number[]; gaps: string[]; cells(e: EventBase): readonly (string | number)[] }
  >();
  for (const d of kinds.definitions) {
    // The definition's cells, in the file's column order, with the commas between them.
    const placed = d.csvColumns.map((c, i) => ({ at: columns.indexOf(c), i }))
      .sort((a, b) => a.at - b.at);
    const gaps: string[] = [];
    let previous = head - 1;
    for (const p of placed) {
      gaps.push(",".repeat(p.at - previous));
      previous = p.at;
    }
    gaps.push(",".repeat(columns.length - 1 - previous));
    const format = { order: placed.map((p) => p.i), gaps, cells: (e: EventBase) => d.csvCells(e) };
    for (const kind of Object.keys(d.counts)) formats.set(kind, format);
  }
  return (e) => {
    const f = formats.get(e.kind);
    if (f === undefined) {
      throw new RangeError(`Cannot write an event of kind "${e.kind}" to CSV: no definition of it`);
    }
    const cells = f.cells(e);
    let row = `${e.kind},${e.pid},${e.tid},${e.timestampNs}`;
    for (let i = 0; i < f.order.length; i++) row += f.gaps[i]! + cells[f.order[i]!]!;
    return row + f.gaps[f.order.length]!;
  };
}

const defaultRow = csvRowFormatter(EVENT_KINDS);

/**
 * The CSV row of one of faultline's own events, without its newline.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventToCsvRow } from "./events_csv_writer.ts";
 * const row = eventToCsvRow({
 *   kind: "munmap", pid: 5, tid: 6, timestampNs: 200, addr: 0x7f00n, length: 8192, ret: 0,
 *   latencyNs: 900,
 * });
 * assert.equal(row, "munmap,5,6,200,900,0x7f00,8192,,,,,0,,,,,,,,,,,,");
 * ```
 */
export function eventToCsvRow(event: FaultlineEvent | EventBase): string {
  return defaultRow(event);
}

/** Options for {@link EventsCsvWriter}. */
export interface EventsCsvWriterOptions {
  /** The kinds whose columns and cells it writes; every kind faultline has by default. */
  kinds?: EventKindTable;
  /** Told once if writing fails; the writer then drops every later row. */
  onError?: (error: FaultlineError) => void;
  /** How often buffered rows are written even when fewer than 64 KiB wait, in ms; default 1000. */
  flushMs?: number;
}

/**
 * Streams events to a CSV file: rows are buffered and written in 64 KiB writes, and at least
 * once a second, so `tail -f` follows a slow trace. Nothing is opened until
 * {@link EventsCsvWriter.open} (rows written before wait in memory), so a trace that fails to
 * start leaves an existing file as it was. A write that fails (a full disk) is said once
 * through `onError` and the file is left there: no exception reaches the caller, and tracing
 * goes on. Call {@link EventsCsvWriter.close} to write the tail and close the file.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventsCsvWriter } from "./events_csv_writer.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".csv" });
 * const writer = new EventsCsvWriter(path);
 * writer.write({ kind: "minor_fault", pid: 5, tid: 6, timestampNs: 310, latencyNs: 10 });
 * writer.open();
 * writer.close();
 * const lines = Deno.readTextFileSync(path).trimEnd().split("\n");
 * assert.equal(lines[0]!.split(",")[4], "latency_ns");
 * assert.equal(lines.length, 2);
 * Deno.removeSync(path);
 * ```
 */
export class EventsCsvWriter {
  /** The file's path. */
  readonly path: string;
  #file: Deno.FsFile | null = null;
  #encoder = new TextEncoder();
  #row: CsvRowFormatter;
  #pending: string[] = [];
  #pendingBytes = 0;
  #rows = 0;
  #written = 0;
  #error: FaultlineError | null = null;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #onError?: (error: FaultlineError) => void;
  readonly #flushMs: number;

  /** A writer of `path` with the header row of the kinds' columns waiting; see `open()`. */
  constructor(path: string, options: EventsCsvWriterOptions = {}) {
    const kinds = options.kinds ?? EVENT_KINDS;
    this.path = path;
    this.#row = kinds === EVENT_KINDS ? defaultRow : csvRowFormatter(kinds);
    this.#onError = options.onError;
    this.#flushMs = options.flushMs ?? 1000;
    this.#push(kinds.csvColumns.join(","));
  }

  /**
   * Creates (or truncates) the file and writes what waits.
   *
   * @throws {FaultlineError} when the file cannot be opened.
   */
  open(): void {
    try {
      this.#file = Deno.openSync(this.path, { write: true, create: true, truncate: true });
    } catch (e) {
      throw new FaultlineError(
        `Cannot write the events CSV to ${this.path}: ${ioReason(e)}; ` +
          `check the directory exists and is writable`,
      );
    }
    const timer = setInterval(() => this.flush(), this.#flushMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
    this.flush();
  }

  /** Rows given so far, not counting the header. */
  get rows(): number {
    return this.#rows;
  }

  /** The error that stopped the writing, if one did. */
  get error(): FaultlineError | null {
    return this.#error;
  }

  /** Appends one event's row. */
  write(event: FaultlineEvent | EventBase): void {
    this.#rows++;
    if (this.#error !== null) return;
    this.#push(this.#row(event));
  }

  #push(row: string): void {
    this.#pending.push(row);
    this.#pendingBytes += row.length + 1;
    if (this.#pendingBytes >= FLUSH_BYTES && this.#file !== null) this.flush();
  }

  /** Writes every waiting row to the file (once it is open). */
  flush(): void {
    if (this.#file === null || this.#error !== null || this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.join("\n") + "\n");
    const rows = this.#pending.length;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      let off = 0;
      while (off < bytes.length) off += this.#file.writeSync(bytes.subarray(off));
      this.#written += rows;
    } catch (e) {
      this.#error = new FaultlineError(
        `Cannot write the events CSV to ${this.path}: ${ioReason(e)}; ` +
          `it stops after ${Math.max(0, this.#written - 1)} rows while tracing goes on`,
      );
      clearInterval(this.#timer);
      this.#onError?.(this.#error);
    }
  }

  /** Writes the tail and closes the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.flush();
    try {
      this.#file?.close();
    } catch { /* closed */ }
  }
}
