/**
 * libbpf (Debian's libbpf1, `libbpf.so.1`), with the libc calls the ringbuf engine needs,
 * bound with Deno FFI. Opened once per process, on first use.
 *
 * libbpf 1.x reports failure as NULL or a negative number and sets errno: {@link lastErrno}
 * reads it right after the call. Its log (verifier output included) is captured through
 * `libbpf_set_print` (see {@link LibbpfHandle.takeLog}) once a call has failed
 * ({@link LibbpfHandle.logAll}); until then libbpf prints nothing.
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { errno, type Libc, libc } from "../../common/libc.ts";

/** The libbpf functions faultline binds, with their C signatures as Deno FFI types. */
export const LIBBPF_SYMBOLS = {
  bpf_object__open_file: { parameters: ["buffer", "pointer"], result: "pointer" },
  bpf_object__load: { parameters: ["pointer"], result: "i32" },
  bpf_object__close: { parameters: ["pointer"], result: "void" },
  bpf_object__find_map_by_name: { parameters: ["pointer", "buffer"], result: "pointer" },
  bpf_object__find_program_by_name: { parameters: ["pointer", "buffer"], result: "pointer" },
  bpf_object__next_map: { parameters: ["pointer", "pointer"], result: "pointer" },
  bpf_object__next_program: { parameters: ["pointer", "pointer"], result: "pointer" },
  bpf_object__gen_loader: { parameters: ["pointer", "buffer"], result: "i32" },
  bpf_map__name: { parameters: ["pointer"], result: "pointer" },
  bpf_program__name: { parameters: ["pointer"], result: "pointer" },
  bpf_program__section_name: { parameters: ["pointer"], result: "pointer" },
  bpf_program__fd: { parameters: ["pointer"], result: "i32" },
  bpf_map__set_max_entries: { parameters: ["pointer", "u32"], result: "i32" },
  bpf_map__initial_value: { parameters: ["pointer", "buffer"], result: "pointer" },
  bpf_map__fd: { parameters: ["pointer"], result: "i32" },
  bpf_map_lookup_elem: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bpf_map_update_elem: { parameters: ["i32", "buffer", "buffer", "u64"], result: "i32" },
  bpf_obj_get_info_by_fd: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  bpf_map_create: {
    parameters: ["u32", "buffer", "u32", "u32", "u32", "pointer"],
    result: "i32",
  },
  bpf_raw_tracepoint_open: { parameters: ["buffer", "i32"], result: "i32" },
  bpf_link_create: { parameters: ["i32", "i32", "u32", "pointer"], result: "i32" },
  libbpf_num_possible_cpus: { parameters: [], result: "i32" },
  libbpf_set_print: { parameters: ["function"], result: "pointer" },
} as const;

/** The bound libraries and the captured libbpf log. */
export interface LibbpfHandle {
  /** libbpf's functions. */
  readonly bpf: Deno.DynamicLibrary<typeof LIBBPF_SYMBOLS>["symbols"];
  /** libc's functions (the one binding of src/common/libc.ts). */
  readonly libc: Libc;
  /**
   * Whether libbpf's lines are captured: only once {@link LibbpfHandle.logAll} has been called.
   * Until then libbpf prints nothing, anywhere; a call that fails is made again with the log
   * on, for its reason (making the print callback, Deno's first UnsafeCallback, costs ~4 ms of
   * every start otherwise).
   */
  readonly logging: boolean;
  /** Captures libbpf's lines from the next {@link LibbpfHandle.beginLog} on. */
  logAll(): void;
  /**
   * Points libbpf's print hook at this isolate's log (or at nothing, until logAll()) and
   * empties it: call before each libbpf call whose log matters. The hook is global to the
   * process, so another isolate (a worker, another test file) may have taken it since.
   */
  beginLog(): void;
  /** Lines libbpf printed since {@link LibbpfHandle.beginLog}, removed from the log. */
  takeLog(): string[];
}

let handle: LibbpfHandle | null = null;

/** enum libbpf_print_level: LIBBPF_WARN 0, LIBBPF_INFO 1, LIBBPF_DEBUG 2. */
const LIBBPF_INFO = 1;

export { cString } from "../../common/libc.ts";

/**
 * Opens libbpf.so.1 and libc once. Throws a FaultlineError naming the fix when libbpf is
 * missing.
 */
export function openLibbpf(): LibbpfHandle {
  if (handle) return handle;
  let bpfLib: Deno.DynamicLibrary<typeof LIBBPF_SYMBOLS>;
  try {
    bpfLib = Deno.dlopen("libbpf.so.1", LIBBPF_SYMBOLS);
  } catch (e) {
    throw new FaultlineError(
      `Cannot load libbpf.so.1: ${(e as Error).message}; install it with apt-get install libbpf1`,
    );
  }
  const libcSymbols = libc();
  const log: string[] = [];
  const line = new Uint8Array(4096);
  // libbpf_print_fn_t: int (*)(enum libbpf_print_level, const char *, va_list). On x86-64 a
  // va_list parameter is a pointer, which vsnprintf takes as it is.
  const PRINT = { parameters: ["i32", "pointer", "pointer"], result: "i32" } as const;
  let printer: Deno.UnsafeCallback<typeof PRINT> | null = null;
  const makePrinter = () =>
    new Deno.UnsafeCallback(
      PRINT,
      (level, format, args) => {
        // LIBBPF_DEBUG lines (hundreds per object opened: ~5 ms through this callback) say
        // nothing a failure's message uses; warnings and the verifier's log come as WARN/INFO.
        if (level > LIBBPF_INFO) return 0;
        const n = libcSymbols.vsnprintf(line, BigInt(line.length), format, args);
        if (n > 0) {
          const text = new TextDecoder().decode(line.subarray(0, Math.min(n, line.length - 1)));
          for (const l of text.split("\n")) if (l.trim() !== "") log.push(l);
          if (log.length > 2000) log.splice(0, log.length - 2000);
        }
        return 0;
      },
    );
  handle = {
    bpf: bpfLib.symbols,
    libc: libcSymbols,
    get logging() {
      return printer !== null;
    },
    logAll() {
      printer ??= makePrinter();
    },
    beginLog() {
      bpfLib.symbols.libbpf_set_print(printer?.pointer ?? null);
      log.length = 0;
    },
    takeLog: () => log.splice(0, log.length),
  };
  handle.beginLog();
  return handle;
}

/** errno as the last libc or libbpf call left it. */
export function lastErrno(_lib: LibbpfHandle): number {
  return errno();
}

/** strerror(errno), for messages. */
export function errnoText(lib: LibbpfHandle, errno: number): string {
  const p = lib.libc.strerror(errno);
  return p === null ? `errno ${errno}` : Deno.UnsafePointerView.getCString(p);
}
