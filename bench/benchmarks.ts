/**
 * `deno task bench`'s page: runs every side-by-side benchmark in one go and writes
 * BENCHMARKS.md and its plots (bench/plots/*.svg) from their own results, no hand edits.
 *
 * Run: deno run -A bench/benchmarks.ts [--rounds N]   (as root, from the repository)
 *
 * 21 paired rounds by default: with 5, a row moved by up to 0.2x from one run to the next on a
 * 2-CPU VM.
 */
import { parseArgs } from "node:util";
import { barChart, lineChart } from "./svg_chart.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "21" } },
});
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const deno = Deno.execPath();

async function run(script: string, args: string[]): Promise<string> {
  const command = `deno run -A bench/${script} ${args.join(" ")}`.trim();
  console.error(`bench: ${command}`);
  const out = await new Deno.Command(deno, {
    args: ["run", "-A", `${root}bench/${script}`, ...args],
    cwd: root,
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`${command} failed (${out.code})`);
  // Each script's own headings sit one level below this page's.
  return new TextDecoder().decode(out.stdout).trim().replace(/^## /gm, "### ");
}

function text(cmd: string, args: string[]): string {
  try {
    return new TextDecoder().decode(new Deno.Command(cmd, { args }).outputSync().stdout).trim();
  } catch {
    return "?";
  }
}

const tmp = Deno.makeTempDirSync();
const overheadMd = await run("overhead.ts", ["--rounds", values.rounds, "--json", `${tmp}/o.json`]);
const mixedMd = await run("overhead.ts", [
  "--mixed",
  "--rounds",
  values.rounds,
  "--json",
  `${tmp}/m.json`,
]);
const costMd = await run("probe_cost.ts", []);
const costMixedMd = await run("probe_cost.ts", ["--mixed"]);
const liveMd = await run("ringbuf_live.ts", ["--json", `${tmp}/l.json`]);
const lossMd = await run("engine_loss.ts", ["--json", `${tmp}/e.json`]);
const quietMd = await run("quiet_and_quick.ts", []);
const memoryMd = await run("memory.ts", []);
const overhead = JSON.parse(Deno.readTextFileSync(`${tmp}/o.json`));
const mixed = JSON.parse(Deno.readTextFileSync(`${tmp}/m.json`));
const live = JSON.parse(Deno.readTextFileSync(`${tmp}/l.json`));
const loss = JSON.parse(Deno.readTextFileSync(`${tmp}/e.json`));
Deno.removeSync(tmp, { recursive: true });

Deno.mkdirSync(`${root}bench/plots`, { recursive: true });
type OverheadRun = {
  workloadName: string;
  rounds: number;
  rows: { name: string; ratio: number }[];
};
for (const [file, o] of [["overhead", overhead], ["overhead_mixed", mixed]] as const) {
  const run = o as OverheadRun;
  Deno.writeTextFileSync(
    `${root}bench/plots/${file}.svg`,
    barChart(
      `Workload time traced / untraced (${
        run.workloadName.replace(/ \(.*\)$/, "")
      }, median of ${run.rounds} paired rounds)`,
      run.rows.map((r) => ({
        label: r.name.replace(/ \(.*\)$/, ""),
        value: r.ratio,
        highlight: r.name.startsWith("faultline"),
      })),
      "x",
    ),
  );
}
type LossRow = { engine: string; rate: number; offered: number; lost: number };
Deno.writeTextFileSync(
  `${root}bench/plots/loss.svg`,
  lineChart(
    "Events lost against events offered per second",
    [
      {
        name: "ringbuf, ring_flood",
        color: "#d9480f",
        points: live.map((
          r: Record<string, number>,
        ) => [r.offeredRate!, 100 * r.lost! / r.offered!]),
      },
      ...["ringbuf", "bpftrace"].map((engine, i) => ({
        name: `${engine}, mmap_touch`,
        color: ["#f08c00", "#4c6ef5"][i]!,
        points: (loss as LossRow[]).filter((r) => r.engine === engine)
          .map((r) => [r.rate, 100 * r.lost / r.offered] as [number, number]),
      })),
    ],
    { x: "events offered per second (log)", y: "events lost, %", yMin: 10 },
  ),
);

/** What the page says of one overhead run: whom faultline's ringbuf engine loses to, and why. */
function verdict(run: OverheadRun): string {
  const ringbuf = run.rows.find((r) => r.name.startsWith("faultline --engine ringbuf ("))!;
  const beaten = run.rows.filter((r) =>
    !r.name.startsWith("faultline") && r.name !== "untraced" && r.ratio < ringbuf.ratio
  );
  return beaten.length
    ? `faultline's ringbuf engine (${ringbuf.ratio.toFixed(2)}x) loses to: ${
      beaten.map((r) => `${r.name} (${r.ratio.toFixed(2)}x)`).join("; ")
    }. Those deliver nothing per event (counts, or histograms kept in the kernel); faultline sends
every event to user space (one ring record per fault: the fault and its completion together).`
    : "faultline's ringbuf engine is the cheapest of the contenders that see every event.";
}

const page = `# faultline benchmarks

Made by \`deno task bench\` (bench/benchmarks.ts) from its own run; the plots are drawn from the
same results (bench/svg_chart.ts). Nothing here is edited by hand.

## The machine

- kernel: ${text("uname", ["-r"])}, ${text("nproc", [])} CPUs (${
  text("sh", ["-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"])
})
- memory: ${text("sh", ["-c", "grep MemTotal /proc/meminfo | tr -s ' '"])}
- deno ${Deno.version.deno}, ${text("bpftrace", ["--version"])}, ${
  text("sh", ["-c", "perf version"])
}
- when: ${new Date().toISOString()}

## Overhead, every contender in one run

\`deno run -A bench/overhead.ts --rounds ${values.rounds}\`

${overheadMd}

![overhead per tracer](bench/plots/overhead.svg)

${verdict(overhead)}

The two rows "V8 compiling on its own thread" are faultline as it ran before trace.ts set its own V8
flags (src/cli/reexec_with_v8_flags.ts): a short trace makes V8 optimize faultline's per-record
path, 70-90 ms of CPU for this workload, and V8's default does it on a compiler thread that then
competes with the traced program for the two CPUs. The CLI's \`--no-concurrent-recompilation\`
does it on the main thread, where it only delays the reader, which the ring buffers.

\`deno run -A bench/overhead.ts --mixed --rounds ${values.rounds}\`

${mixedMd}

![overhead per tracer, mixed workload](bench/plots/overhead_mixed.svg)

${verdict(mixed)}

### Where the time goes

\`deno run -A bench/probe_cost.ts\`

${costMd}

\`deno run -A bench/probe_cost.ts --mixed\`

${costMixedMd}

On the mixed workload every millisecond faultline's reader runs is the workload's: its four threads
keep both CPUs busy. Each wake-up of the reader costs too: draining the ring every 1 ms (the old
default) instead of every 20 ms added 0.05-0.08x there, most of what the first step above showed
before. The process and mapping tables cost most of the rest (one mapping row per small mapping,
thousands of them), and cost more than twice what they cost once V8 has compiled them: a trace is one run of
a fresh process. Naming file mappings takes no lock of the traced process when the mmap's descriptor
still holds the file (/proc/PID/fd/N, checked against the inode and device the probes read), reuses
a file's name for 200 ms (mixed_load maps one file 800 times: 11 looks, not 800), and reads
/proc/PID/map_files, which waits for the mmap lock, only otherwise.

## The reader, against libbpf's own consumer, and loss

\`deno run -A bench/ringbuf_live.ts\`

${liveMd}

\`deno run -A bench/engine_loss.ts\`

${lossMd}

![events lost against events offered](bench/plots/loss.svg)

libbpf's C consumer only reads each record's kind and timestamp; faultline's reader doing the same
is the "headers only" column, and folding every record into the histograms and the process and
mapping tables (two events per record here) is where the rest of its time goes.

## In and out, quiet, bursts

\`deno run -A bench/quiet_and_quick.ts\`

${quietMd}

## Memory

\`deno run -A bench/memory.ts\`

${memoryMd}
`;
Deno.writeTextFileSync(`${root}BENCHMARKS.md`, page);
// Laid out as every Markdown file of the repository is (deno fmt), so deno task check passes.
await new Deno.Command(deno, {
  args: ["fmt", "-q", `${root}BENCHMARKS.md`, `${root}bench/plots`],
  cwd: root,
}).output();
console.error("bench: wrote BENCHMARKS.md and bench/plots/*.svg");
