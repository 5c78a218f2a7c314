/**
 * Events offered per second against events lost, for both engines, on the real workload:
 * `mmap_touch 1000 64` with 1, 2 and 4 threads faulting at once, traced by trace.ts; offered is
 * what was counted plus what was lost, over the trace's duration.
 *
 * Run: deno run -A bench/engine_loss.ts [--json FILE]
 */
import { parseArgs } from "node:util";
import { takeReport, traceCli } from "./_trace_cli.ts";

const { values } = parseArgs({ args: Deno.args, options: { json: { type: "string" } } });
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const rows: { engine: string; threads: number; rate: number; offered: number; lost: number }[] = [];
console.log("| engine | threads | offered events/s | offered | lost | lost % |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const engine of ["ringbuf", "bpftrace"]) {
  for (const threads of [1, 2, 4]) {
    const json = Deno.makeTempFileSync({ suffix: ".json" });
    const out = await new Deno.Command(Deno.execPath(), {
      args: traceCli(
        "--engine",
        engine,
        "--json",
        json,
        "--",
        `${root}build/mmap_touch`,
        "1000",
        "64",
        "5918720",
        "0",
        String(threads),
      ),
      stdout: "null",
      stderr: "null",
    }).output();
    if (!out.success) throw new Error(`trace.ts --engine ${engine} exited ${out.code}`);
    const { report: r, events } = takeReport(json);
    const lost = r.lost as number;
    const offered = events + lost;
    const rate = offered / ((r.duration_ns as number) / 1e9);
    rows.push({ engine, threads, rate, offered, lost });
    console.log(
      `| ${engine} | ${threads} | ${(rate / 1e6).toFixed(2)} M | ${offered} | ${lost} | ${
        (100 * lost / offered).toFixed(1)
      } |`,
    );
  }
}
if (values.json !== undefined) Deno.writeTextFileSync(values.json, JSON.stringify(rows, null, 2));
