/**
 * Tracing overhead, side by side in one run: the bundled workload untraced, then traced by
 * faultline and by the tools a user would reach for instead. Each row is the workload's own
 * time (it measures itself, from after start-up, so tool start-up is not counted), the median
 * of ROUNDS runs, and its ratio to the untraced time.
 *
 *   deno run -A bench/overhead.ts [MAPS PAGES] [--rounds N] [--only ID,...] [--mixed]  (as root)
 *
 * The workload is build/mmap_touch MAPS PAGES (default 2000 64: one pattern, first touches of
 * anonymous memory), or with --mixed build/mixed_load with 4 threads x 200 rounds: small
 * anonymous mappings, file-backed faults on a shared mapping, mprotect and madvise, from
 * several threads at once.
 *
 * --only keeps the untraced run and the rows named (ids: perf-stat, strace, perf-trace,
 * bpftrace-hist, ringbuf, ringbuf-csv, ringbuf-v8-default, ringbuf-csv-v8-default, bpftrace),
 * for a quicker look at a few. The two -v8-default rows run faultline with V8's default
 * compiler threads instead of the CLI's V8 flags (src/cli/reexec_with_v8_flags.ts).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { benchWorkload, median, pairedRounds, workloadMs } from "./_paired_rounds.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "3" },
    json: { type: "string" },
    only: { type: "string" },
    mixed: { type: "boolean", default: false },
  },
});
const [maps = "2000", pages = "64"] = positionals;
const rounds = Number(values.rounds);
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const load = benchWorkload(values.mixed, maps, pages);
const workload = load.argv;

/** Runs argv, returns the workload's own ms from its last line. */
async function timed(argv: string[], env?: Record<string, string>): Promise<number> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "null",
    env,
  }).output();
  return workloadMs(new TextDecoder().decode(out.stdout));
}

/**
 * bpftrace keeping in-kernel hist() maps of mmap and munmap latency and fault latency, printing
 * nothing per event: the cheapest a bpftrace user gets these histograms.
 */
const HIST_SCRIPT = `
BEGIN { printf("attached\\n"); }
tracepoint:syscalls:sys_enter_mmap /pid == $1/ { @ms[tid] = nsecs; }
tracepoint:syscalls:sys_exit_mmap /pid == $1 && @ms[tid]/ { @mmap_ns = hist(nsecs - @ms[tid]); delete(@ms[tid]); }
tracepoint:syscalls:sys_enter_munmap /pid == $1/ { @us[tid] = nsecs; }
tracepoint:syscalls:sys_exit_munmap /pid == $1 && @us[tid]/ { @munmap_ns = hist(nsecs - @us[tid]); delete(@us[tid]); }
tracepoint:exceptions:page_fault_user /pid == $1/ { @fs[tid] = nsecs; }
software:minor-faults:1 /pid == $1 && @fs[tid]/ { @fault_ns = hist(nsecs - @fs[tid]); delete(@fs[tid]); }
`;

