/**
 * Where the ringbuf engine's overhead goes, in pieces, on mmap_touch 2000 64:
 *
 * 1. Paired rounds of the workload untraced, then traced (through the library, in this
 *    process) by variants of the probes built from probes/faultline.bpf.c: the fault programs
 *    returning at once (what the kernel's dispatch of a tracepoint and a perf event costs, with
 *    the syscall programs' records still read:
 *    FL_COST_EMPTY_FAULTS), doing all their work but writing no record
 *    (FL_COST_NO_FAULT_RECORDS), the real probes with the records folded into the histograms
 *    only, and the whole trace (histograms, process and mapping tables).
 * 2. Each program's own time per run (kernel.bpf_stats_enabled: run_time_ns / run_cnt, read
 *    by bpftool while a longer run traces), with the default ring (64 MiB) and with a 4 MiB one.
 *
 *   deno run -A bench/probe_cost.ts [--rounds N] [--mixed]     (as root, clang, bpftool)
 *
 * --mixed runs the steps on overhead.ts's mixed workload instead (the per-program costs stay on
 * mmap_touch).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { benchWorkload, median, pairedRounds, workloadMs } from "./_paired_rounds.ts";
import {
  Aggregator,
  attributionTables,
  DEFAULT_RING_SIZE,
  EVENT_KINDS,
  RingbufEngine,
  trace,
} from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "8" }, mixed: { type: "boolean", default: false } },
});
const rounds = Number(values.rounds);
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const load = benchWorkload(values.mixed);
const WORKLOAD = load.argv;

/** Builds probes/faultline.bpf.c with `define` into build/, as scripts/build_bpf.sh does. */
async function variant(define: string): Promise<string> {
  const out = `${root}build/faultline_${define.toLowerCase()}.bpf.o`;
  const r = await new Deno.Command("clang", {
    args: [
      "-O2",
      "-g",
      "-target",
      "bpf",
      "-D__TARGET_ARCH_x86",
      `-D${define}`,
      "-I/usr/include/x86_64-linux-gnu",
      "-c",
      `${root}probes/faultline.bpf.c`,
      "-o",
      out,
    ],
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error(`clang -D${define} failed`);
  return out;
}

async function untraced(): Promise<number> {
  const out = await new Deno.Command(WORKLOAD[0]!, { args: WORKLOAD.slice(1) }).output();
  return workloadMs(new TextDecoder().decode(out.stdout));
}

/** The workload's own time traced by `engine` into `aggregator`. */
async function traced(
  engine: RingbufEngine,
  aggregator: Aggregator,
  argv = WORKLOAD,
  whileTracing?: () => void,
): Promise<number> {
  const output = Deno.makeTempFileSync();
  const ticker = whileTracing ? setInterval(whileTracing, 250) : undefined;
  try {
    await trace({ command: argv, engine, aggregator, commandOutput: output });
  } finally {
    clearInterval(ticker);
  }
  const text = Deno.readTextFileSync(output);
  Deno.removeSync(output);
  return workloadMs(text);
}

const empty = await variant("FL_COST_EMPTY_FAULTS");
const noRecords = await variant("FL_COST_NO_FAULT_RECORDS");
const rows: [string, () => Promise<number>][] = [
  ["untraced", untraced],
  [
    "probes attached, fault programs return at once (the kernel's dispatch; syscall records read)",
    () => traced(new RingbufEngine({ object: empty }), new Aggregator()),
  ],
  [
    "fault programs do their work, write no record",
    () => traced(new RingbufEngine({ object: noRecords }), new Aggregator()),
  ],
  [
    "every fault to the ring, folded into the histograms",
    () => traced(new RingbufEngine(), new Aggregator()),
  ],
  [
    "the whole trace (histograms, process and mapping tables)",
    () => traced(new RingbufEngine(), new Aggregator(EVENT_KINDS, attributionTables())),
  ],
];
const { ratios } = await pairedRounds(rows.map(([, run]) => run), rounds);
console.log(
  `${load.name.replace(/ \(.*\)$/, "")}, median of ${rounds} paired rounds ` +
    `(each step adds to the one before it):\n`,
);
console.log("| step | vs untraced | added by this step |");
console.log("| --- | ---: | ---: |");
let before = 1;
for (const [i, [name]] of rows.entries()) {
  const r = median(ratios[i]!);
  console.log(`| ${name} | ${r.toFixed(3)}x | ${i === 0 ? "" : `${(r - before).toFixed(3)}x`} |`);
  before = r;
}

/** ns per run of each fault program, from bpftool while a trace with `ringSize` runs. */
async function programCosts(ringSize: number): Promise<Map<string, number>> {
  const costs = new Map<string, number>();
  const snapshot = () => {
    const out = new Deno.Command("bpftool", { args: ["prog", "show", "--json"] }).outputSync();
    if (!out.success) return;
    const progs = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      name?: string;
      run_time_ns?: number;
      run_cnt?: number;
    }[];
    for (const p of progs) {
      if (p.name?.startsWith("on_") && p.run_cnt) costs.set(p.name, p.run_time_ns! / p.run_cnt);
    }
  };
  const sysctl = "/proc/sys/kernel/bpf_stats_enabled";
  const was = Deno.readTextFileSync(sysctl).trim();
  Deno.writeTextFileSync(sysctl, "1");
  try {
    await traced(
      new RingbufEngine({ ringSize }),
      new Aggregator(EVENT_KINDS, attributionTables()),
      [WORKLOAD[0]!, "6000", "64"],
      snapshot,
    );
  } finally {
    Deno.writeTextFileSync(sysctl, was);
  }
  return costs;
}

load.cleanup();
if (values.mixed) Deno.exit(0);

const SMALL_RING = 4 * 1024 * 1024;
const big = await programCosts(DEFAULT_RING_SIZE);
const small = await programCosts(SMALL_RING);
console.log(
  `\nEach fault program's own time per run (kernel.bpf_stats_enabled, which adds its own clock ` +
    `reads), mmap_touch 6000 64:\n`,
);
console.log(
  `| program | ${DEFAULT_RING_SIZE >> 20} MiB ring (default) | ${SMALL_RING >> 20} MiB ring |`,
);
console.log("| --- | ---: | ---: |");
for (const name of ["on_page_fault_user", "on_minor_fault", "on_sys_enter", "on_sys_exit"]) {
  // bpftool shows at most 15 characters of a name.
  const key = [...big.keys()].find((k) => name.startsWith(k));
  const cost = (m: Map<string, number>) => key && m.has(key) ? `${m.get(key)!.toFixed(0)} ns` : "-";
  console.log(`| ${name} | ${cost(big)} | ${cost(small)} |`);
}
