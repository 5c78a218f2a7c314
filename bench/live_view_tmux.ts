/**
 * Drawing never costs events: the live view in a real terminal (a tmux pane, 120x40), measured
 * two ways in one run.
 *
 * 1. The live ring at 5 M records/s offered (bench/ringbuf_live.ts --live-view) with the view
 *    redrawn every 100 ms beside the reader: lost must stay 0; the ms per frame is printed.
 * 2. The traced workload's own time (mmap_touch 2000 64), untraced, traced by faultline
 *    without the view, and traced with --live drawing every second: the median of ROUNDS,
 *    rounds alternating so drift hits each row alike.
 *
 *   deno run -A bench/live_view_tmux.ts [--rounds N]       (as root, with tmux and clang)
 *
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "5" } },
});
const rounds = Number(values.rounds);
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const deno = Deno.execPath();
const session = `faultline-bench-${crypto.randomUUID().slice(0, 8)}`;
const dir = Deno.makeTempDirSync();

function tmux(...args: string[]): void {
  const out = new Deno.Command("tmux", { args, stderr: "piped" }).outputSync();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** Runs `line` in the pane and waits for it to finish (up to 10 minutes). */
async function inPane(line: string): Promise<void> {
  const done = `${dir}/done-${crypto.randomUUID().slice(0, 8)}`;
  tmux("send-keys", "-t", session, "-l", `${line}; touch ${done}`);
  tmux("send-keys", "-t", session, "Enter");
  for (let i = 0; i < 6000; i++) {
    try {
      Deno.statSync(done);
      return;
    } catch { /* running */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${line} did not finish in 10 minutes`);
}

/** The workload's own ms, from the last line it printed into `file`. */
function workloadMs(file: string): number {
  const m = /, ([\d.]+) ms$/m.exec(Deno.readTextFileSync(file));
  if (!m) throw new Error(`no time in ${file}: ${Deno.readTextFileSync(file)}`);
  Deno.removeSync(file);
  return Number(m[1]);
}

tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "bash", "--norc");
try {
  const table = `${dir}/ring.md`;
  await inPane(
    `${deno} run -A ${root}bench/ringbuf_live.ts --rates 5e6 --live-view --out ${table}`,
  );
  console.log(Deno.readTextFileSync(table));

  const workload = `${root}build/mmap_touch 2000 64`;
  const trace = `${deno} run -A ${root}trace.ts`;
  const rows: [string, (out: string) => string][] = [
    ["untraced", (out) => `${workload} > ${out}`],
    ["faultline, no view (-q)", (out) => `${trace} -q --command-output ${out} -- ${workload}`],
    [
      "faultline --live (drawing every second into this 120x40 pane)",
      (out) => `${trace} -q --live --command-output ${out} -- ${workload}`,
    ],
  ];
  const times = rows.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, command]] of rows.entries()) {
      const out = `${dir}/out-${round}-${i}`;
      await inPane(command(out));
      times[i]!.push(workloadMs(out));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(times[0]!);
  console.log(`workload: mmap_touch 2000 64, median of ${rounds} alternating rounds\n`);
  console.log("| run | workload ms | vs untraced |");
  console.log("| --- | ---: | ---: |");
  for (const [i, [name]] of rows.entries()) {
    const ms = median(times[i]!);
    console.log(`| ${name} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)}x |`);
  }
} finally {
  tmux("kill-session", "-t", session);
  Deno.removeSync(dir, { recursive: true });
}
