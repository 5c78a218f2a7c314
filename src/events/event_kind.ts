/**
 * What declares an event kind: one {@link EventKindDefinition} holds every rule of a kind (its
 * ring record and bpftrace line, how it decodes, how it folds into the aggregation, its
 * events-CSV cells, its JSON counts key). Decoding, folding, the events CSV and the bpftrace
 * parser are built from the definitions (event_kinds.ts), so adding a kind is its probe plus
 * one definition.
 *
 * @module
 */

import type { EventBase } from "./faultline_event.ts";

/**
 * A number the aggregation keeps (a count, an error tally); folds bump `value`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Tally } from "./event_kind.ts";
 * const t: Tally = { value: 0 };
 * t.value++;
 * assert.equal(t.value, 1);
 * ```
 */
export interface Tally {
  /** The current value. */
  value: number;
}

/**
 * Where a fold puts a value: a histogram.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ValueSink } from "./event_kind.ts";
 * const seen: number[] = [];
 * const sink: ValueSink = { add: (v) => void seen.push(v) };
 * sink.add(4096);
 * assert.deepEqual(seen, [4096]);
 * ```
 */
export interface ValueSink {
  /** Adds one non-negative integer. */
  add(value: number): void;
}

/**
 * What a definition folds into, provided by the aggregation. Every name asked for must have
 * been declared by some definition ({@link EventKindDefinition.counts}, `tallies`,
 * `histograms`); asking twice gives the same object.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { KindStore } from "./event_kind.ts";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * const agg = new Aggregator();
 * const store: KindStore = agg;
 * store.count("mmap").value += 2;
 * assert.equal(agg.counts.mmap, 2);
 * ```
 */
export interface KindStore {
  /** The counter behind JSON `counts[key]`. */
  count(key: string): Tally;
  /** A declared tally, by its path in the report (`"mmap_errors"`, `"fault_kinds.read"`). */
  tally(path: string): Tally;
  /** A declared histogram, by its name in the report's `histograms`. */
  histogram(name: string): ValueSink;
}

/**
 * A histogram a kind adds to the report.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { HistogramDeclaration } from "./event_kind.ts";
 * import { mmapKind } from "./mmap_kind.ts";
 * const h: HistogramDeclaration = mmapKind.histograms![0]!;
 * assert.deepEqual(h, { name: "mmap_latency_ns", unit: "ns", order: 10 });
 * ```
 */
export interface HistogramDeclaration {
  /** Its key in the report's `histograms` (e.g. `"mmap_latency_ns"`). */
  readonly name: string;
  /** The unit of its values: `"ns"` or `"bytes"`. */
  readonly unit: string;
  /** Where it sits among the report's histograms: lower first. */
  readonly order: number;
}

/**
 * A number a kind adds to the report beside `counts`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TallyDeclaration } from "./event_kind.ts";
 * import { mmapKind } from "./mmap_kind.ts";
 * const t: TallyDeclaration = mmapKind.tallies![0]!;
 * assert.equal(t.path, "mmap_errors");
 * ```
 */
export interface TallyDeclaration {
  /** Its path in the report: `"mmap_errors"`, or `"fault_kinds.read"` for a nested one. */
  readonly path: string;
  /** Where its top-level key sits among the report's tallies: lower first. */
  readonly order: number;
}

/**
 * A kind's fixed-size ring-buffer record (probes/faultline.h).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RecordFormat } from "./event_kind.ts";
 * import type { MunmapEvent } from "./faultline_event.ts";
 * import { munmapKind } from "./munmap_kind.ts";
 * const record: RecordFormat<MunmapEvent> = munmapKind.record!;
 * assert.equal(record.ids.munmap, 2);
 * assert.equal(record.struct, "fl_syscall");
 * ```
 */
export interface RecordFormat<E extends EventBase> {
  /** The C struct it is, as named in faultline.h and the object's BTF. */
  readonly struct: string;
  /** Byte offsets of the struct's fields, and its `size`. */
  readonly layout: Readonly<Record<string, number>>;
  /** The `enum fl_kind` value of each event kind the record carries. */
  readonly ids: Readonly<Record<string, number>>;
  /** Decodes the record at `at` (its header's `kind` is `id`) into an event. */
  decode(view: DataView, at: number, id: number): E;
  /**
   * Writes the kind's CSV cells straight from the record, in its
   * {@link EventKindDefinition.csvColumns} order, no event object or string made: the same
   * cells as {@link EventKindDefinition.csvCells} of {@link RecordFormat.decode}'s event (the
   * hot kinds have it; the events CSV decodes the others).
   */
  csvWrite?(out: CsvCellWriter, view: DataView, at: number, id: number): void;
}

