/**
 * Where: every handled fault attributed to the mapping that holds its address (the file, or
 * `[anon]`, `[heap]`, `[stack]`, `[vdso]`...), per process, with its minor/major, access and
 * mode split and a latency histogram. Each process's address space is followed through the
 * traced mmap, munmap, mremap and brk calls, forks and execs; where faultline did not see a
 * mapping made (before tracing, or inside an exec), a snapshot of /proc/PID/maps fills it in.
 *
 * @module
 */

import type {
  BrkEvent,
  EventBase,
  FaultDoneEvent,
  FaultlineEvent,
  MmapEvent,
  MremapEvent,
  MunmapEvent,
  PageFaultEvent,
  ProcessForkEvent,
} from "../events/faultline_event.ts";
import { faultAccessIndex, isErrnoValue } from "../events/faultline_event.ts";
import { AddressSpace } from "./address_space.ts";
import {
  readU64,
  recordFollowed,
  recordPid,
  recordTid,
  recordTimestamp,
} from "../events/event_kind.ts";
import { FL_SYSCALL, recordFailed } from "../events/syscall_record.ts";
import type { FileName } from "../events/file_path_record.ts";
import type { ExecMapping } from "../events/exec_mapping_record.ts";
import { mmapKind } from "../events/mmap_kind.ts";
import { munmapKind } from "../events/munmap_kind.ts";
import { brkKind, mremapKind } from "../events/syscall_kinds.ts";
import { processExecKind, processExitKind, processForkKind } from "../events/process_kinds.ts";
import { FL_FAULT, pageFaultKind } from "../events/page_fault_kind.ts";
import { doneLatency, faultDoneKind } from "../events/fault_done_kind.ts";
import { type HistogramReport, Log2Histogram } from "./log2_histogram.ts";

/**
 * One line of /proc/PID/maps.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MapsEntry } from "./mapping_table.ts";
 * const e: MapsEntry = { start: 0x1000, end: 0x2000, offset: 0, perms: "r-xp", path: "/bin/sh", deleted: false };
 * assert.equal(e.end - e.start, 4096);
 * ```
 */
export interface MapsEntry {
  /** First address. */
  start: number;
  /** Address after the last. */
  end: number;
  /** File offset at `start`. */
  offset: number;
  /** `rwxp` as /proc writes them. */
  perms: string;
  /** The file's path or the kernel's pseudo-name (`[stack]`), "" for anonymous memory. */
  path: string;
  /** /proc said the file was deleted. */
  deleted: boolean;
  /** The file's inode number, 0 or absent for none. */
  inode?: number;
  /**
   * The file's device as the kernel's dev_t (major << 20 | minor), as the probes read it with
   * the inode; absent when unknown.
   */
  device?: number;
}

/**
 * Where mapping names come from: /proc, read by the session (the aggregation does no I/O).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MappingSource } from "./mapping_table.ts";
 * const none: MappingSource = { snapshot: () => null, fileAt: () => null };
 * assert.equal(none.snapshot(1), null);
 * ```
 */
export interface MappingSource {
  /** /proc/PID/maps now, or null when the process is gone. */
  snapshot(pid: number): MapsEntry[] | null;
  /**
   * The file mapped at [start, end) of `pid`, or null: from descriptor `file.fd` when it still
   * holds that inode and device (no lock of the traced process taken), else from
   * /proc/PID/map_files of exactly that range (null when the mapping is gone, or merged with a
   * neighbour: the table then looks at a snapshot).
   */
  fileAt(
    pid: number,
    start: number,
    end: number,
    file?: { fd: number; inode: number; device: number },
  ): { path: string; deleted: boolean } | null;
}

/**
 * One mapping's row in the report (`mappings`), or the `other` row summing the rest.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MappingTable, type MappingReport } from "./mapping_table.ts";
 * const table = new MappingTable();
 * const rows: MappingReport[] = table.report();
 * assert.deepEqual(rows, []);
 * ```
 */
