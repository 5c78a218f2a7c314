/**
 * The per-event CSV export, streamed to disk as events arrive. Its columns and each kind's
 * cells come from the event kind definitions.
 *
 * @module
 */

import { Timer } from "../common/timer.ts";
import { FaultlineError } from "../common/faultline_error.ts";
import { EVENT_KINDS, type EventKindTable } from "../events/event_kinds.ts";
import {
  type CsvCellWriter,
  type EventKindDefinition,
  hexI64Cell,
  type RecordFormat,
  recordKind,
  recordPid,
  recordTid,
  recordTimestamp,
} from "../events/event_kind.ts";
import { ioReason } from "./output_file.ts";
import { CsvBytes } from "./csv_bytes.ts";
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
  const formats = new Map<string, CsvPlacement>();
  for (const [d, placement] of placements(kinds)) {
    for (const kind of Object.keys(d.counts)) formats.set(kind, placement);
  }
  return (e) => {
    const f = formats.get(e.kind);
    if (f === undefined) {
      throw new RangeError(`Cannot write an event of kind "${e.kind}" to CSV: no definition of it`);
    }
    return placedRow(f, `${e.kind},${e.pid},${e.tid},${e.timestampNs}`, f.cells(e));
  };
}

/**
 * Formats the ring record at `at` as its event's row (the same as {@link CsvRowFormatter}
 * of the decoded event), or gives null for a kind the table lacks.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CsvRecordFormatter } from "./events_csv_writer.ts";
 * const none: CsvRecordFormatter = () => null;
 * assert.equal(none(new DataView(new ArrayBuffer(24)), 0), null);
 * ```
 */
export type CsvRecordFormatter = (view: DataView, at: number) => string | null;

/**
 * The row formatter of a table's ring records: the hot kinds' cells written straight from the
 * record ({@link RecordFormat.csvWrite}), the others through their event.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EVENT_KINDS } from "../events/event_kinds.ts";
 * import { FL_HEADER } from "../events/event_kind.ts";
 * import { FL_DONE } from "../events/fault_done_kind.ts";
 * import { csvRecordFormatter } from "./events_csv_writer.ts";
 * const view = new DataView(new ArrayBuffer(FL_DONE.size));
 * view.setBigUint64(FL_HEADER.ts_ns, 310n, true);
 * view.setUint32(FL_HEADER.tid, 6, true);
 * view.setUint32(FL_HEADER.kind, 5, true); // minor_fault
 * view.setUint32(FL_HEADER.pid, 5, true);
 * view.setBigUint64(FL_DONE.latency_ns, 10n, true);
 * assert.equal(csvRecordFormatter(EVENT_KINDS)(view, 0), "minor_fault,5,6,310,10,,,,,,,,,,,,,,,,,,,");
 * ```
 */
export function csvRecordFormatter(kinds: EventKindTable): CsvRecordFormatter {
  const write = csvRecordWriter(kinds);
  const out = new CsvBytes(512);
  const decoder = new TextDecoder();
  return (view, at) => {
    out.clear();
    return write(out, view, at) ? decoder.decode(out.view()) : null;
  };
}

/**
 * Writes the ring record at `at` as its event's row (no newline) to `out`; false, writing
 * nothing, for a kind the table lacks. The hot kinds' cells are written straight from the
 * record ({@link RecordFormat.csvWrite}), the others' through their event.
 */
function csvRecordWriter(
  kinds: EventKindTable,
): (out: CsvBytes, view: DataView, at: number) => boolean {
  const encoder = new TextEncoder();
  const cells = new PlacedCells();
  const byId: {
    name: Uint8Array;
    commas: number[];
    write: (out: CsvCellWriter, view: DataView, at: number, id: number) => void;
  }[] = [];
  for (const [d, placement] of placements(kinds)) {
    const record = d.record as RecordFormat<EventBase> | undefined;
    if (record === undefined) continue;
    const { order } = placement;
    // Cells written one after another land in the file's columns only when the kind's
    // columns are in the file's order (faultline's own kinds' are); else through the event.
    const inOrder = order.every((o, i) => o === i);
    const write = record.csvWrite !== undefined && inOrder
      ? record.csvWrite.bind(record)
      : (out: CsvCellWriter, view: DataView, at: number) => {
        const values = d.csvCells(kinds.decodeRecord(view, at)!);
        for (let i = 0; i < order.length; i++) out.cell(values[order[i]!]!);
      };
    for (const [name, id] of Object.entries(record.ids)) {
      byId[id] = {
        name: encoder.encode(`${name},`),
        commas: placement.gaps.map((g) => g.length),
        write,
      };
    }
  }
  return (out, view, at) => {
    const id = recordKind(view, at);
    const f = byId[id];
    if (f === undefined) return false;
    out.bytes(f.name);
    out.int(recordPid(view, at));
    out.byte(COMMA);
    out.int(recordTid(view, at));
    out.byte(COMMA);
    out.int(recordTimestamp(view, at));
    cells.start(out, f.commas);
    f.write(cells, view, at, id);
    cells.end();
    return true;
  };
}

/**
 * A row's cells written in the file's column order, each after the commas of the empty cells
 * before it (`commas[i]` before cell i, the last entry after the last cell).
 */
