/**
 * A compiled BPF object through libbpf: {@link BpfObjectSpec} is the object opened and parsed
 * but not in the kernel (settings can still change), {@link BpfObject} is the loaded one, with
 * its links. Closing a BpfObject destroys every link, then the object.
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { cString, errnoText, lastErrno, type LibbpfHandle, openLibbpf } from "./libbpf.ts";

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

function failure(lib: LibbpfHandle, what: string, errno = lastErrno(lib)): FaultlineError {
  const log = lib.takeLog();
  const error = new FaultlineError(
    `${what}: ${errnoText(lib, errno)} (errno ${errno})` +
      (log.length ? `; ${logReason(log)}` : ""),
  );
  (error as FaultlineError & { log: string[] }).log = log;
  return error;
}

/** A BPF object file opened and parsed by libbpf, not yet loaded into the kernel. */
export class BpfObjectSpec {
  readonly #lib: LibbpfHandle;
  readonly #path: string;
  #obj: Deno.PointerObject | null;

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
    if (obj === null) throw failure(lib, `Cannot open BPF object ${path}`);
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
  }

  /** Loads the object into the kernel; the spec is used up. */
  load(): BpfObject {
    const obj = this.#handle();
    this.#lib.beginLog();
    if (this.#lib.bpf.bpf_object__load(obj) !== 0) {
      const error = failure(this.#lib, `Cannot load BPF object ${this.#path}`);
      this.close();
      throw error;
    }
    this.#obj = null;
    return new BpfObject(this.#lib, this.#path, obj);
  }

  /** Frees the object without loading it. Safe to call twice. */
  close(): void {
    this.#lib.beginLog();
    if (this.#obj !== null) this.#lib.bpf.bpf_object__close(this.#obj);
    this.#obj = null;
  }
}

/** A BPF object loaded into the kernel, and the links attaching its programs. */
export class BpfObject {
  readonly #lib: LibbpfHandle;
  readonly #path: string;
  #obj: Deno.PointerObject | null;
  #links: Deno.PointerObject[] = [];

  /** Wraps a loaded libbpf object; use {@link BpfObjectSpec.load}. */
  constructor(lib: LibbpfHandle, path: string, obj: Deno.PointerObject) {
    this.#lib = lib;
    this.#path = path;
    this.#obj = obj;
  }

  #handle(): Deno.PointerObject {
    if (this.#obj === null) throw new Error("BpfObject is closed");
    return this.#obj;
  }

  #program(name: string): Deno.PointerObject {
    const p = this.#lib.bpf.bpf_object__find_program_by_name(this.#handle(), cString(name));
    if (p === null) throw new FaultlineError(`Cannot find program ${name} in ${this.#path}`);
    return p;
  }

  /** The fd of map `name`. */
  mapFd(name: string): number {
    const map = this.#lib.bpf.bpf_object__find_map_by_name(this.#handle(), cString(name));
    const fd = map === null ? -1 : this.#lib.bpf.bpf_map__fd(map);
    if (fd < 0) throw new FaultlineError(`Cannot find map "${name}" in ${this.#path}`);
    return fd;
  }

  /** Attaches program `name` where its section says (tracepoints). */
  attach(name: string): void {
    this.#lib.beginLog();
    const link = this.#lib.bpf.bpf_program__attach(this.#program(name));
    if (link === null) throw failure(this.#lib, `Cannot attach ${name}`);
    this.#links.push(link);
  }

  /** Attaches program `name` to perf event `fd`; the link then owns the fd. */
  attachPerfEvent(name: string, fd: number): void {
    this.#lib.beginLog();
    const link = this.#lib.bpf.bpf_program__attach_perf_event(this.#program(name), fd);
    if (link === null) {
      const error = failure(this.#lib, `Cannot attach ${name} to perf event fd ${fd}`);
      this.#lib.libc.close(fd);
      throw error;
    }
    this.#links.push(link);
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
   * Destroys every link, side by side on Deno's thread pool (each release waits for an RCU
   * grace period; together they wait about one): no program runs once it resolves. Safe to call
   * twice.
   */
  async detachAll(): Promise<void> {
    this.#lib.beginLog();
    await Promise.all(
      this.#links.splice(0).map((link) => this.#lib.bpf.bpf_link__destroy_async(link)),
    );
  }

  /**
   * Destroys every link, one after another (see {@link BpfObject.detachAll}): no program runs
   * after this returns. Safe to call twice.
   */
  detach(): void {
    this.#lib.beginLog();
    for (const link of this.#links.splice(0)) this.#lib.bpf.bpf_link__destroy(link);
  }

  /** Detaches, then frees the object and its maps. Safe to call twice. */
  close(): void {
    this.detach();
    if (this.#obj !== null) this.#lib.bpf.bpf_object__close(this.#obj);
    this.#obj = null;
  }
}
