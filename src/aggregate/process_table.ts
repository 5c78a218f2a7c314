/**
 * Who: the events counted per traced process, with each process's parent, command name and
 * exit, bounded (past the limit, the processes that did least are summed into one row).
 *
 * @module
 */

import { EVENT_KINDS, type EventKindTable } from "../events/event_kinds.ts";
import { recordPid } from "../events/event_kind.ts";

/** The kinds whose events carry what the table keeps beyond a count. */
const NEEDS_EVENT = ["process_fork", "process_exec", "process_exit"];
import {
  type EventBase,
  exitStatusOf,
  type FaultlineEvent,
  type ProcessExecEvent,
  type ProcessExitEvent,
  type ProcessForkEvent,
} from "../events/faultline_event.ts";

/**
 * What /proc says of a process faultline did not see start.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProcessInfo } from "./process_table.ts";
 * const info: ProcessInfo = { parent: 1, command: "sshd" };
 * assert.equal(info.parent, 1);
 * ```
 */
export interface ProcessInfo {
  /** Its parent's pid. */
  parent: number | null;
  /** Its command name (the kernel's comm). */
  command: string | null;
}

/**
 * One process's row in the report (`processes`), or the `other` row summing the processes
 * past the limit (pid null, `processes` how many).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessTable, type ProcessReport } from "./process_table.ts";
 * const table = new ProcessTable();
 * table.add({ kind: "minor_fault", pid: 7, tid: 7, timestampNs: 1, latencyNs: 700 });
 * const [row]: ProcessReport[] = table.report();
 * assert.equal(row!.faults, 1);
 * ```
 */
export interface ProcessReport {
  /** The process id (tgid); null for the `other` row. */
  pid: number | null;
  /** Its parent's pid, when known. */
  parent: number | null;
  /** Its command name (the last exec's), when known; `"(other)"` for the `other` row. */
  command: string | null;
  /** How many processes the row holds (1, or more for `other`). */
  processes: number;
  /** When its last thread exited (kernel CLOCK_MONOTONIC ns, as the events CSV), or null. */
  exit_timestamp_ns: number | null;
  /** Its exit status (128 + signal when killed), or null if it did not exit while traced. */
  exit_status: number | null;
  /** minor_faults + major_faults. */
  faults: number;
  /** Its events by the report's `counts` keys. */
  counts: Record<string, number>;
}

interface Row {
  pid: number;
  parent: number | null;
  command: string | null;
  exitNs: number | null;
  exitStatus: number | null;
  counts: Float64Array;
  total: number;
}

/**
 * Options for {@link ProcessTable}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessTable, type ProcessTableOptions } from "./process_table.ts";
 * const options: ProcessTableOptions = { limit: 2, describe: () => ({ parent: 1, command: "x" }) };
 * assert.equal(new ProcessTable(options).size, 0);
 * ```
 */
export interface ProcessTableOptions {
  /** The kinds counted (their `counts` keys are the columns); every kind by default. */
  kinds?: EventKindTable;
  /** The most processes kept apart (default 4096); the rest are summed into `other`. */
  limit?: number;
  /** Says who a process is that was not seen forking (read from /proc by the session). */
  describe?: (pid: number) => ProcessInfo | null;
}

/**
 * Events per traced process.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessTable } from "./process_table.ts";
 * const table = new ProcessTable();
 * table.add({ kind: "process_fork", pid: 10, tid: 10, timestampNs: 1, child: 11, command: "sh" });
 * table.add({ kind: "process_exec", pid: 11, tid: 11, timestampNs: 2, command: "cc1" });
 * table.add({ kind: "minor_fault", pid: 11, tid: 11, timestampNs: 3, latencyNs: 800 });
 * table.add({ kind: "process_exit", pid: 11, tid: 11, timestampNs: 4, exitCode: 256, command: "cc1" });
 * const child = table.report().find((r) => r.pid === 11)!;
 * assert.deepEqual([child.parent, child.command, child.exit_status, child.faults], [10, "cc1", 1, 1]);
 * ```
 */
export class ProcessTable {
  readonly #keys: readonly string[];
  readonly #column = new Map<string, number>();
  /** By ring record id: its column, or -1 for the kinds that need their event (forks...). */
  readonly #columnById: number[] = [];
  readonly #minor: number;
  readonly #major: number;
  readonly #limit: number;
  readonly #describe: (pid: number) => ProcessInfo | null;
  readonly #rows = new Map<number, Row>();
  /** The row the last event went to: events come in runs from one process. */
  #last: Row | null = null;
  readonly #other: Float64Array;
  #otherProcesses = 0;

  /** Makes an empty table. */
  constructor(options: ProcessTableOptions = {}) {
    const kinds = options.kinds ?? EVENT_KINDS;
    this.#keys = kinds.countKeys;
    for (const d of kinds.definitions) {
      for (const [kind, key] of Object.entries(d.counts)) {
        this.#column.set(kind, this.#keys.indexOf(key));
      }
      for (const [kind, id] of Object.entries(d.record?.ids ?? {})) {
        this.#columnById[id] = NEEDS_EVENT.includes(kind)
          ? -1
          : this.#keys.indexOf(d.counts[kind]!);
      }
    }
    this.#minor = this.#keys.indexOf("minor_faults");
    this.#major = this.#keys.indexOf("major_faults");
    this.#limit = options.limit ?? 4096;
    this.#describe = options.describe ?? (() => null);
    this.#other = new Float64Array(this.#keys.length);
  }

