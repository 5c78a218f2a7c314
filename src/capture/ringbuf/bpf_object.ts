/**
 * A compiled BPF object through libbpf: {@link BpfObjectSpec} is the object opened and parsed
 * but not in the kernel (settings can still change), {@link BpfObject} is the loaded one: its
 * maps' and programs' fds, by name, and its links. Closing a BpfObject closes every link, then
 * the object.
 *
 * Loading goes through libbpf's loader program (loader_program.ts: the kernel relocates and
 * loads, user space never parses vmlinux BTF), or through libbpf's own load where the kernel
 * refuses the loader program.
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { TRACEFS_EVENTS } from "../tracefs.ts";
import { cString, errnoText, lastErrno, type LibbpfHandle, openLibbpf } from "./libbpf.ts";
import { generateLoader, LoadedLoader } from "./loader_program.ts";
import { openTracepointEvent } from "./perf_event.ts";

/**
 * What libbpf's log says went wrong: the verifier's reason (the line before its "processed N
 * insns" summary) and the source line it points at, or else libbpf's last lines.
 */
export function logReason(lines: string[]): string {
  const processed = lines.findIndex((l) => /^processed \d+ insns/.test(l.trim()));
  if (processed > 0) {
    const reason = lines[processed - 1]!.trim();
    const source = lines.slice(0, processed).reverse().find((l) => /@ [\w.]+:\d+\s*$/.test(l));
    const at = source ? ` (at ${/@ ([\w.]+:\d+)\s*$/.exec(source)![1]})` : "";
    return `the verifier said: ${reason}${at}`;
  }
  return `libbpf said: ${lines.slice(-4).map((l) => l.replace(/^libbpf: /, "").trim()).join("; ")}`;
}

function failure(
  lib: LibbpfHandle,
  what: string,
  errno = lastErrno(lib),
  log = lib.takeLog(),
): FaultlineError {
  const error = new FaultlineError(
    `${what}: ${errnoText(lib, errno)} (errno ${errno})` +
      (log.length ? `; ${logReason(log)}` : ""),
  );
  (error as FaultlineError & { log: string[] }).log = log;
  return error;
}

/** How {@link BpfObjectSpec.load} loads: "auto" is the loader program, else libbpf's load. */
export type LoadPath = "auto" | "loader" | "libbpf";

/** A program of the object: its name and ELF section (which says where it attaches). */
interface ProgramInfo {
  readonly name: string;
  readonly section: string;
}