/** Runs the workload stopped until `tracer` (given its pid) says it is attached. */
async function underBpftrace(script: string): Promise<number> {
  const launcher = new Deno.Command("/bin/sh", {
    args: ["-c", 'kill -STOP "$$" && exec "$@"', "bench", ...workload],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const file = Deno.makeTempFileSync({ suffix: ".bt" });
  Deno.writeTextFileSync(file, script);
  const bt = new Deno.Command("bpftrace", {
    args: [file, String(launcher.pid)],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = bt.stdout.pipeThrough(new TextDecoderStream()).getReader();
  // BEGIN runs once every probe is attached ("Attaching N probes..." comes before that, and
  // a SIGINT while bpftrace attaches was seen to be lost: it then ran on for good).
  let said = "";
  while (!said.includes("attached")) said += (await reader.read()).value ?? "";
  Deno.kill(launcher.pid, "SIGCONT");
  const text = new TextDecoder().decode((await launcher.output()).stdout);
  // SIGINT until it exits (it prints its maps first), SIGKILL after 10 s.
  const stopAt = Date.now();
  const stopper = setInterval(() => {
    try {
      bt.kill(Date.now() - stopAt > 10_000 ? "SIGKILL" : "SIGINT");
    } catch { /* exited */ }
  }, 1000);
  bt.kill("SIGINT");
  while (!(await reader.read()).done) { /* the maps it prints */ }
  await bt.status;
  clearInterval(stopper);
  Deno.removeSync(file);
  return workloadMs(text);
}

const deno = Deno.execPath();
/** The workload's time under trace.ts with `flags` (output to the terminal left out: -q). */
const faultline = (...flags: string[]) =>
  timed([deno, "run", "-A", `${root}trace.ts`, "-q", ...flags, "--", ...workload]);
/**
 * The same with V8's default, which the CLI's own flags replace (src/cli/reexec_with_v8_flags.ts):
 * hot functions optimized on a compiler thread beside the main one. Set through DENO_V8_FLAGS,
 * which the CLI leaves as it is.
 */
const faultlineV8Default = (...flags: string[]) =>
  timed(
    [deno, "run", "-A", `${root}trace.ts`, "-q", ...flags, "--", ...workload],
    { DENO_V8_FLAGS: "--concurrent-recompilation" },
  );
const allRows: [string, string, () => Promise<number>][] = [
  ["untraced", "untraced", () => timed(workload)],
  [
    "perf-stat",
    "perf stat -e minor-faults,major-faults (counts only)",
    () =>
      timed([
        "perf",
        "stat",
        "-e",
        "minor-faults,major-faults",
        "-o",
        "/dev/null",
        "--",
        ...workload,
      ]),
  ],
  [
    "strace",
    "strace -f -e trace=mmap,munmap (syscalls only)",
    () => timed(["strace", "-f", "-e", "trace=mmap,munmap", "-o", "/dev/null", ...workload]),
  ],
  [
    "perf-trace",
    "perf trace -F all -e mmap,munmap (syscalls + every fault)",
    () =>
      timed([
        "perf",
        "trace",
        "-F",
        "all",
        "-e",
        "mmap,munmap",
        "-o",
        "/dev/null",
        "--",
        ...workload,
      ]),
  ],
  [
    "bpftrace-hist",
    "bpftrace, in-kernel hist() of mmap/munmap/fault latency (nothing per event)",
    () => underBpftrace(HIST_SCRIPT),
  ],
  [
    "ringbuf",
    "faultline --engine ringbuf (every event, decoded and aggregated)",
    () => faultline("--engine", "ringbuf"),
  ],
  [
    "ringbuf-csv",
    "faultline --engine ringbuf --events-csv (every event, also one CSV row each)",
    () => faultline("--engine", "ringbuf", "--events-csv", "/dev/null"),
  ],
  [
    "ringbuf-v8-default",
    "faultline --engine ringbuf, V8 compiling on its own thread (DENO_V8_FLAGS=--concurrent-recompilation, V8's default)",
    () => faultlineV8Default("--engine", "ringbuf"),
  ],
  [
    "ringbuf-csv-v8-default",
    "faultline --engine ringbuf --events-csv, V8 compiling on its own thread (the same)",
    () => faultlineV8Default("--engine", "ringbuf", "--events-csv", "/dev/null"),
  ],
  [
    "bpftrace",
    "faultline --engine bpftrace (every event)",
    () => faultline("--engine", "bpftrace"),
  ],
];
const only = values.only?.split(",");
for (const id of only ?? []) {
  if (!allRows.some(([rowId]) => rowId === id)) {
    throw new Error(`Unknown --only row "${id}": use ${allRows.map(([i]) => i).join(", ")}`);
  }
}
const rows = allRows
  .filter(([id]) => id === "untraced" || only === undefined || only.includes(id))
  .map(([, name, run]) => [name, run] as const);

console.log(
  `workload: ${load.name}; each round runs every tracer once after an untraced run, and a row's
ratio is the median over ${rounds} rounds of (its time / that round's untraced time)\n`,
);
const { times, ratios } = await pairedRounds(rows.map(([, run]) => run), rounds);
console.log("| tracer | workload ms (median) | vs untraced (median of pairs) |");
console.log("| --- | ---: | ---: |");
for (const [i, [name]] of rows.entries()) {
  console.log(`| ${name} | ${median(times[i]!).toFixed(1)} | ${median(ratios[i]!).toFixed(2)}x |`);
}
if (values.json !== undefined) {
  Deno.writeTextFileSync(
    values.json,
    JSON.stringify(
      {
        workload: load.shown,
        workloadName: load.name,
        rounds,
        rows: rows.map(([name], i) => ({ name, ms: median(times[i]!), ratio: median(ratios[i]!) })),
      },
      null,
      2,
    ),
  );
}
load.cleanup();
