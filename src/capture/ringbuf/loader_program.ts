/**
 * libbpf's loader program ("gen loader", what `bpftool gen skeleton -L` ships): instead of
 * loading an object itself, libbpf writes a BPF_PROG_TYPE_SYSCALL program that creates the maps,
 * loads the object's BTF and programs, and has the kernel apply the CO-RE relocations and find
 * the attach targets against the vmlinux BTF it already holds. User space never parses vmlinux
 * BTF then: on this VM libbpf's parse alone took ~60 ms of a ~75 ms load; generating and running
 * the loader takes ~10 ms.
 *
 * The loader is generated from the opened object at load time (so ring size and `.rodata` set
 * on the spec are in it) and run once through BPF_PROG_RUN; the kernel writes each map's and
 * program's fd, in the object's order, into the context it is run with (layout:
 * `bpf/skel_internal.h`). Needs Linux 5.17 or later (syscall programs, CO-RE in the kernel).
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { cString, errnoText, lastErrno, type LibbpfHandle } from "./libbpf.ts";

const SYS_BPF = 321n; // x86-64
const BPF_PROG_LOAD = 5n;
const BPF_PROG_RUN = 10n;
const BPF_MAP_TYPE_ARRAY = 2;
const BPF_PROG_TYPE_SYSCALL = 31;
const BPF_F_SLEEPABLE = 16;
/** union bpf_attr up to the end of BPF_PROG_LOAD's fd_array, and of BPF_PROG_RUN's `test`. */
const PROG_LOAD_ATTR_SIZE = 128;
const PROG_RUN_ATTR_SIZE = 80;
/** struct bpf_loader_ctx, bpf_map_desc, bpf_prog_desc (bpf/skel_internal.h). */
const CTX_HEADER_SIZE = 24;
const MAP_DESC_SIZE = 16;
const PROG_DESC_SIZE = 4;
/** How many times a load or run the verifier gave up on (EAGAIN: a signal came) is made. */
const RUN_ATTEMPTS = 5;
const EAGAIN = 11;
/** The verifier log asked for when a load failed: the kernel keeps its last part. */
const LOG_SIZE = 16 << 20;

/** A generated loader: its instructions and the data blob it reads (copied out of libbpf). */
export interface LoaderProgram {
  readonly insns: Uint8Array<ArrayBuffer>;
  readonly data: Uint8Array<ArrayBuffer>;
}

/** What one run of the loader made: fds in the object's map and program order. */
export interface LoaderResult {
  /** Each map's fd, in `bpf_object__next_map` order. */
  readonly maps: number[];
  /** Each program's fd, in `bpf_object__next_program` order. */
  readonly programs: number[];
}

function copyOut(p: Deno.PointerObject | null, length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  if (p !== null && length > 0) {
    out.set(new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(p, length)));
  }
  return out;
}

function pointerValue(buffer: ArrayBufferView | null): bigint {
  return buffer === null ? 0n : BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
}

/**
 * Has libbpf write the loader for opened (not loaded) object `obj`; the object is used up.
 * Returns libbpf's error number on failure.
 */
export function generateLoader(lib: LibbpfHandle, obj: Deno.PointerObject): LoaderProgram | number {
  // struct gen_loader_opts { size_t sz; const char *data, *insns; __u32 data_sz, insns_sz; }
  const opts = new Uint8Array(32);
  const v = new DataView(opts.buffer);
  v.setBigUint64(0, 32n, true);
  if (lib.bpf.bpf_object__gen_loader(obj, opts) !== 0) return lastErrno(lib) || 22;
  if (lib.bpf.bpf_object__load(obj) !== 0) return lastErrno(lib) || 22;
  const data = Deno.UnsafePointer.create(v.getBigUint64(8, true));
  const insns = Deno.UnsafePointer.create(v.getBigUint64(16, true));
  return {
    data: copyOut(data, v.getUint32(24, true)),
    insns: copyOut(insns, v.getUint32(28, true)),
  };
}

function bpf(lib: LibbpfHandle, cmd: bigint, attr: Uint8Array<ArrayBuffer>): number {
  return Number(lib.libc.syscall_bpf(SYS_BPF, cmd, attr, BigInt(attr.length)));
}

/** A loader program loaded into the kernel, ready to run. Close it once run. */
export class LoadedLoader {
  readonly #lib: LibbpfHandle;
  readonly #fds: number[];
  readonly #progFd: number;

  private constructor(lib: LibbpfHandle, fds: number[], progFd: number) {
    this.#lib = lib;
    this.#fds = fds;
    this.#progFd = progFd;
  }