class PlacedCells implements CsvCellWriter {
  #out: CsvBytes = new CsvBytes(32);
  #commas: number[] = [];
  #next = 0;

  start(out: CsvBytes, commas: number[]): void {
    this.#out = out;
    this.#commas = commas;
    this.#next = 0;
  }

  cell(value: number | string): void {
    this.#out.commas(this.#commas[this.#next++]!);
    this.#out.cell(value);
  }

  hexU64(view: DataView, at: number): void {
    this.#out.commas(this.#commas[this.#next++]!);
    this.#out.hex(view.getUint32(at, true), view.getUint32(at + 4, true));
  }

  hexI64(view: DataView, at: number): void {
    const high = view.getInt32(at + 4, true);
    if (high < 0) this.cell(hexI64Cell(view, at));
    else this.hexU64(view, at);
  }

  end(): void {
    this.#out.commas(this.#commas[this.#next]!);
  }
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;

/** Where one definition's cells go in the file's columns, and the commas between them. */
interface CsvPlacement {
  order: number[];
  gaps: string[];
  cells(e: EventBase): readonly (string | number)[];
}

/** Each definition's placement in the file's columns. */
function placements(kinds: EventKindTable): [EventKindDefinition, CsvPlacement][] {
  const columns = kinds.csvColumns;
  const head = 4; // kind,pid,tid,timestamp_ns
  return kinds.definitions.map((d) => {
    const placed = d.csvColumns.map((c, i) => ({ at: columns.indexOf(c), i }))
      .sort((a, b) => a.at - b.at);
    const gaps: string[] = [];
    let previous = head - 1;
    for (const p of placed) {
      gaps.push(",".repeat(p.at - previous));
      previous = p.at;
    }
    gaps.push(",".repeat(columns.length - 1 - previous));
    return [d, { order: placed.map((p) => p.i), gaps, cells: (e: EventBase) => d.csvCells(e) }];
  });
}

/** A row: the head, then the cells at their places. */
function placedRow(f: CsvPlacement, head: string, cells: readonly (string | number)[]): string {
  let row = head;
  for (let i = 0; i < f.order.length; i++) row += f.gaps[i]! + cells[f.order[i]!]!;
  return row + f.gaps[f.order.length]!;
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
  #row: CsvRowFormatter;
  readonly #recordRow: (out: CsvBytes, view: DataView, at: number) => boolean;
  /** Rows waiting to be written, and how many (the header counts as one). */
  #pending = new CsvBytes(FLUSH_BYTES + 4096);
  #pendingRows = 0;
  #rows = 0;
  #written = 0;
  #error: FaultlineError | null = null;
  #closed = false;
  #timer: Timer | undefined;
  readonly #onError?: (error: FaultlineError) => void;
  readonly #flushMs: number;

  /** A writer of `path` with the header row of the kinds' columns waiting; see `open()`. */
  constructor(path: string, options: EventsCsvWriterOptions = {}) {
    const kinds = options.kinds ?? EVENT_KINDS;
    this.path = path;
    this.#row = kinds === EVENT_KINDS ? defaultRow : csvRowFormatter(kinds);
    this.#recordRow = csvRecordWriter(kinds);
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

  /**
   * Appends the row of the ring record at `at`, made from the record itself (the ringbuf
   * engine's hot path: no event object); false for a kind the table lacks.
   */
  writeRecord(view: DataView, at: number): boolean {
    if (!this.#recordRow(this.#pending, view, at)) return false;
    this.#rows++;
    if (this.#error === null) this.#ended();
    else this.#pending.clear();
    return true;
  }

  #push(row: string): void {
    this.#pending.ascii(row);
    this.#ended();
  }

  /** Ends the row just written, and writes what waits once there is enough of it. */
  #ended(): void {
    this.#pending.byte(NEWLINE);
    this.#pendingRows++;
    if (this.#file === null) return;
    if (this.#pending.length >= FLUSH_BYTES) this.flush();
    // Rows wait at most flushMs; with none waiting, no timer runs (an idle trace sleeps).
    else if (this.#timer === undefined && !this.#closed) {
      this.#timer = new Timer(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#flushMs);
    }
  }

  /** Writes every waiting row to the file (once it is open). */
  flush(): void {
    if (this.#file === null || this.#error !== null || this.#pending.length === 0) return;
    const bytes = this.#pending.view();
    const rows = this.#pendingRows;
    this.#pendingRows = 0;
    try {
      let off = 0;
      while (off < bytes.length) off += this.#file.writeSync(bytes.subarray(off));
      this.#written += rows;
      this.#pending.clear();
    } catch (e) {
      this.#pending.clear();
      this.#error = new FaultlineError(
        `Cannot write the events CSV to ${this.path}: ${ioReason(e)}; ` +
          `it stops after ${Math.max(0, this.#written - 1)} rows while tracing goes on`,
      );
      void this.#timer?.cancel();
      this.#onError?.(this.#error);
    }
  }

  /** Writes the tail and closes the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.#timer?.cancel();
    this.flush();
    try {
      this.#file?.close();
    } catch { /* closed */ }
  }
}