export interface MappingReport {
  /** The process; null for the `other` row. */
  pid: number | null;
  /** Its command name, when known. */
  command: string | null;
  /**
   * The file's path, or `[anon]`, `[heap]`, `[stack]`, `[vdso]`, `[vvar]`; `[kernel]` for
   * faults on kernel addresses, `[unknown]` where no mapping was known (or the fault was
   * unpaired), `(other)` for the row summing the mappings past the limit.
   */
  path: string;
  /** The file was deleted while mapped. */
  deleted: boolean;
  /** Where the mapping began, `0x...` (null for the rows that are not one mapping). */
  start: string | null;
  /** Where it ended (exclusive). */
  end: string | null;
  /** The file offset at `start`. */
  offset: number;
  /** Its protection when made: `rwxp` / `rw-s` as /proc writes it. */
  perms: string;
  /** How many mappings the row holds (more than 1 for `other`). */
  mappings: number;
  /** Handled faults: minor + major. */
  faults: number;
  /** Minor faults. */
  minor_faults: number;
  /** Major faults. */
  major_faults: number;
  /** Faults on a read. */
  read: number;
  /** Faults on a write. */
  write: number;
  /** Faults on an instruction fetch. */
  exec: number;
  /** Faults taken in user mode (page_fault_user). */
  user: number;
  /** Faults taken in kernel mode (page_fault_kernel: a copy to or from user memory). */
  kernel: number;
  /** The faults' latency (log2 slots; percentiles to the slot). */
  latency_ns: HistogramReport;
}

/** A mapping as the address space holds it, and what its faults added up to. */
class Mapping {
  stats: Stats | null = null;
  constructor(
    readonly pid: number,
    readonly path: string,
    readonly deleted: boolean,
    public start: number,
    public end: number,
    readonly offset: number,
    readonly perms: string,
    /** When the mmap that made it returned (kernel ns); -Infinity when not seen made. */
    readonly madeAt = -Infinity,
  ) {}
}

class Stats {
  minor = 0;
  major = 0;
  /** Faults by access, in faultAccessIndex order: read, write, exec. */
  read = 0;
  write = 0;
  exec = 0;
  user = 0;
  kernel = 0;
  mappings = 1;
  readonly latency = new Log2Histogram("ns", { coarse: true });

  merge(o: Stats): void {
    this.minor += o.minor;
    this.major += o.major;
    this.read += o.read;
    this.write += o.write;
    this.exec += o.exec;
    this.user += o.user;
    this.kernel += o.kernel;
    this.mappings += o.mappings;
    this.latency.merge(o.latency);
  }
}

/**
 * One thread's page faults not yet handled: a ring of PENDING_PER_THREAD slots, reused (a
 * thread has one fault in flight; more only when an engine delivers out of order or a fault
 * was never handled).
 */
class ThreadFaults {
  readonly start = new Float64Array(PENDING_PER_THREAD).fill(NaN);
  readonly address = new Float64Array(PENDING_PER_THREAD);
  readonly errorCode = new Int32Array(PENDING_PER_THREAD);
  readonly kernel = new Uint8Array(PENDING_PER_THREAD);
  next = 0;

  push(start: number, address: number, errorCode: number, kernel: boolean): void {
    const i = this.next++ % PENDING_PER_THREAD;
    this.start[i] = start;
    this.address[i] = address;
    this.errorCode[i] = errorCode;
    this.kernel[i] = kernel ? 1 : 0;
  }

  /** The slot of the fault that started at `start` (and frees it), or -1. */
  take(start: number): number {
    for (let i = 0; i < PENDING_PER_THREAD; i++) {
      if (this.start[i] === start) {
        this.start[i] = NaN;
        return i;
      }
    }
    return -1;
  }
}

interface ProcessSpace {
  space: AddressSpace<Mapping>;
  /** The time (of the event that asked for it, kernel ns) of the last /proc snapshot. */
  snapshotAt: number;
  /**
   * The last /proc snapshot read to name a file mapping map_files no longer had, and when (as
   * snapshotAt): reused within the snapshot spacing.
   */
  names: MapsEntry[] | null;
  namesAt: number;
  unknown: Mapping;
  kernel: Mapping;
}

/**
 * Options for {@link MappingTable}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MappingTable, type MappingTableOptions } from "./mapping_table.ts";
 * const options: MappingTableOptions = { limit: 10, snapshotIntervalMs: 50 };
 * assert.deepEqual(new MappingTable(options).report(), []);
 * ```
 */
export interface MappingTableOptions {
  /** Where names come from; by default nowhere (every unseen mapping is `[unknown]`). */
  source?: MappingSource;
  /** The most mappings with faults kept apart (default 8192); the rest go to `other`. */
  limit?: number;
  /**
   * The least time between two /proc snapshots of one process, in ms of the events' own
   * clock (default 200).
   */
  snapshotIntervalMs?: number;
}