  /**
   * Loads `loader` (its data blob in a one-entry array map, as skel_internal.h does). Returns
   * the errno when the kernel refuses: a kernel without syscall programs, for one.
   */
  static load(lib: LibbpfHandle, loader: LoaderProgram): LoadedLoader | number {
    const mapFd = lib.bpf.bpf_map_create(
      BPF_MAP_TYPE_ARRAY,
      cString("__loader.map"),
      4,
      loader.data.length,
      1,
      null,
    );
    if (mapFd < 0) return lastErrno(lib);
    if (lib.bpf.bpf_map_update_elem(mapFd, new Uint32Array(1), loader.data, 0n) !== 0) {
      const errno = lastErrno(lib);
      lib.libc.close(mapFd);
      return errno;
    }
    const license = cString("Dual BSD/GPL");
    const fdArray = new Int32Array([mapFd]);
    const attr = new Uint8Array(PROG_LOAD_ATTR_SIZE);
    const v = new DataView(attr.buffer);
    v.setUint32(0, BPF_PROG_TYPE_SYSCALL, true);
    v.setUint32(4, loader.insns.length / 8, true);
    v.setBigUint64(8, pointerValue(loader.insns), true);
    v.setBigUint64(16, pointerValue(license), true);
    v.setUint32(44, BPF_F_SLEEPABLE, true);
    attr.set(cString("__loader.prog"), 48);
    v.setBigUint64(120, pointerValue(fdArray), true);
    // The verifier gives up on the loader itself with EAGAIN when a signal comes while it
    // works, as on a run: load again, as libbpf does its own loads.
    let progFd = bpf(lib, BPF_PROG_LOAD, attr);
    for (let attempt = 1; attempt < RUN_ATTEMPTS && progFd < 0; attempt++) {
      if (lastErrno(lib) !== EAGAIN) break;
      progFd = bpf(lib, BPF_PROG_LOAD, attr);
    }
    if (progFd < 0) {
      const errno = lastErrno(lib);
      lib.libc.close(mapFd);
      return errno;
    }
    return new LoadedLoader(lib, [mapFd, progFd], progFd);
  }

  /**
   * Runs the loader (again, up to 5 times in all, while the verifier gives up because a signal
   * came). On success, the fds it made (now this process's). On failure, a
   * FaultlineError `Cannot load BPF object PATH: REASON (errno N)`, with the verifier's reason
   * when it refused a program (the loader is run a second time with the log on to get it;
   * everything a failed run made is closed by the loader itself).
   */
  run(
    path: string,
    maps: number,
    programs: number,
    reason: (log: string[]) => string,
  ): LoaderResult {
    let first = this.#run(maps, programs, null);
    // The verifier gives up with EAGAIN when a signal comes for this process while it works
    // (a child stopping, a tracer's stop): run again, as libbpf does its own loads.
    for (let attempt = 1; attempt < RUN_ATTEMPTS && first === EAGAIN; attempt++) {
      first = this.#run(maps, programs, null);
    }
    if (typeof first !== "number") return first;
    const log = new Uint8Array(LOG_SIZE);
    const again = this.#run(maps, programs, log);
    if (typeof again !== "number") {
      // Not expected (the same loader on the same kernel), but what it made is ours now.
      for (const fd of [...again.maps, ...again.programs]) if (fd > 0) this.#lib.libc.close(fd);
    }
    const end = log.indexOf(0);
    const lines = new TextDecoder().decode(log.subarray(0, end < 0 ? log.length : end))
      .split("\n").filter((l) => l.trim() !== "");
    return this.#fail(path, first, lines.length ? reason(lines) : "");
  }

  #fail(path: string, errno: number, reason: string): never {
    throw new FaultlineError(
      `Cannot load BPF object ${path}: ${errnoText(this.#lib, errno)} (errno ${errno})` +
        (reason ? `; ${reason}` : ""),
    );
  }

  #run(maps: number, programs: number, log: Uint8Array<ArrayBuffer> | null): LoaderResult | number {
    const ctx = new Uint8Array(CTX_HEADER_SIZE + MAP_DESC_SIZE * maps + PROG_DESC_SIZE * programs);
    const c = new DataView(ctx.buffer);
    c.setUint32(0, ctx.length, true);
    if (log) {
      c.setUint32(8, 1, true); // log_level
      c.setUint32(12, log.length, true);
      c.setBigUint64(16, pointerValue(log), true);
    }
    const attr = new Uint8Array(PROG_RUN_ATTR_SIZE);
    const v = new DataView(attr.buffer);
    v.setUint32(0, this.#progFd, true);
    v.setUint32(40, ctx.length, true);
    v.setBigUint64(48, pointerValue(ctx), true);
    if (bpf(this.#lib, BPF_PROG_RUN, attr) < 0) return lastErrno(this.#lib);
    const retval = v.getInt32(4, true);
    if (retval < 0) return -retval;
    const mapFds = Array.from(
      { length: maps },
      (_, i) => c.getInt32(CTX_HEADER_SIZE + MAP_DESC_SIZE * i, true),
    );
    const programFds = Array.from(
      { length: programs },
      (_, i) => c.getInt32(CTX_HEADER_SIZE + MAP_DESC_SIZE * maps + PROG_DESC_SIZE * i, true),
    );
    return { maps: mapFds, programs: programFds };
  }

  /** Closes the loader's program and data map. */
  close(): void {
    for (const fd of this.#fds.splice(0)) this.#lib.libc.close(fd);
  }
}
