/**
 * The faultline CLI: `deno run -A trace.ts --pid PID` or `deno run -A trace.ts -- CMD ARGS...`.
 * A thin layer over mod.ts (see src/cli/cli.ts): it parses flags, traces, prints and writes the
 * report.
 *
 * Run as the main module, it first re-executes itself with its V8 flags (see
 * src/cli/reexec_with_v8_flags.ts), before the rest of faultline is loaded: the CLI is loaded
 * once, by the process that traces.
 *
 * @module
 */

import { reexecWithV8Flags } from "./src/cli/reexec_with_v8_flags.ts";

if (import.meta.main) reexecWithV8Flags();

const cli = await import("./src/cli/cli.ts");

/** See src/cli/cli.ts. */
export const { HELP, main, parseCli, VERSION } = cli;

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