/** User-space addresses end below this on x86-64 (with 5-level paging too). */
const USER_END = 2 ** 56;
const MAP_SHARED = 0x01;
const MAP_ANONYMOUS = 0x20;
const PENDING_PER_THREAD = 4;
const MAX_SPACES = 8192;
const FAULT_USER = pageFaultKind.record!.ids.page_fault_user!;
const FAULT_KERNEL = pageFaultKind.record!.ids.page_fault_kernel!;
const MINOR = faultDoneKind.record!.ids.minor_fault!;
const MAJOR = faultDoneKind.record!.ids.major_fault!;
const MMAP = mmapKind.record!.ids.mmap!;
const MUNMAP = munmapKind.record!.ids.munmap!;
/**
 * The record kinds the table decodes into events to fold: the cases of add() that foldRecord
 * does not read in place (a kind add() learns must join them); the others it folds or ignores.
 */
const DECODED = new Set([
  mremapKind.record!.ids.mremap!,
  brkKind.record!.ids.brk!,
  processForkKind.record!.ids.process_fork!,
  processExecKind.record!.ids.process_exec!,
  processExitKind.record!.ids.process_exit!,
]);
const MAX_PENDING_THREADS = 65536;
/** Files whose names are kept for reuse (see MappingTable's #fileNamed). */
const MAX_FILE_NAMES = 4096;
/** Processes whose exec's mappings may wait for its event (see MappingTable.execMapping). */
const MAX_EXECS_WAITING = 1024;

/**
 * Faults by mapping.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { MappingTable } from "./mapping_table.ts";
 * const table = new MappingTable();
 * table.add({ kind: "mmap", pid: 5, tid: 5, timestampNs: 1, addr: 0n, length: 8192, prot: 3,
 *   flags: 0x22, fd: -1, offset: 0, ret: 0x7f0000000000n, latencyNs: 900 });
 * table.add({ kind: "page_fault_user", pid: 5, tid: 5, timestampNs: 10, address: 0x7f0000001008n,
 *   ip: 0x401000n, errorCode: 6, access: "write", mode: "user", cause: "not_present" });
 * table.add({ kind: "minor_fault", pid: 5, tid: 5, timestampNs: 15, latencyNs: 5 });
 * const [row] = table.report();
 * assert.deepEqual([row!.path, row!.faults, row!.write, row!.start], ["[anon]", 1, 1, "0x7f0000000000"]);
 * ```
 */
export class MappingTable {
  readonly #source: MappingSource;
  readonly #limit: number;
  readonly #interval: number;
  readonly #spaces = new Map<number, ProcessSpace>();
  readonly #pending = new Map<number, ThreadFaults>();
  #heldTid = -1;
  #heldStart = 0;
  #heldAddress = 0;
  #heldError = 0;
  #heldKernel = false;
  #lastPid = -1;
  #lastSpace: ProcessSpace | null = null;
  readonly #rows: Mapping[] = [];
  /** The last name found for a file (device and inode), and when: see #fileNamed. */
  readonly #fileNames = new Map<string, { path: string; deleted: boolean; at: number }>();
  readonly #other = new Stats();
  #otherUsed = false;
  /** Mappings the kernel made at a process's exec, waiting for that exec's event. */
  readonly #execMappings = new Map<number, { timestampNs: number; entries: MapsEntry[] }>();

  /** Makes an empty table. */
  constructor(options: MappingTableOptions = {}) {
    this.#source = options.source ?? { snapshot: () => null, fileAt: () => null };
    this.#limit = options.limit ?? 8192;
    this.#interval = (options.snapshotIntervalMs ?? 200) * 1e6;
    this.#other.mappings = 0;
  }

  /** The process's modelled address space, made (from a /proc snapshot) on first sight. */
  #spaceOf(pid: number, timestampNs: number): ProcessSpace {
    if (pid === this.#lastPid && this.#lastSpace !== null) return this.#lastSpace;
    let s = this.#spaces.get(pid);
    if (s === undefined) {
      s = this.#newSpace(pid, new AddressSpace());
      this.#spaces.set(pid, s);
      this.#bound();
      this.#snapshot(pid, s, timestampNs);
    }
    this.#lastPid = pid;
    this.#lastSpace = s;
    return s;
  }

