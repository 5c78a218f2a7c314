/**
 * Tracing overhead, side by side in one run: the bundled workload untraced, then traced by
 * faultline and by the tools a user would reach for instead. Each row is the workload's own
 * time (it measures itself, from after start-up, so tool start-up is not counted), the median
 * of ROUNDS runs, and its ratio to the untraced time.
 *
 *   deno run -A bench/overhead.ts [MAPS PAGES] [--rounds N]     (as root)
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: { rounds: { type: "string", default: "3" } },
});
const [maps = "2000", pages = "64"] = positionals;
const rounds = Number(values.rounds);
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const workload = [`${root}build/mmap_touch`, maps, pages];

/** Runs argv, returns the workload's own ms from its last line. */
async function timed(argv: string[], env?: Record<string, string>): Promise<number> {
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "null",
    env,
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const ms = /, ([\d.]+) ms$/m.exec(text);
  if (!ms) throw new Error(`${argv.join(" ")} printed no time (status ${out.code}): ${text}`);
  return Number(ms[1]);
}

/** bpftrace alone running faultline's probes, output to a file: the engine minus faultline. */
async function bpftraceAlone(): Promise<number> {
  const launcher = new Deno.Command("/bin/sh", {
    args: ["-c", 'kill -STOP "$$" && exec "$@"', "bench", ...workload],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const out = Deno.makeTempFileSync();
  const bt = new Deno.Command("sh", {
    args: [
      "-c",
      `exec bpftrace ${root}probes/faultline.bt ${launcher.pid} 1 /dev/null/bench > ${out} 2>/dev/null`,
    ],
  }).spawn();
  while (!Deno.readTextFileSync(out).includes("\nR ")) await new Promise((r) => setTimeout(r, 20));
  Deno.kill(launcher.pid, "SIGCONT");
  const text = new TextDecoder().decode((await launcher.output()).stdout);
  await new Promise((r) => setTimeout(r, 300));
  bt.kill("SIGINT");
  await bt.status;
  Deno.removeSync(out);
  return Number(/, ([\d.]+) ms$/m.exec(text)![1]);
}

const deno = Deno.execPath();
const rows: [string, () => Promise<number>][] = [
  ["untraced", () => timed(workload)],
  [
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
    "strace -f -e trace=mmap,munmap (syscalls only)",
    () => timed(["strace", "-f", "-e", "trace=mmap,munmap", "-o", "/dev/null", ...workload]),
  ],
  [
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
  ["bpftrace probes/faultline.bt alone (every event, to a file)", bpftraceAlone],
  [
    "faultline --engine ringbuf (every event, decoded and aggregated)",
    () =>
      timed([deno, "run", "-A", `${root}trace.ts`, "-q", "--engine", "ringbuf", "--", ...workload]),
  ],
  [
    "faultline --engine bpftrace (every event)",
    () =>
      timed([
        deno,
        "run",
        "-A",
        `${root}trace.ts`,
        "-q",
        "--engine",
        "bpftrace",
        "--",
        ...workload,
      ]),
  ],
];

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `workload: mmap_touch ${maps} ${pages} (${
    Number(maps) * Number(pages)
  } first-touch faults), median of ${rounds}\n`,
);
console.log("| tracer | workload ms | vs untraced |");
console.log("| --- | ---: | ---: |");
let base = 0;
for (const [name, run] of rows) {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push(await run());
  const ms = median(times);
  if (base === 0) base = ms;
  console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)}x |`);
}
