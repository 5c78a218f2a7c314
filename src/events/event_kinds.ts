/**
 * The table of event kinds: every definition faultline knows, and what is built from them
 * (record decoding and folding, bpftrace line lookup, the events-CSV columns, the report's
 * counts, tallies and histograms, in order).
 *
 * @module
 */

import {
  type EventKindDefinition,
  type HistogramDeclaration,
  type KindFolder,
  type KindStore,
  recordFollowed,
  recordKind,
  type TallyDeclaration,
} from "./event_kind.ts";
import type { EventBase, FaultlineEvent } from "./faultline_event.ts";
import { faultDoneKind } from "./fault_done_kind.ts";
import { mmapKind } from "./mmap_kind.ts";
import { munmapKind } from "./munmap_kind.ts";
import { pageFaultKind } from "./page_fault_kind.ts";
import { processExecKind, processExitKind, processForkKind } from "./process_kinds.ts";
import { brkKind, madviseKind, mprotectKind, mremapKind, msyncKind } from "./syscall_kinds.ts";

/** The columns every events-CSV row starts with, whatever its kind. */
export const EVENTS_CSV_HEAD = ["kind", "pid", "tid", "timestamp_ns"] as const;

/**
 * Folds one ring record (every record it holds) in; false when a kind is not in the table.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EVENT_KINDS, type RecordFolder } from "./event_kinds.ts";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * const agg = new Aggregator();
 * const fold: RecordFolder = EVENT_KINDS.recordFolder(agg);
 * const record = new DataView(new ArrayBuffer(32));
 * record.setUint32(12, 5, true); // FL_MINOR
 * record.setBigUint64(24, 900n, true); // its latency
 * assert.ok(fold(record, 0));
 * assert.equal(agg.counts.minor_faults, 1);
 * ```
 */
export type RecordFolder = (view: DataView, at: number) => boolean;

/**
 * A set of event kind definitions, checked for clashes, and what is derived from them.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EventKindTable } from "./event_kinds.ts";
 * import { mmapKind } from "./mmap_kind.ts";
 * const onlyMmap = new EventKindTable([mmapKind]);
 * assert.deepEqual(onlyMmap.countKeys, ["mmap"]);
 * assert.equal(onlyMmap.csvColumns.length, 12);
 * assert.throws(() => onlyMmap.with(mmapKind), /event kind mmap is taken/);
 * ```
 */
export class EventKindTable {
  /** The definitions, in the order given. */
  readonly definitions: readonly EventKindDefinition[];
  /** Every events-CSV column: {@link EVENTS_CSV_HEAD}, then each new column in order. */
  readonly csvColumns: readonly string[];
  /** The report's `counts` keys, in order. */
  readonly countKeys: readonly string[];
  /** The report's tallies, by `order` (stable). */
  readonly tallies: readonly TallyDeclaration[];
  /** The report's histograms, by `order` (stable). */
  readonly histograms: readonly HistogramDeclaration[];
  readonly #byKind = new Map<string, EventKindDefinition>();
  readonly #byRecordId: (EventKindDefinition | undefined)[] = [];
  readonly #byTag = new Map<string, { definition: EventKindDefinition; kind: string }>();

