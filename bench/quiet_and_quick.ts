/**
 * Issue 11's "fast in and out" and "quiet when nothing happens", measured side by side:
 *   1. `trace.ts -q -- /bin/true` as a whole against `perf trace -- /bin/true`, median of
 *      paired runs, and faultline's own pieces (module load, probes loaded and attached, the
 *      target's exit to the report) from the library.
 *   2. The CPU a trace of an idle process costs (`--pid` of a sleeping process: four windows of
 *      30 s, the first and the last told, the first holding V8's own settling), beside
 *      `perf trace -p` of the same process.
 *   3. A burst after a quiet spell: a process sleeps 5 s, then makes ~260,000 events at once;
 *      faultline, asleep by then, must lose none.
 *
 * Run: deno run -A bench/quiet_and_quick.ts [--runs N] [--idle-seconds S] [--idle-windows N]
 */
import { parseArgs } from "node:util";
import { takeReport, traceCli } from "./_trace_cli.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "7" },
    "idle-seconds": { type: "string", default: "30" },
    "idle-windows": { type: "string", default: "4" },
  },
});
const runs = Number(values.runs);
const idleSeconds = Number(values["idle-seconds"]);
const idleWindows = Math.max(1, Number(values["idle-windows"]));
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const deno = Deno.execPath();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function wall(argv: string[], env?: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "null",
    stderr: "null",
    env,
  }).output();
  if (!out.success) throw new Error(`${argv.join(" ")} exited ${out.code}`);
  return performance.now() - t0;
}

// 1. In and out.
const ours: number[] = [], perfs: number[] = [], ratios: number[] = [], empties: number[] = [];
// The same run with V8 flags set already, which trace.ts then does not re-execute itself to set
// (src/cli/reexec_with_v8_flags.ts): the difference is what the re-exec costs.
const unexeced: number[] = [];
// Deno's own start, for the why: an empty script, run the way trace.ts is.
const empty = Deno.makeTempFileSync({ suffix: ".ts" });
for (let i = 0; i < runs; i++) {
  const f = await wall([deno, "run", "-A", `${root}trace.ts`, "-q", "--", "/bin/true"]);
  const p = await wall(["perf", "trace", "-o", "/dev/null", "--", "/bin/true"]);
  ours.push(f);
  perfs.push(p);
  ratios.push(f / p);
  empties.push(await wall([deno, "run", "-A", empty]));
  unexeced.push(
    await wall([deno, "run", "-A", `${root}trace.ts`, "-q", "--", "/bin/true"], {
      DENO_V8_FLAGS: "--no-concurrent-recompilation",
    }),
  );
}
// Deno's first timer: Deno 2.9's setTimeout is Node's, and the first one loads Node's timers
// (and the compatibility layer under them), whoever calls it: what a trace no longer pays.
const firstTimer: number[] = [];
const timerScript = Deno.makeTempFileSync({ suffix: ".ts" });
Deno.writeTextFileSync(
  timerScript,
  "const t = performance.now(); await new Promise((r) => setTimeout(r, 0));\n" +
    "console.log(performance.now() - t);\n",
);
for (let i = 0; i < runs; i++) {
  const out = await new Deno.Command(deno, { args: ["run", "-A", timerScript] }).output();
  firstTimer.push(Number(new TextDecoder().decode(out.stdout)));
}
Deno.removeSync(timerScript);
Deno.removeSync(empty);
const pieces = { load: [] as number[], attach: [] as number[], exit: [] as number[] };
for (let i = 0; i < runs; i++) {
  const out = await new Deno.Command(deno, {
    args: ["run", "-A", `${root}bench/startup_pieces.ts`],
    stderr: "null",
  })
    .output();
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  pieces.load.push(r.load);
  pieces.attach.push(r.attach);
  pieces.exit.push(r.exit);
}
console.log(`## In and out (median of ${runs} paired runs)\n`);
console.log("| what | ms |");
console.log("| --- | ---: |");
console.log(`| trace.ts -q -- /bin/true, whole | ${median(ours).toFixed(0)} |`);
console.log(`| perf trace -- /bin/true, whole | ${median(perfs).toFixed(0)} |`);
console.log(`| ratio, faultline / perf trace (median of pairs) | ${median(ratios).toFixed(2)}x |`);
console.log(
  `| the same, its V8 flags set through DENO_V8_FLAGS (no re-exec) | ${
    median(unexeced).toFixed(0)
  } |`,
);
console.log(`| faultline: loading its modules | ${median(pieces.load).toFixed(0)} |`);
console.log(`| faultline: probes loaded and attached | ${median(pieces.attach).toFixed(0)} |`);
console.log(`| faultline: target's exit to the report | ${median(pieces.exit).toFixed(0)} |`);
console.log(`| deno run -A of an empty script, whole | ${median(empties).toFixed(0)} |`);
console.log(`| Deno's first setTimeout(0), in any script | ${median(firstTimer).toFixed(0)} |`);
if (median(ratios) > 1) {
  console.log(
    `\nfaultline is slower than perf trace here (${
      median(ratios).toFixed(2)
    }x): Deno's own start ` +
      `(an empty script: ${median(empties).toFixed(0)} ms whole), then loading faultline's ` +
      `modules, then loading and attaching the probes, each above, come before /bin/true runs; ` +
      "perf trace is one native program that opens its events and forks. Deno's first " +
      `setTimeout costs ${median(firstTimer).toFixed(0)} ms of its own (it loads Node's timers ` +
      "and the compatibility layer under them): a trace calls none (it sleeps and ticks on " +
      "epoll waits on Deno's thread pool, starts its command with posix_spawn, reads its flags " +
      "and writes its CSVs itself), so it pays neither that nor Node's compatibility layer.",
  );
}