  /** The spaces changed: the one-entry cache of #spaceOf goes. */
  #spacesChanged(): void {
    this.#lastPid = -1;
    this.#lastSpace = null;
  }

  /**
   * Forgets the longest-known address spaces past MAX_SPACES (a process whose exit was never
   * seen: it exited outside the window, or bpftrace delivered its exit before its fork).
   */
  #bound(): void {
    this.#spacesChanged();
    while (this.#spaces.size > MAX_SPACES) {
      this.#spaces.delete(this.#spaces.keys().next().value!);
    }
  }

  #newSpace(pid: number, space: AddressSpace<Mapping>): ProcessSpace {
    return {
      space,
      snapshotAt: -Infinity,
      names: null,
      namesAt: -Infinity,
      unknown: new Mapping(pid, "[unknown]", false, 0, 0, 0, ""),
      kernel: new Mapping(pid, "[kernel]", false, 0, 0, 0, ""),
    };
  }

  /** Fills in, from /proc, every mapping the model lacks (what it has stays as it is). */
  #snapshot(pid: number, s: ProcessSpace, timestampNs: number): void {
    s.snapshotAt = timestampNs;
    const entries = this.#source.snapshot(pid);
    if (entries !== null) this.#fill(pid, s, entries, timestampNs);
  }

  /** Fills in every mapping of `entries` the model lacks (what it has stays as it is). */
  #fill(pid: number, s: ProcessSpace, entries: MapsEntry[], timestampNs: number): void {
    for (const e of entries) {
      const there = s.space.regionAt(e.start);
      const path = e.path === "" ? "[anon]" : e.path;
      // A file's name, by its inode and device, for its mmaps read after the process is gone.
      if (e.inode && e.device !== undefined && e.path.startsWith("/")) {
        this.#rememberName(`${e.device}:${e.inode}`, e, timestampNs);
      }
      if (there !== undefined && there.start === e.start && there.end === e.end) continue;
      if (there !== undefined && there.mapping.path === path && there.end >= e.end) continue;
      s.space.map(
        e.start,
        e.end - e.start,
        e.offset,
        new Mapping(pid, path, e.deleted, e.start, e.end, e.offset, e.perms),
      );
    }
  }

  /**
   * Reads process `pid`'s mappings from /proc now, before any of its events: how a process
   * traced from the start (`--pid`) is known even if it exits before its events are read.
   */
  prime(pid: number): void {
    const s = this.#spaceOf(pid, -Infinity);
    s.snapshotAt = -Infinity;
  }

  /** Folds one event in (the kinds it does not use pass by). */
  add(event: FaultlineEvent | EventBase): void {
    switch (event.kind) {
      case "page_fault_user":
      case "page_fault_kernel": {
        const e = event as PageFaultEvent;
        return this.#fault(
          e.tid,
          e.timestampNs,
          Number(e.address),
          e.errorCode,
          e.kind === "page_fault_kernel",
        );
      }
      case "minor_fault":
      case "major_fault": {
        const e = event as FaultDoneEvent;
        return this.#handled(e.pid, e.tid, e.timestampNs, e.latencyNs, e.kind === "major_fault");
      }
      case "mmap": {
        const e = event as MmapEvent;
        if (isErrnoValue(e.ret)) return;
        return this.#mmap(
          e.pid,
          e.timestampNs,
          Number(e.ret),
          e.length,
          e.prot,
          e.flags,
          e.fd,
          e.offset,
          e.file?.inode ?? 0,
          e.file?.device ?? 0,
        );
      }
      case "munmap": {
        const e = event as MunmapEvent;
        if (e.ret === 0) {
          this.#munmap(e.pid, e.timestampNs, e.latencyNs, Number(e.addr), e.length);
        }
        return;
      }
      case "mremap": {
        const e = event as MremapEvent;
        if (isErrnoValue(e.ret)) return;
        this.#spaceOf(e.pid, e.timestampNs).space.remap(
          Number(e.addr),
          pageUp(e.length),
          Number(e.ret),
          pageUp(e.newLength),
        );
        return;
      }
      case "brk":
        return this.#brk(event as BrkEvent);
      case "process_fork": {
        const e = event as ProcessForkEvent;
        const parent = this.#spaces.get(e.pid) ?? this.#spaceOf(e.pid, e.timestampNs);
        const copy = parent.space.fork((m) =>
          new Mapping(e.child, m.path, m.deleted, m.start, m.end, m.offset, m.perms, m.madeAt)
        );
        this.#spaces.set(e.child, this.#newSpace(e.child, copy));
        this.#bound();
        return;
      }
      case "process_exec": {
        // A new address space: what the kernel mapped for it, as the probes read it at the
        // exec (kept whatever /proc says now), then from /proc (what the program has mapped
        // since, and names the probes could not give).
        const s = this.#newSpace(event.pid, new AddressSpace());
        this.#spaces.set(event.pid, s);
        this.#spacesChanged();
        const made = this.#execMappings.get(event.pid);
        if (made !== undefined) {
          this.#execMappings.delete(event.pid);
          this.#fill(event.pid, s, made.entries, event.timestampNs);
        }
        this.#snapshot(event.pid, s, event.timestampNs);
        return;
      }
      case "process_exit":
        this.#spaces.delete(event.pid);
        this.#spacesChanged();
        return;
    }
  }

  /** A successful mmap that returned `start` (`inode` 0: the probes did not say the file). */
  #mmap(
    pid: number,
    timestampNs: number,
    start: number,
    requested: number,
    prot: number,
    flags: number,
    fd: number,
    offset: number,
    inode: number,
    device: number,
  ): void {
    const length = pageUp(requested);
    const s = this.#spaceOf(pid, timestampNs);
    const perms = permsOf(prot, flags);
    let path = "[anon]";
    let deleted = false;
    if ((flags & MAP_ANONYMOUS) === 0 && fd >= 0) {
      const file = this.#fileNamed(pid, timestampNs, start, length, fd, inode, device) ??
        this.#fileInMaps(pid, s, start, timestampNs);
      path = file?.path ?? `[file fd ${fd}]`;
      deleted = file?.deleted ?? false;
    }
    s.space.map(
      start,
      length,
      path === "[anon]" ? 0 : offset,
      new Mapping(pid, path, deleted, start, start + length, offset, perms, timestampNs),
    );
  }

  /**
   * A successful munmap that returned at `timestampNs` after `latencyNs`. Records come in the
   * order calls return: another thread's mmap that got these addresses as soon as they were
   * free can come first. A mapping made after this munmap began is not the one it removed,
   * and stays.
   */
  #munmap(pid: number, timestampNs: number, latencyNs: number, start: number, length: number) {
    const began = timestampNs - latencyNs;
    this.#spaceOf(pid, timestampNs).space.unmap(start, pageUp(length), (m) => m.madeAt > began);
  }

  /**
   * The file a file mmap mapped, from the source. When the probes said which file (device
   * and inode), the name found for it is reused within the snapshot spacing: a program that
   * maps one file over and over (a database's pages, a loader's chunks) costs one look through
   * /proc per spacing, not three syscalls per mmap. A rename or unlink within that spacing
   * shows at the next look. When a look finds nothing (the process or its descriptor gone),
   * the file's last name found is used, however old.
   */
  #fileNamed(
    pid: number,
    timestampNs: number,
    start: number,
    length: number,
    fd: number,
    inode: number,
    device: number,
  ): { path: string; deleted: boolean } | null {
    const file = inode === 0 ? undefined : { fd, inode, device };
    const key = file && `${device}:${inode}`;
    const known = key === undefined ? undefined : this.#fileNames.get(key);
    if (known !== undefined && timestampNs - known.at < this.#interval) return known;
    const named = this.#source.fileAt(pid, start, start + length, file);
    // Nothing left to look at (the process exited, or closed the descriptor, before its mmap
    // was read): the same file's last name, however old, says more than none.
    if (named === null) return known ?? null;
    if (key !== undefined) this.#rememberName(key, named, timestampNs);
    return named;
  }

  /**
   * Takes the kernel's name for a file a traced mmap mapped (told before that mmap's event):
   * the mmap, and others of the file within the snapshot spacing, are named by it without a look
   * through /proc, which finds nothing once the process is gone (a program that lives a few ms,
   * gone before its mmaps are read). A name the kernel could not give whole is not taken.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { MappingTable } from "./mapping_table.ts";
   * const gone = { snapshot: () => null, fileAt: () => null };
   * const table = new MappingTable({ source: gone });
   * table.nameFile({ pid: 5, timestampNs: 1, device: 8, inode: 99, path: "/lib/x.so", deleted: false });
   * table.add({ kind: "mmap", pid: 5, tid: 5, timestampNs: 1, addr: 0n, length: 4096, prot: 1,
   *   flags: 2, fd: 3, offset: 0, ret: 0x7f0000000000n, latencyNs: 900,
   *   file: { inode: 99, device: 8 } });
   * table.add({ kind: "page_fault_user", pid: 5, tid: 5, timestampNs: 10, address: 0x7f0000000008n,
   *   ip: 0x401000n, errorCode: 4, access: "read", mode: "user", cause: "not_present" });
   * table.add({ kind: "minor_fault", pid: 5, tid: 5, timestampNs: 15, latencyNs: 5 });
   * assert.equal(table.report()[0]!.path, "/lib/x.so");
   * ```
   */
  nameFile(file: FileName): void {
    if (file.path === null || file.inode === 0) return;
    const named = { path: file.path, deleted: file.deleted };
    this.#rememberName(`${file.device}:${file.inode}`, named, file.timestampNs);
  }

  /**
   * Takes a mapping the kernel made at an exec (the program, its interpreter, the stack, the
   * vdso), told before that exec's event (its file's name before it, by
   * {@link MappingTable.nameFile}): the exec's new address space starts with them, so a program
   * gone before /proc is read still has its faults in its program and libraries named. A file
   * the kernel could not name is left to /proc.
   *
   * @example Usage
   * ```ts
   * import assert from "node:assert/strict";
   * import { MappingTable } from "./mapping_table.ts";
   * const gone = { snapshot: () => null, fileAt: () => null };
   * const table = new MappingTable({ source: gone });
   * table.nameFile({ pid: 5, timestampNs: 1, device: 8, inode: 99, path: "/usr/bin/ls", deleted: false });
   * table.execMapping({ pid: 5, timestampNs: 1, start: 0x400000, end: 0x404000, offset: 0,
   *   perms: "r-xp", inode: 99, device: 8, name: null });
   * table.add({ kind: "process_exec", pid: 5, tid: 5, timestampNs: 1, command: "ls" });
   * table.add({ kind: "page_fault_user", pid: 5, tid: 5, timestampNs: 10, address: 0x401008n,
   *   ip: 0x401008n, errorCode: 20, access: "exec", mode: "user", cause: "not_present" });
   * table.add({ kind: "minor_fault", pid: 5, tid: 5, timestampNs: 15, latencyNs: 5 });
   * assert.deepEqual([table.report()[0]!.path, table.report()[0]!.perms], ["/usr/bin/ls", "r-xp"]);
   * ```
   */
  execMapping(mapping: ExecMapping): void {
    let made = this.#execMappings.get(mapping.pid);
    if (made === undefined || made.timestampNs !== mapping.timestampNs) {
      // Its exec's event was lost (or is this one's): never more than a bounded few waiting.
      if (this.#execMappings.size >= MAX_EXECS_WAITING) this.#execMappings.clear();
      made = { timestampNs: mapping.timestampNs, entries: [] };
      this.#execMappings.set(mapping.pid, made);
    }
    let path = mapping.name ?? "";
    let deleted = false;
    if (mapping.inode !== 0) {
      const named = this.#fileNames.get(`${mapping.device}:${mapping.inode}`);
      if (named === undefined) return;
      path = named.path;
      deleted = named.deleted;
    }
    made.entries.push({
      start: mapping.start,
      end: mapping.end,
      offset: mapping.offset,
      perms: mapping.perms,
      path,
      deleted,
    });
  }

  /** Keeps `named` as the last name found for file `key` (device:inode), at `at`. */
  #rememberName(key: string, named: { path: string; deleted: boolean }, at: number): void {
    if (this.#fileNames.size >= MAX_FILE_NAMES) this.#fileNames.clear();
    this.#fileNames.set(key, { path: named.path, deleted: named.deleted, at });
  }

  /**
   * The file /proc/PID/maps shows holding `start` (a mapping merged with a neighbour), from a
   * snapshot read at most once per snapshot spacing: a mapping already unmapped when its mmap
   * is read is in no snapshot, and reading maps for each of them (the mmap lock, every mapping
   * formatted) would slow the traced process down.
   */
  #fileInMaps(
    pid: number,
    s: ProcessSpace,
    start: number,
    timestampNs: number,
  ): { path: string; deleted: boolean } | null {
    if (s.names === null || timestampNs - s.namesAt >= this.#interval) {
      s.names = this.#source.snapshot(pid);
      s.namesAt = timestampNs;
    }
    const entry = s.names?.find((m) => m.start <= start && start < m.end);
    return entry !== undefined && entry.path !== "" && !entry.path.startsWith("[")
      ? { path: entry.path, deleted: entry.deleted }
      : null;
  }

  #brk(e: BrkEvent): void {
    const s = this.#spaceOf(e.pid, e.timestampNs);
    const now = Number(e.ret);
    if (s.space.brkBase === null) s.space.brkBase = now;
    // The heap is the mapping /proc calls [heap], or one made from the first break seen.
    const heap = s.space.regions().find((r) => r.mapping.path === "[heap]");
    if (heap !== undefined) {
      if (now > heap.start) {
        const m = heap.mapping;
        s.space.map(heap.start, now - heap.start, 0, m);
        m.end = Math.max(m.end, now);
      } else s.space.unmap(heap.start, heap.end - heap.start);
    } else if (now > s.space.brkBase) {
      const base = s.space.brkBase;
      s.space.map(base, now - base, 0, new Mapping(e.pid, "[heap]", false, base, now, 0, "rw-p"));
    }
  }

  /**
   * Folds the ring record at `at` (kind `id`) in without an event object when it is a page
   * fault, a handled fault, an mmap or a munmap (the kinds that come by the thousand): the
   * same as {@link MappingTable.add} of its event. True too for a kind the table does not use;
   * false for the rest (mremap, brk, fork, exec, exit): decode it and add the event.
   */
  foldRecord(view: DataView, at: number, id: number): boolean {
    if (id === FAULT_USER || id === FAULT_KERNEL) {
      const address = view.getUint32(at + FL_FAULT.address, true) +
        view.getUint32(at + FL_FAULT.address + 4, true) * 2 ** 32;
      const tid = recordTid(view, at);
      const ts = recordTimestamp(view, at);
      const errorCode = view.getUint32(at + FL_FAULT.error_code, true);
      // A fault written with its completion (the next record) waits in no thread's slots.
      if (recordFollowed(view, at)) this.#hold(tid, ts, address, errorCode, id === FAULT_KERNEL);
      else this.#fault(tid, ts, address, errorCode, id === FAULT_KERNEL);
      return true;
    }
    if (id === MINOR || id === MAJOR) {
      this.#handled(
        recordPid(view, at),
        recordTid(view, at),
        recordTimestamp(view, at),
        doneLatency(view, at),
        id === MAJOR,
      );
      return true;
    }
    if (id === MMAP) {
      if (recordFailed(view, at)) return true;
      this.#mmap(
        recordPid(view, at),
        recordTimestamp(view, at),
        readU64(view, at + FL_SYSCALL.ret),
        readU64(view, at + FL_SYSCALL.len),
        view.getUint32(at + FL_SYSCALL.prot, true),
        view.getUint32(at + FL_SYSCALL.flags, true),
        view.getInt32(at + FL_SYSCALL.fd, true),
        readU64(view, at + FL_SYSCALL.off),
        readU64(view, at + FL_SYSCALL.addr2),
        view.getUint32(at + FL_SYSCALL.dev, true),
      );
      return true;
    }
    if (id === MUNMAP) {
      if (!recordFailed(view, at)) {
        this.#munmap(
          recordPid(view, at),
          recordTimestamp(view, at),
          readU64(view, at + FL_SYSCALL.latency_ns),
          readU64(view, at + FL_SYSCALL.addr),
          readU64(view, at + FL_SYSCALL.len),
        );
      }
      return true;
    }
    return !DECODED.has(id);
  }

  /**
   * Holds a fault whose completion is the next record (a ring record holding both: see
   * FL_FOLLOWED): no per-thread slot is needed for it.
   */
  #hold(tid: number, timestampNs: number, address: number, errorCode: number, kernel: boolean) {
    if (this.#heldTid !== -1) {
      this.#fault(
        this.#heldTid,
        this.#heldStart,
        this.#heldAddress,
        this.#heldError,
        this.#heldKernel,
      );
    }
    this.#heldTid = tid;
    this.#heldStart = timestampNs;
    this.#heldAddress = address;
    this.#heldError = errorCode;
    this.#heldKernel = kernel;
  }

  #fault(tid: number, timestampNs: number, address: number, errorCode: number, kernel: boolean) {
    let faults = this.#pending.get(tid);
    if (faults === undefined) {
      this.#pending.set(tid, faults = new ThreadFaults());
      // The threads seen longest ago are forgotten past the bound (one being the first of
      // them again only loses the pairing of the fault in flight).
      if (this.#pending.size > MAX_PENDING_THREADS) {
        this.#pending.delete(this.#pending.keys().next().value!);
      }
    }
    faults.push(timestampNs, address, errorCode, kernel);
  }

  #handled(pid: number, tid: number, ts: number, latencyNs: number | null, major: boolean): void {
    // The page fault it ends: same thread, started latency ns before it.
    let address = NaN;
    let errorCode = 0;
    let kernel = false;
    if (latencyNs !== null) {
      const start = ts - latencyNs;
      if (this.#heldTid === tid && this.#heldStart === start) {
        this.#heldTid = -1;
        address = this.#heldAddress;
        errorCode = this.#heldError;
        kernel = this.#heldKernel;
      } else {
        const faults = this.#pending.get(tid);
        const slot = faults !== undefined ? faults.take(start) : -1;
        if (slot >= 0) {
          address = faults!.address[slot]!;
          errorCode = faults!.errorCode[slot]!;
          kernel = faults!.kernel[slot] === 1;
        }
      }
    }
    const paired = address === address; // not NaN
    const s = this.#spaceOf(pid, ts);
    let mapping: Mapping = s.unknown;
    if (paired) {
      if (address >= USER_END) mapping = s.kernel;
      else {
        let found = s.space.find(address);
        if (found === undefined && ts - s.snapshotAt >= this.#interval) {
          this.#snapshot(pid, s, ts);
          found = s.space.find(address);
        }
        if (found !== undefined) mapping = found;
      }
    }
    let stats = mapping.stats;
    if (stats === null) {
      if (this.#rows.length >= this.#limit) {
        // Past the limit: this mapping's faults, now and later, are other's.
        stats = mapping.stats = this.#other;
        this.#other.mappings++;
        this.#otherUsed = true;
      } else {
        stats = mapping.stats = new Stats();
        this.#rows.push(mapping);
      }
    }
    if (major) stats.major++;
    else stats.minor++;
    if (latencyNs !== null) stats.latency.add(latencyNs);
    if (paired) {
      const access = faultAccessIndex(errorCode);
      if (access === 0) stats.read++;
      else if (access === 1) stats.write++;
      else stats.exec++;
      if (kernel) stats.kernel++;
      else stats.user++;
    }
  }

  /**
   * The mappings with faults, the most first, at most `top` of them, then an `other` row
   * summing the rest when there is any. `commandOf` names each row's process.
   */
  report(top = 100, commandOf: (pid: number) => string | null = () => null): MappingReport[] {
    const faults = (m: Mapping) => m.stats!.minor + m.stats!.major;
    const rows = [...this.#rows].sort((a, b) =>
      faults(b) - faults(a) || a.pid - b.pid || a.start - b.start
    );
    const out = rows.slice(0, top).map((m) => row(m, m.stats!, commandOf(m.pid)));
    const rest = rows.slice(top);
    if (rest.length > 0 || this.#otherUsed) {
      const sum = new Stats();
      sum.mappings = 0;
      sum.merge(this.#other);
      for (const m of rest) sum.merge(m.stats!);
      out.push(row(new Mapping(-1, "(other)", false, 0, 0, 0, ""), sum, null));
    }
    return out;
  }
}

function row(m: Mapping, s: Stats, command: string | null): MappingReport {
  const single = m.pid >= 0 && m.end > m.start;
  return {
    pid: m.pid >= 0 ? m.pid : null,
    command,
    path: m.path,
    deleted: m.deleted,
    start: single ? `0x${m.start.toString(16)}` : null,
    end: single ? `0x${m.end.toString(16)}` : null,
    offset: m.offset,
    perms: m.perms,
    mappings: s.mappings,
    faults: s.minor + s.major,
    minor_faults: s.minor,
    major_faults: s.major,
    read: s.read,
    write: s.write,
    exec: s.exec,
    user: s.user,
    kernel: s.kernel,
    latency_ns: s.latency.toReport(),
  };
}

const PAGE = 4096;

/** A length as the kernel rounds it: up to whole pages. */
function pageUp(length: number): number {
  return Math.ceil(length / PAGE) * PAGE;
}

/** mmap's prot and flags as /proc writes them: `rw-p`. */
function permsOf(prot: number, flags: number): string {
  return (prot & 1 ? "r" : "-") + (prot & 2 ? "w" : "-") + (prot & 4 ? "x" : "-") +
    (flags & MAP_SHARED ? "s" : "p");
}
