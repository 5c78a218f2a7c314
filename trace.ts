/**
 * The faultline CLI: `deno run -A trace.ts --pid PID` or `deno run -A trace.ts -- CMD ARGS...`.
 * A thin layer over mod.ts (see src/cli/cli.ts): it parses flags, traces, prints and writes the
 * report.
 *
 * @module
 */

import { main } from "./src/cli/cli.ts";

export { HELP, main, parseCli, VERSION } from "./src/cli/cli.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