/**
 * Where {@link RecordFormat.csvWrite} puts a record's CSV cells, one after another (the events
 * CSV writes them as bytes, with the empty cells of other kinds' columns between).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CsvCellWriter } from "./event_kind.ts";
 * const cells: string[] = [];
 * const out: CsvCellWriter = {
 *   cell: (v) => void cells.push(String(v)),
 *   hexU64: (view, at) => void cells.push(`0x${view.getBigUint64(at, true).toString(16)}`),
 *   hexI64: (view, at) => void cells.push(String(view.getBigInt64(at, true))),
 * };
 * out.cell(7);
 * out.hexU64(new DataView(new ArrayBuffer(8)), 0);
 * assert.deepEqual(cells, ["7", "0x0"]);
 * ```
 */
export interface CsvCellWriter {
  /** The next cell: an integer in decimal, or ASCII text as it is (a word, or "" for none). */
  cell(value: number | string): void;
  /** The next cell: the unsigned 64-bit field at `at`, as {@link hexU64Cell} writes it. */
  hexU64(view: DataView, at: number): void;
  /** The next cell: the signed 64-bit field at `at`, as {@link hexI64Cell} writes it. */
  hexI64(view: DataView, at: number): void;
}

/**
 * A kind's line in probes/faultline.bt's output (the script's header is the contract).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LineFormat } from "./event_kind.ts";
 * import type { MunmapEvent } from "./faultline_event.ts";
 * import { munmapKind } from "./munmap_kind.ts";
 * const line: LineFormat<MunmapEvent> = munmapKind.line!;
 * assert.equal(line.parse("u 9 100 3000 4096 8192 0".split(" "), "munmap", 8).length, 8192);
 * ```
 */
export interface LineFormat<E extends EventBase> {
  /** The first field of each line, and the event kind it stands for. */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * How many space-separated fields a whole line has, tag included and its PID (every line's
   * second field, which the parser takes off before {@link LineFormat.parse}) left out.
   */
  readonly fields: number;
  /**
   * When true, the last field is text (a command name, which may hold spaces): the rest of the
   * line after the fields before it. Every other field is an integer.
   */
  readonly text?: boolean;
  /** Reads the fields of a whole line, PID taken off: `f[1]` is the tid, `f[2]` the timestamp. */
  parse(f: readonly string[], kind: string, pid: number): E;
}

/**
 * A kind's rules bound to one aggregation.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { KindFolder } from "./event_kind.ts";
 * import type { MunmapEvent } from "./faultline_event.ts";
 * import { munmapKind } from "./munmap_kind.ts";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * const agg = new Aggregator();
 * const folder: KindFolder<MunmapEvent> = munmapKind.bind(agg);
 * folder.add({ kind: "munmap", pid: 1, tid: 1, timestampNs: 0, addr: 0n, length: 4096, ret: 0, latencyNs: 900 });
 * assert.equal(agg.counts.munmap, 1);
 * ```
 */
export interface KindFolder<E extends EventBase> {
  /** Folds one event object in. */
  add(event: E): void;
  /**
   * Folds the ring record at `at` (kind `id`) in without making an event object: the same
   * numbers {@link KindFolder.add} of its decoded event gives, read straight from the record.
   */
  fold(view: DataView, at: number, id: number): void;
}

/**
 * Everything about one kind of event (or a family, like the two page-fault tracepoints).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { EventKindDefinition } from "./event_kind.ts";
 * import type { MunmapEvent } from "./faultline_event.ts";
 * import { munmapKind } from "./munmap_kind.ts";
 * const definition: EventKindDefinition<MunmapEvent> = munmapKind;
 * assert.deepEqual(Object.keys(definition.counts), ["munmap"]);
 * ```
 */