function cText(p: Deno.PointerObject | null): string {
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/** A BPF object file opened and parsed by libbpf, not yet loaded into the kernel. */
export class BpfObjectSpec {
  readonly #lib: LibbpfHandle;
  readonly #path: string;
  #obj: Deno.PointerObject | null;
  /** Every setting made, to make again on a fresh open when the load falls back. */
  readonly #settings: ((spec: BpfObjectSpec) => void)[] = [];

  private constructor(lib: LibbpfHandle, path: string, obj: Deno.PointerObject) {
    this.#lib = lib;
    this.#path = path;
    this.#obj = obj;
  }

  /** Opens and parses `path`. */
  static open(path: string): BpfObjectSpec {
    const lib = openLibbpf();
    lib.beginLog();
    const obj = lib.bpf.bpf_object__open_file(cString(path), null);
    if (obj === null) {
      if (!lib.logging) {
        // Again with libbpf's log on, for its reason.
        lib.logAll();
        return BpfObjectSpec.open(path);
      }
      throw failure(lib, `Cannot open BPF object ${path}`);
    }
    return new BpfObjectSpec(lib, path, obj);
  }

  #handle(): Deno.PointerObject {
    if (this.#obj === null) throw new Error("BpfObjectSpec is loaded or closed");
    return this.#obj;
  }

  #map(name: string): Deno.PointerObject {
    const map = this.#lib.bpf.bpf_object__find_map_by_name(this.#handle(), cString(name));
    if (map === null) {
      throw new FaultlineError(`Cannot find map "${name}" in BPF object ${this.#path}`);
    }
    return map;
  }

  /** Sets a map's max_entries (for a ring buffer: its size in bytes). */
  setMaxEntries(mapName: string, entries: number): void {
    if (this.#lib.bpf.bpf_map__set_max_entries(this.#map(mapName), entries) !== 0) {
      throw failure(this.#lib, `Cannot size map "${mapName}" to ${entries}`);
    }
    this.#settings.push((spec) => spec.setMaxEntries(mapName, entries));
  }

  /** Overwrites the initial value of a global-data map (".rodata") with `bytes`, whole. */
  setInitialValue(mapName: string, bytes: Uint8Array): void {
    const size = new BigUint64Array(1);
    const p = this.#lib.bpf.bpf_map__initial_value(this.#map(mapName), size);
    if (p === null || Number(size[0]) !== bytes.length) {
      throw new FaultlineError(
        `Cannot set ${mapName} of BPF object ${this.#path}: it holds ${size[0]} bytes, ` +
          `not ${bytes.length}; rebuild the object from its source (deno task build:bpf)`,
      );
    }
    new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, bytes.length)).set(bytes);
    const copy = bytes.slice();
    this.#settings.push((spec) => spec.setInitialValue(mapName, copy));
  }

  /**
   * A fresh spec of the same file with every setting made on this one made again: what a load
   * falls back on once this spec's object is used up. Works on a loaded or closed spec too.
   */
  reopen(): BpfObjectSpec {
    const again = BpfObjectSpec.open(this.#path);
    for (const setting of this.#settings) setting(again);
    return again;
  }

  /** The object's maps' names, in libbpf's order. */
  #mapNames(): string[] {
    const names: string[] = [];
    for (let m = this.#lib.bpf.bpf_object__next_map(this.#handle(), null); m !== null;) {
      names.push(cText(this.#lib.bpf.bpf_map__name(m)));
      m = this.#lib.bpf.bpf_object__next_map(this.#handle(), m);
    }
    return names;
  }

  /** The object's programs, in libbpf's order. */
  #programs(): ProgramInfo[] {
    const programs: ProgramInfo[] = [];
    for (let p = this.#lib.bpf.bpf_object__next_program(this.#handle(), null); p !== null;) {
      programs.push({
        name: cText(this.#lib.bpf.bpf_program__name(p)),
        section: cText(this.#lib.bpf.bpf_program__section_name(p)),
      });
      p = this.#lib.bpf.bpf_object__next_program(this.#handle(), p);
    }
    return programs;
  }

  /**
   * Loads the object into the kernel; the spec is used up. `via` "auto" (the default) runs
   * libbpf's loader program and, where that fails (kernels before 5.17, or a program the
   * verifier refuses), loads through libbpf; "loader" and "libbpf" force one way.
   */
  load(via: LoadPath = "auto"): BpfObject {
    try {
      return this.#load(via);
    } catch (e) {
      if (this.#lib.logging) throw e;
      // Again with libbpf's log on, for its reason (the failing path only pays for the log).
      this.#lib.logAll();
      return this.reopen().load(via);
    }
  }

  #load(via: LoadPath): BpfObject {
    const obj = this.#handle();
    const mapNames = this.#mapNames();
    const programs = this.#programs();
    if (via === "libbpf") return this.#loadThroughLibbpf(obj, mapNames, programs);
    try {
      return this.#loadThroughLoader(obj, mapNames, programs);
    } catch (e) {
      // A kernel without syscall programs refuses the loader; one without CO-RE in the kernel
      // (before 5.17) fails its run. libbpf's own load is then the way, and if it fails too,
      // its reason is the one told (a program the verifier refuses fails both ways alike).
      if (via === "loader") throw e;
      return this.reopen().load("libbpf");
    }
  }

  #loadThroughLoader(
    obj: Deno.PointerObject,
    mapNames: string[],
    programs: ProgramInfo[],
  ): BpfObject {
    this.#lib.beginLog();
    const loader = generateLoader(this.#lib, obj);
    const log = this.#lib.takeLog();
    this.close();
    if (typeof loader === "number") {
      throw failure(this.#lib, `Cannot load BPF object ${this.#path}`, loader, log);
    }
    const loaded = LoadedLoader.load(this.#lib, loader);
    if (typeof loaded === "number") {
      throw new FaultlineError(
        `Cannot load BPF object ${this.#path}: the kernel refused libbpf's loader program: ` +
          `${errnoText(this.#lib, loaded)} (errno ${loaded}); it needs Linux 5.17 or later`,
      );
    }
    try {
      const made = loaded.run(this.#path, mapNames.length, programs.length, logReason);
      return new BpfObject(
        this.#lib,
        this.#path,
        new Map(mapNames.map((name, i) => [name, made.maps[i]!])),
        new Map(programs.map((p, i) => [p.name, { ...p, fd: made.programs[i]! }])),
        null,
      );
    } finally {
      loaded.close();
    }
  }

  #loadThroughLibbpf(
    obj: Deno.PointerObject,
    mapNames: string[],
    programs: ProgramInfo[],
  ): BpfObject {
    this.#lib.beginLog();
    if (this.#lib.bpf.bpf_object__load(obj) !== 0) {
      const error = failure(this.#lib, `Cannot load BPF object ${this.#path}`);
      this.close();
      throw error;
    }
    this.#obj = null;
    const maps = new Map(mapNames.map((name) => {
      const map = this.#lib.bpf.bpf_object__find_map_by_name(obj, cString(name));
      return [name, map === null ? -1 : this.#lib.bpf.bpf_map__fd(map)];
    }));
    const progs = new Map(programs.map((p) => {
      const prog = this.#lib.bpf.bpf_object__find_program_by_name(obj, cString(p.name));
      return [p.name, { ...p, fd: prog === null ? -1 : this.#lib.bpf.bpf_program__fd(prog) }];
    }));
    return new BpfObject(this.#lib, this.#path, maps, progs, obj);
  }

  /** Frees the object without loading it. Safe to call twice. */
  close(): void {
    this.#lib.beginLog();
    if (this.#obj !== null) this.#lib.bpf.bpf_object__close(this.#obj);
    this.#obj = null;
  }
}

const PERF_EVENT_IOC_ENABLE = 0x2400n;
const BPF_PERF_EVENT = 41;

/** A BPF object loaded into the kernel, and the links attaching its programs. */
export class BpfObject {
  readonly #lib: LibbpfHandle;
  readonly #path: string;
  readonly #maps: Map<string, number>;
  readonly #programs: Map<string, ProgramInfo & { fd: number }>;
  /** The libbpf object owning the fds (a load through libbpf), or null: the fds are ours. */
  #owner: Deno.PointerObject | null;
  #closed = false;
  /** Link fds, and after each the perf event fd it holds (or -1). */
  #links: [number, number][] = [];

  /** Wraps a loaded object's fds; use {@link BpfObjectSpec.load}. */
  constructor(
    lib: LibbpfHandle,
    path: string,
    maps: Map<string, number>,
    programs: Map<string, ProgramInfo & { fd: number }>,
    owner: Deno.PointerObject | null,
  ) {
    this.#lib = lib;
    this.#path = path;
    // libbpf names a global-data map with a prefix from the object's name ("faultlin.rodata");
    // its section (".rodata", ".data.window") names it too, as find_map_by_name takes it.
    this.#maps = new Map(maps);
    for (const [name, fd] of maps) {
      const dot = name.indexOf(".");
      if (dot > 0 && !this.#maps.has(name.slice(dot))) this.#maps.set(name.slice(dot), fd);
    }
    this.#programs = programs;
    this.#owner = owner;
  }

  #program(name: string): ProgramInfo & { fd: number } {
    if (this.#closed) throw new Error("BpfObject is closed");
    const p = this.#programs.get(name);
    if (p === undefined || p.fd < 0) {
      throw new FaultlineError(`Cannot find program ${name} in ${this.#path}`);
    }
    return p;
  }

  /** The fd of map `name` (for a global-data map, its section: ".rodata", ".data.window"). */
  mapFd(name: string): number {
    if (this.#closed) throw new Error("BpfObject is closed");
    const fd = this.#maps.get(name) ?? -1;
    if (fd < 0) throw new FaultlineError(`Cannot find map "${name}" in ${this.#path}`);
    return fd;
  }

  /** The fd of program `name`. */
  programFd(name: string): number {
    return this.#program(name).fd;
  }

  /**
   * Attaches program `name` where its section says: `tp_btf/NAME`, `raw_tp/NAME` (or
   * `raw_tracepoint/`), `tracepoint/CATEGORY/NAME` (or `tp/`).
   */
  attach(name: string): void {
    const program = this.#program(name);
    const [kind, ...rest] = program.section.split("/");
    const target = rest.join("/");
    if (kind === "tp_btf" || kind === "raw_tp" || kind === "raw_tracepoint") {
      // tp_btf programs carry their target (the kernel found it at load): no name.
      const link = this.#lib.bpf.bpf_raw_tracepoint_open(
        kind === "tp_btf" ? null : cString(target),
        program.fd,
      );
      if (link < 0) {
        throw failure(
          this.#lib,
          `Cannot attach ${name} to ${program.section}`,
          lastErrno(this.#lib),
          [],
        );
      }
      this.#links.push([link, -1]);
    } else if ((kind === "tracepoint" || kind === "tp") && rest.length === 2) {
      this.attachPerfEvent(name, openTracepointEvent(this.#lib, `${TRACEFS_EVENTS}/${target}`));
    } else {
      throw new FaultlineError(
        `Cannot attach ${name}: its section ${program.section} is not one faultline attaches ` +
          `(tp_btf/, raw_tp/, tracepoint/); attach it with attachPerfEvent`,
      );
    }
  }

  /** Attaches program `name` to perf event `fd` and enables the event; the link owns the fd. */
  attachPerfEvent(name: string, fd: number): void {
    let program;
    try {
      program = this.#program(name);
    } catch (e) {
      this.#lib.libc.close(fd);
      throw e;
    }
    const link = this.#lib.bpf.bpf_link_create(program.fd, fd, BPF_PERF_EVENT, null);
    if (link < 0 || this.#lib.libc.ioctl(fd, PERF_EVENT_IOC_ENABLE, 0n) !== 0) {
      const error = failure(
        this.#lib,
        `Cannot attach ${name} to perf event fd ${fd}`,
        lastErrno(this.#lib),
        [],
      );
      if (link >= 0) this.#lib.libc.close(link);
      this.#lib.libc.close(fd);
      throw error;
    }
    this.#links.push([link, fd]);
  }

  /** The sum over CPUs of a per-CPU u64 array map's entry `key`. */
  sumPerCpu(mapName: string, key = 0): number {
    const cpus = this.#lib.bpf.libbpf_num_possible_cpus();
    const values = new BigUint64Array(Math.max(cpus, 1));
    const k = new Uint32Array([key]);
    if (this.#lib.bpf.bpf_map_lookup_elem(this.mapFd(mapName), k, values) !== 0) {
      throw failure(this.#lib, `Cannot read map "${mapName}"`);
    }
    return values.reduce((s, v) => s + Number(v), 0);
  }

  /** Sets `key` to `value` in a map of u32 keys and u64 values. */
  updateElement(mapName: string, key: number, value: bigint): void {
    const k = new Uint32Array([key]);
    const v = new BigUint64Array([value]);
    if (this.#lib.bpf.bpf_map_update_elem(this.mapFd(mapName), k, v, 0n) !== 0) {
      throw failure(this.#lib, `Cannot write map "${mapName}"`);
    }
  }

  /**
   * Writes the whole value of a global-data map (a `SEC(".data.NAME")` variable's map, which
   * holds one value at key 0) while the programs run.
   */
  writeGlobal(mapName: string, bytes: Uint8Array<ArrayBuffer>): void {
    const key = new Uint32Array([0]);
    if (this.#lib.bpf.bpf_map_update_elem(this.mapFd(mapName), key, bytes, 0n) !== 0) {
      throw failure(this.#lib, `Cannot write map "${mapName}"`);
    }
  }

  /**
   * Closes every link, one after another: no program runs after this returns. Safe to call
   * twice. (Closing them side by side on Deno's thread pool, for their RCU grace periods to
   * overlap, took longer here: 4.4-13 ms for the 11 links against 1.7-4.2 ms one after
   * another, idle or under load: the pool starts a thread per close.)
   */
  detach(): void {
    for (const [link, fd] of this.#links.splice(0)) {
      this.#lib.libc.close(link);
      if (fd >= 0) this.#lib.libc.close(fd);
    }
  }

  /** Detaches, then closes the object's maps and programs. Safe to call twice. */
  close(): void {
    this.detach();
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owner !== null) {
      this.#lib.beginLog();
      this.#lib.bpf.bpf_object__close(this.#owner);
      this.#owner = null;
      return;
    }
    for (const fd of new Set(this.#maps.values())) if (fd >= 0) this.#lib.libc.close(fd);
    for (const p of this.#programs.values()) if (p.fd >= 0) this.#lib.libc.close(p.fd);
  }
}
