/**
 * The CLI's V8 flags. A script cannot set its own V8 flags once V8 runs (`node:v8`'s
 * `setFlagsFromString` changes nothing that matters here), so trace.ts, before it loads the
 * rest of faultline, replaces its own process (execv, same pid, same descriptors) with the same
 * `deno run` command line plus `--v8-flags=...`.
 *
 * The flag is `--no-concurrent-recompilation`: V8 then optimizes hot functions on the main
 * thread instead of on a thread of its own. A short trace makes V8 compile faultline's
 * per-record path (70-90 ms of CPU on a trace of `mmap_touch 2000 64`); on a background thread
 * that compile competes with the traced program for a CPU, on the main one it only delays the
 * reader, which the ring buffers. Measured on a 2-CPU VM, 21 paired rounds: `mmap_touch` 1.26x
 * and 1.27x against 1.39x and 1.51x, with `--events-csv` 1.20x and 1.27x against 1.48x and
 * 1.55x (see the README's performance section).
 *
 * @module
 */

import { libc } from "../common/libc.ts";

/** The V8 flags the CLI runs with. */
export const CLI_V8_FLAGS = "--no-concurrent-recompilation";

/**
 * The command line to re-execute: `argv` (a `deno run` command line, as /proc/self/cmdline
 * has it) with `--v8-flags=FLAGS` after `run`. Null when it is to be left as it is: not
 * `deno run`, a `--v8-flags` of its own among Deno's flags (the re-executed one has one), or
 * the script (`mainModule`, resolved against `cwd`) not found among its arguments.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { withV8Flags } from "./reexec_with_v8_flags.ts";
 * const argv = ["deno", "run", "-A", "trace.ts", "--pid", "1"];
 * const main = "file:///work/trace.ts";
 * assert.deepEqual(
 *   withV8Flags(argv, main, "/work", "--no-concurrent-recompilation"),
 *   ["deno", "run", "--v8-flags=--no-concurrent-recompilation", "-A", "trace.ts", "--pid", "1"],
 * );
 * // A --v8-flags of the user's own is kept, and nothing is added.
 * const own = ["deno", "run", "--v8-flags=--max-old-space-size=64", "-A", "trace.ts"];
 * assert.equal(withV8Flags(own, main, "/work", "--no-concurrent-recompilation"), null);
 * // The script's own arguments are not Deno's flags.
 * const after = ["deno", "run", "-A", "trace.ts", "--", "node", "--v8-flags=x"];
 * assert.equal(withV8Flags(after, main, "/work", "-x")?.[2], "--v8-flags=-x");
 * ```
 */
export function withV8Flags(
  argv: readonly string[],
  mainModule: string,
  cwd: string,
  flags: string,
): string[] | null {
  if (argv[1] !== "run") return null;
  const base = new URL(`file://${cwd.endsWith("/") ? cwd : `${cwd}/`}`);
  const script = argv.findIndex((a, i) => {
    if (i < 2 || a.startsWith("-")) return false;
    try {
      return new URL(a, base).href === mainModule;
    } catch {
      return false;
    }
  });
  if (script < 0) return null;
  if (argv.slice(2, script).some((a) => a.startsWith("--v8-flags"))) return null;
  return [argv[0]!, "run", `--v8-flags=${flags}`, ...argv.slice(2)];
}

/**
 * Replaces this process with its own `deno run` command line plus `--v8-flags=flags`
 * ({@link withV8Flags}); returns, doing nothing, where that does not apply or cannot be done:
 * V8 flags set already (`--v8-flags`, or `DENO_V8_FLAGS` in the environment), not run as
 * `deno run` with the script on its command line, no permission to read files or to call C
 * (asked without a prompt), or execv failing.
 */
export function reexecWithV8Flags(flags: string = CLI_V8_FLAGS): void {
  const granted = (d: Deno.PermissionDescriptor) =>
    Deno.permissions.querySync(d).state === "granted";
  // Read: /proc/self/cmdline and the working directory (Deno.cwd() asks for all of it).
  if (!granted({ name: "ffi" }) || !granted({ name: "read" })) return;
  if (!granted({ name: "env", variable: "DENO_V8_FLAGS" })) return;
  if (Deno.env.get("DENO_V8_FLAGS") !== undefined) return;
  let next: string[] | null;
  try {
    const argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    if (argv.at(-1) === "") argv.pop();
    next = withV8Flags(argv, Deno.mainModule, Deno.cwd(), flags);
  } catch {
    return; // the working directory gone, say: run as started
  }
  if (next === null) return;
  const encoder = new TextEncoder();
  const strings = next.map((a) => encoder.encode(`${a}\0`));
  const pointers = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => pointers[i] = Deno.UnsafePointer.value(Deno.UnsafePointer.of(s)));
  // Returns only on failure (the binary gone, say): the trace then runs here, as it is.
  libc().execv(encoder.encode(`${Deno.execPath()}\0`), pointers);
}