export interface EventKindDefinition<E extends EventBase = EventBase> {
  /** The definition's name, for messages. */
  readonly name: string;
  /** Each event kind it covers, and the key that counts it in the JSON report's `counts`. */
  readonly counts: Readonly<Record<string, string>>;
  /** Numbers it adds beside `counts` (errors, breakdowns), all starting at 0. */
  readonly tallies?: readonly TallyDeclaration[];
  /** Histograms it adds. */
  readonly histograms?: readonly HistogramDeclaration[];
  /**
   * Its events-CSV columns (beyond `kind,pid,tid,timestamp_ns`), in order; a column other
   * kinds also fill is shared, a new one is appended to the file's columns.
   */
  readonly csvColumns: readonly string[];
  /** The cells of {@link EventKindDefinition.csvColumns} for one event, in that order. */
  csvCells(event: E): readonly (string | number)[];
  /** Its ring record, when the ringbuf engine captures it. */
  readonly record?: RecordFormat<E>;
  /** Its bpftrace line, when the bpftrace engine captures it. */
  readonly line?: LineFormat<E>;
  /** Binds its folding to a store: look the tallies and histograms up once, here. */
  bind(store: KindStore): KindFolder<E>;
}

const TWO_32 = 2 ** 32;

/** Byte offsets of struct fl_header, the start of every ring record. */
export const FL_HEADER = { ts_ns: 0, tid: 8, kind: 12, pid: 16, flags: 20, size: 24 } as const;

/**
 * fl_header.flags: another record, its own header first, follows this one in the same ring
 * record, at this record's size (a fault and its completion: struct fl_fault_pair).
 */
export const FL_FOLLOWED = 1;

/** Whether another record follows the record at `at` in its ring record (FL_FOLLOWED). */
export function recordFollowed(view: DataView, at: number): boolean {
  return (view.getUint32(at + FL_HEADER.flags, true) & FL_FOLLOWED) !== 0;
}

/** A u64 field of a record as a number (exact below 2^53: times, lengths, latencies). */
export function readU64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * TWO_32;
}

/** The header's timestamp of the record at `at`. */
export function recordTimestamp(view: DataView, at: number): number {
  return readU64(view, at + FL_HEADER.ts_ns);
}

/** The header's thread id of the record at `at`. */
export function recordTid(view: DataView, at: number): number {
  return view.getUint32(at + FL_HEADER.tid, true);
}

/** The header's process id (tgid) of the record at `at`. */
export function recordPid(view: DataView, at: number): number {
  return view.getUint32(at + FL_HEADER.pid, true);
}

/** The header's kind (`enum fl_kind`) of the record at `at`. */
export function recordKind(view: DataView, at: number): number {
  return view.getUint32(at + FL_HEADER.kind, true);
}

/** A text cell (a command name) as the events CSV writes it: quoted when it must be. */
export function csvText(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** An address or other 64-bit value as the events CSV writes it: `0x...`, or signed decimal. */
export function hexCell(v: bigint): string {
  return v < 0n ? String(v) : `0x${v.toString(16)}`;
}

/**
 * The unsigned 64-bit field at `at` as {@link hexCell} writes it, read as two 32-bit words
 * (no BigInt made).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexCell, hexU64Cell } from "./event_kind.ts";
 * const view = new DataView(new ArrayBuffer(8));
 * view.setBigUint64(0, 0xffffffff81000010n, true);
 * assert.equal(hexU64Cell(view, 0), hexCell(0xffffffff81000010n));
 * ```
 */
export function hexU64Cell(view: DataView, at: number): string {
  const low = view.getUint32(at, true);
  const high = view.getUint32(at + 4, true);
  return high === 0
    ? `0x${low.toString(16)}`
    : `0x${high.toString(16)}${low.toString(16).padStart(8, "0")}`;
}

/**
 * The signed 64-bit field at `at` as {@link hexCell} writes it: hexadecimal, or in decimal
 * when negative (-errno).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexI64Cell } from "./event_kind.ts";
 * const view = new DataView(new ArrayBuffer(8));
 * view.setBigInt64(0, -12n, true);
 * assert.equal(hexI64Cell(view, 0), "-12");
 * ```
 */
export function hexI64Cell(view: DataView, at: number): string {
  return view.getInt32(at + 4, true) < 0
    ? String(view.getBigInt64(at, true))
    : hexU64Cell(view, at);
}