  /**
   * Makes a table of `definitions`.
   *
   * @throws {Error} when two definitions claim one event kind, record id, line tag, count
   * key, tally or histogram.
   */
  constructor(definitions: readonly EventKindDefinition[]) {
    this.definitions = [...definitions];
    const columns: string[] = [...EVENTS_CSV_HEAD];
    const countKeys: string[] = [];
    const tallies: TallyDeclaration[] = [];
    const histograms: HistogramDeclaration[] = [];
    const clash = (what: string, name: string | number, d: EventKindDefinition) =>
      new Error(`Cannot add event kind definition "${d.name}": ${what} ${name} is taken`);
    for (const d of definitions) {
      for (const [kind, key] of Object.entries(d.counts)) {
        if (this.#byKind.has(kind)) throw clash("event kind", kind, d);
        if (countKeys.includes(key)) throw clash("count key", key, d);
        this.#byKind.set(kind, d);
        countKeys.push(key);
      }
      for (const t of d.tallies ?? []) {
        if (tallies.some((o) => o.path === t.path)) throw clash("tally", t.path, d);
        tallies.push(t);
      }
      for (const h of d.histograms ?? []) {
        if (histograms.some((o) => o.name === h.name)) throw clash("histogram", h.name, d);
        histograms.push(h);
      }
      for (const c of d.csvColumns) if (!columns.includes(c)) columns.push(c);
      for (const id of Object.values(d.record?.ids ?? {})) {
        if (this.#byRecordId[id] !== undefined) throw clash("record id", id, d);
        this.#byRecordId[id] = d;
      }
      for (const [tag, kind] of Object.entries(d.line?.tags ?? {})) {
        if (this.#byTag.has(tag)) throw clash("line tag", tag, d);
        this.#byTag.set(tag, { definition: d, kind });
      }
    }
    this.csvColumns = columns;
    this.countKeys = countKeys;
    this.tallies = tallies.sort((a, b) => a.order - b.order);
    this.histograms = histograms.sort((a, b) => a.order - b.order);
  }

  /** A table with these definitions added after this one's. */
  with(...definitions: EventKindDefinition[]): EventKindTable {
    return new EventKindTable([...this.definitions, ...definitions]);
  }

  /** The definition of event kind `kind`, if any. */
  definitionOf(kind: string): EventKindDefinition | undefined {
    return this.#byKind.get(kind);
  }

  /** The definition and event kind of a bpftrace line's tag, if any. */
  lineTag(tag: string): { definition: EventKindDefinition; kind: string } | undefined {
    return this.#byTag.get(tag);
  }

  /**
   * Decodes the record at `at` (its fl_header first) into an event, or null for a kind the
   * table does not hold. One record: see {@link EventKindTable.decodeRecords} for a whole ring
   * record.
   */
  decodeRecord(view: DataView, at: number): FaultlineEvent | null {
    const id = recordKind(view, at);
    const record = this.#byRecordId[id]?.record;
    return record ? record.decode(view, at, id) as FaultlineEvent : null;
  }

  /**
   * Decodes the ring record at `at` into `each`, one event per record it holds (a fault and
   * its completion travel together, {@link FL_FOLLOWED}); false when a kind is not in the
   * table (what follows it cannot be found).
   */
  decodeRecords(view: DataView, at: number, each: (event: FaultlineEvent) => void): boolean {
    for (;;) {
      const id = recordKind(view, at);
      const record = this.#byRecordId[id]?.record;
      if (record === undefined) return false;
      each(record.decode(view, at, id) as FaultlineEvent);
      if (!recordFollowed(view, at)) return true;
      at += record.layout.size!;
    }
  }

  /**
   * A function folding ring records straight into `store`, with no event objects: for each
   * record (each one a ring record holds), what decoding it and adding the event to `store`
   * would count; then `tap` of it, when given.
   */
  recordFolder(store: KindStore, tap?: (view: DataView, at: number) => void): RecordFolder {
    const folders: (KindFolder<EventBase> | undefined)[] = [];
    const sizes: number[] = [];
    const bound = new Map<EventKindDefinition, KindFolder<EventBase>>();
    this.#byRecordId.forEach((d, id) => {
      if (d === undefined) return;
      if (!bound.has(d)) bound.set(d, d.bind(store));
      folders[id] = bound.get(d);
      sizes[id] = d.record!.layout.size!;
    });
    return (view, at) => {
      for (;;) {
        const id = recordKind(view, at);
        const folder = folders[id];
        if (folder === undefined) return false;
        folder.fold(view, at, id);
        if (tap !== undefined) tap(view, at);
        if (!recordFollowed(view, at)) return true;
        at += sizes[id]!;
      }
    };
  }
}

/**
 * Every kind this version of faultline traces: mmap, munmap, the page faults, the handled
 * faults, mremap, mprotect, madvise, brk and msync, and the traced processes' forks, execs
 * and exits.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EVENT_KINDS } from "./event_kinds.ts";
 * assert.deepEqual(EVENT_KINDS.countKeys, [
 *   "mmap", "munmap", "page_fault_user", "page_fault_kernel", "minor_faults", "major_faults",
 *   "mremap", "mprotect", "madvise", "brk", "msync", "process_forks", "process_execs",
 *   "process_exits",
 * ]);
 * ```
 */
export const EVENT_KINDS: EventKindTable = new EventKindTable([
  mmapKind,
  munmapKind,
  pageFaultKind,
  faultDoneKind,
  mremapKind,
  mprotectKind,
  madviseKind,
  brkKind,
  msyncKind,
  processForkKind,
  processExecKind,
  processExitKind,
]);