  /** How many processes it keeps apart. */
  get size(): number {
    return this.#rows.size;
  }

  #row(pid: number, info?: ProcessInfo): Row {
    if (this.#last !== null && this.#last.pid === pid) return this.#last;
    let row = this.#rows.get(pid);
    if (row !== undefined) return this.#last = row;
    if (this.#rows.size >= this.#limit) this.#evict();
    const known = info ?? this.#describe(pid) ?? { parent: null, command: null };
    row = {
      pid,
      parent: known.parent,
      command: known.command,
      exitNs: null,
      exitStatus: null,
      counts: new Float64Array(this.#keys.length),
      total: 0,
    };
    this.#rows.set(pid, row);
    return this.#last = row;
  }

  /** Sums the exited process that did least (or, if none exited, the least busy) into other. */
  #evict(): void {
    let victim: Row | null = null;
    for (const r of this.#rows.values()) {
      const better = victim === null ||
        (r.exitNs !== null && victim.exitNs === null) ||
        ((r.exitNs !== null) === (victim.exitNs !== null) && r.total < victim.total);
      if (better) victim = r;
    }
    if (victim !== null) this.#retire(victim);
  }

  /** Sums a row into other and forgets it. */
  #retire(row: Row): void {
    if (this.#last === row) this.#last = null;
    for (let i = 0; i < row.counts.length; i++) this.#other[i]! += row.counts[i]!;
    this.#otherProcesses++;
    this.#rows.delete(row.pid);
  }

  /**
   * Counts the ring record at `at` (kind `id`) against its process without an event object,
   * as {@link ProcessTable.add} of its event would. False for the kinds that need their event
   * (a fork's child, an exec's name, an exit's status): decode it and add the event.
   */
  foldRecord(view: DataView, at: number, id: number): boolean {
    const column = this.#columnById[id];
    if (column === undefined || column < 0) return false;
    const row = this.#row(recordPid(view, at));
    row.counts[column]! += 1;
    row.total++;
    return true;
  }

  /** Counts one event against its process. */
  add(event: FaultlineEvent | EventBase): void {
    const column = this.#column.get(event.kind);
    if (event.kind === "process_fork") {
      const e = event as ProcessForkEvent;
      const child = this.#rows.get(e.child);
      // A pid forked after it exited is a new process: the old row is summed into other. (The
      // bpftrace engine may deliver a short-lived child's exit before its fork: that is not one.)
      if (child !== undefined && child.exitNs !== null && e.timestampNs > child.exitNs) {
        this.#retire(child);
      }
      this.#row(e.child, { parent: e.pid, command: e.command });
    }
    const row = this.#row(event.pid);
    if (column !== undefined && column >= 0) {
      row.counts[column]! += 1;
      row.total++;
    }
    if (event.kind === "process_exec") row.command = (event as ProcessExecEvent).command;
    else if (event.kind === "process_exit") {
      const e = event as ProcessExitEvent;
      row.exitNs = e.timestampNs;
      row.exitStatus = exitStatusOf(e.exitCode);
      row.command ??= e.command;
    }
  }

  /** The command name of `pid`, when known. */
  commandOf(pid: number): string | null {
    return this.#rows.get(pid)?.command ?? null;
  }

  /**
   * The rows, the busiest first (faults, then every event), at most `top` of them, then an
   * `other` row summing the rest when there is any.
   */
  report(top = 100): ProcessReport[] {
    const rows = [...this.#rows.values()].sort((a, b) =>
      this.#faults(b.counts) - this.#faults(a.counts) || b.total - a.total || a.pid - b.pid
    );
    const out: ProcessReport[] = rows.slice(0, top).map((r) => ({
      pid: r.pid,
      parent: r.parent,
      command: r.command,
      processes: 1,
      exit_timestamp_ns: r.exitNs,
      exit_status: r.exitStatus,
      faults: this.#faults(r.counts),
      counts: this.#countsOf(r.counts),
    }));
    const rest = rows.slice(top);
    if (rest.length > 0 || this.#otherProcesses > 0) {
      const sum = Float64Array.from(this.#other);
      for (const r of rest) for (let i = 0; i < sum.length; i++) sum[i]! += r.counts[i]!;
      out.push({
        pid: null,
        parent: null,
        command: "(other)",
        processes: rest.length + this.#otherProcesses,
        exit_timestamp_ns: null,
        exit_status: null,
        faults: this.#faults(sum),
        counts: this.#countsOf(sum),
      });
    }
    return out;
  }

  #faults(counts: Float64Array): number {
    return (this.#minor >= 0 ? counts[this.#minor]! : 0) +
      (this.#major >= 0 ? counts[this.#major]! : 0);
  }

  #countsOf(counts: Float64Array): Record<string, number> {
    const out: Record<string, number> = {};
    this.#keys.forEach((k, i) => out[k] = counts[i]!);
    return out;
  }
}