// 2. Quiet. Each tracer runs in a cgroup of its own and its CPU is the cgroup's usage_usec
// (every thread it ever had, to the microsecond); where no cgroup v2 is mounted, utime + stime
// from /proc (10 ms ticks, living and dead threads).
const cgroupRoot = Deno.readTextFileSync("/proc/mounts").split("\n")
  .map((l) => l.split(" "))
  .find((f) => f[2] === "cgroup2")?.[1];
function cpuUs(pid: number, cgroup: string | null): number {
  if (cgroup !== null) {
    const stat = Deno.readTextFileSync(`${cgroup}/cpu.stat`);
    return Number(/^usage_usec (\d+)$/m.exec(stat)![1]);
  }
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000; // utime + stime, in 10 ms ticks
}
/**
 * The tracer's CPU, % of one, in each of `windows` windows of idleSeconds after 5 s. With
 * `pane`, it runs in a tmux pane of that size (the live view drawing), measured by its cgroup.
 */
async function idleCost(
  argv: (pid: number) => string[],
  windows: number,
  pane?: { columns: number; rows: number },
): Promise<number[]> {
  const cgroup = cgroupRoot === undefined ? null : `${cgroupRoot}/faultline-bench-${Deno.pid}`;
  if (pane !== undefined && cgroup === null) {
    // In a pane, the trace is tmux's child, not ours: only its cgroup can say its CPU.
    throw new Error("Cannot measure a trace in a tmux pane without cgroup2; mount cgroup2");
  }
  const target = new Deno.Command("sleep", { args: ["100000"] }).spawn();
  if (cgroup !== null) Deno.mkdirSync(cgroup);
  const [program, ...args] = cgroup === null
    ? argv(target.pid)
    : ["sh", "-c", `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, "sh", ...argv(target.pid)];
  const session = `faultline-idle-${Deno.pid}`;
  const t = pane === undefined
    ? new Deno.Command(program!, { args, stdout: "null", stderr: "null" }).spawn()
    : null;
  if (pane !== undefined) {
    const line = [program!, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    const made = new Deno.Command("tmux", {
      args: [
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        `${pane.columns}`,
        "-y",
        `${pane.rows}`,
        line,
      ],
    }).outputSync();
    if (!made.success) throw new Error("tmux new-session failed");
  }
  await sleep(5000);
  const out: number[] = [];
  // Without a pane, t is the tracer (read through /proc when there is no cgroup).
  const cpu = () => cpuUs(t?.pid ?? -1, cgroup);
  let before = cpu();
  for (let w = 0; w < windows; w++) {
    await sleep(idleSeconds * 1000);
    const after = cpu();
    out.push((after - before) / (idleSeconds * 1e6) * 100); // % of one CPU
    before = after;
  }
  if (t !== null) {
    t.kill("SIGINT");
    await t.status;
  } else {
    new Deno.Command("tmux", { args: ["send-keys", "-t", session, "q"] }).outputSync();
    for (let i = 0; i < 100; i++) {
      if (Deno.readTextFileSync(`${cgroup!}/cgroup.procs`).trim() === "") break;
      await sleep(100);
    }
    new Deno.Command("tmux", { args: ["kill-session", "-t", session], stderr: "null" })
      .outputSync();
  }
  target.kill("SIGKILL");
  await target.status;
  if (cgroup !== null) Deno.removeSync(cgroup);
  return out;
}
const idleOurs = await idleCost((pid) => [deno, ...traceCli("--pid", String(pid))], idleWindows);
// The live view is what `--pid` shows in a terminal: measured in a 120x40 tmux pane, where
// the CPU of the trace alone is its cgroup's (tmux's own is not in it).
const idleLive = cgroupRoot === undefined ? null : await idleCost(
  (pid) => [deno, "run", "-A", `${root}trace.ts`, "--pid", String(pid)],
  idleWindows,
  { columns: 120, rows: 40 },
);
// What any Deno program that wakes once a second pays here: the floor under the live view.
const wakeScript = `import { Timer } from "${root}src/common/timer.ts"; ` +
  "new Timer(() => {}, 1000, { repeat: true });";
const idleTimer = await idleCost(() => [deno, "eval", wakeScript], idleWindows);
const idleDeno = await idleCost(
  () => [deno, "eval", "await new Promise((r) => setTimeout(r, 1e9));"],
  idleWindows,
);
const idlePerf = await idleCost((pid) => [
  "perf",
  ...["trace", "-F", "all", "-e", "mmap,munmap", "-o", "/dev/null", "-p", String(pid)],
], 1);
console.log(
  `\n## Tracing an idle process (${idleWindows} windows of ${idleSeconds} s, from 5 s after start)\n`,
);
console.log(
  cgroupRoot === undefined
    ? "CPU from /proc/PID/stat (utime + stime, 10 ms ticks).\n"
    : "CPU from each tracer's own cgroup (cpu.stat usage_usec: every thread, to the µs).\n",
);
console.log("| tracer | CPU, % of one: first window | last window |");
console.log("| --- | ---: | ---: |");
console.log(
  `| faultline --pid | ${idleOurs[0]!.toFixed(2)} | ${idleOurs.at(-1)!.toFixed(2)} |`,
);
console.log(
  idleLive === null
    ? "| faultline --pid, live view in a 120x40 tmux pane | not measured (no cgroup2) | |"
    : `| faultline --pid, live view in a 120x40 tmux pane | ${idleLive[0]!.toFixed(2)} | ${
      idleLive.at(-1)!.toFixed(2)
    } |`,
);
console.log(`| perf trace -F all -e mmap,munmap -p | ${idlePerf[0]!.toFixed(2)} | |`);
const row = (what: string, cpu: number[]) =>
  console.log(`| ${what} | ${cpu[0]!.toFixed(2)} | ${cpu.at(-1)!.toFixed(2)} |`);
row("(a Deno process waking once a second, doing nothing)", idleTimer);
row("(a Deno process that never wakes)", idleDeno);
const worst = Math.max(idleOurs.at(-1)!, idleLive?.at(-1) ?? 0);
if (worst > idlePerf[0]!) {
  console.log(
    `\nfaultline costs more than perf trace on an idle process (${worst.toFixed(2)}% against ` +
      `${idlePerf[0]!.toFixed(2)}% in the last window): perf trace blocks in the kernel until ` +
      "an event comes. faultline's reader sleeps on epoll too, woken by the kernel at the first " +
      "record, and without the live view its interval clock stops while nothing comes; but it is " +
      "a Deno process (one that never wakes costs " +
      `${idleDeno.at(-1)!.toFixed(2)}% here), V8 collects and compiles in its first minutes (the ` +
      "first window), and the live view must wake once a second to redraw: a Deno process " +
      `doing only that costs ${idleTimer.at(-1)!.toFixed(2)}% here (last window).`,
  );
}

// 3. A burst after the quiet.
const json = Deno.makeTempFileSync({ suffix: ".json" });
const burst = new Deno.Command("sh", {
  args: ["-c", `sleep 5; exec ${root}build/mmap_touch 2000 64`],
  stdout: "null",
}).spawn();
const traced = await new Deno.Command(deno, {
  args: traceCli("--json", json, "--pid", String(burst.pid)),
  stderr: "null",
}).output();
await burst.status;
const { report, events } = takeReport(json);
console.log(`\n## A burst after 5 s of quiet (mmap_touch 2000 64)\n`);
console.log(`faultline (exit ${traced.code}): ${events} events counted, ${report.lost} lost`);
