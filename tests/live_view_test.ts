/**
 * The live view in a real terminal: tmux runs trace.ts in a pane, capture-pane reads the
 * screen, send-keys types, resize-window resizes; stty -a in the pane before and after shows
 * the terminal given back exactly. Plain --interval snapshots when stdout is not a terminal.
 */
import assert from "node:assert/strict";
import { findExecutable } from "../src/common/find_executable.ts";
import type { Report } from "../mod.ts";
import { probeTest, repoPath } from "./_capability.ts";

const WORKLOAD = repoPath("build/mmap_touch");
const TRACE = repoPath("trace.ts");
const DENO = Deno.execPath();

function tmux(...args: string[]): string {
  const out = new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tmux session running bash in a pane of `columns` x `rows`, killed by dispose(). */
class Pane {
  readonly name = `faultline-test-${crypto.randomUUID().slice(0, 8)}`;
  readonly dir = Deno.makeTempDirSync();

  constructor(columns: number, rows: number) {
    if (findExecutable("tmux") === null) throw new Error("tmux is not on PATH (run bash setup.sh)");
    tmux(
      "new-session",
      "-d",
      "-s",
      this.name,
      "-x",
      String(columns),
      "-y",
      String(rows),
      "env",
      "-i",
      `PATH=${Deno.env.get("PATH")}`,
      `HOME=${Deno.env.get("HOME")}`,
      `DENO_DIR=${Deno.env.get("DENO_DIR") ?? ""}`,
      "TERM=xterm-256color",
      "bash",
      "--norc",
    );
  }

  /** Types a line and Enter. */
  run(line: string): void {
    tmux("send-keys", "-t", this.name, "-l", line);
    tmux("send-keys", "-t", this.name, "Enter");
  }

  /** Sends keys (tmux key names: "c", "Space", "C-c"). */
  keys(...keys: string[]): void {
    tmux("send-keys", "-t", this.name, ...keys);
  }

  /** The screen's lines as text (with -e, with their escape sequences). */
  screen(escapes = false): string[] {
    return tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", this.name)
      .replace(/\n$/, "").split("\n");
  }

  /** Waits until the screen matches `pattern`; returns it. */
  async waitFor(pattern: RegExp, ms = 20_000): Promise<string[]> {
    const deadline = performance.now() + ms;
    for (;;) {
      const s = this.screen();
      if (pattern.test(s.join("\n"))) return s;
      if (performance.now() > deadline) {
        throw new Error(`the screen never showed ${pattern}:\n${s.join("\n")}`);
      }
      await sleep(100);
    }
  }

  /** Waits until file `name` in the pane's directory exists; returns its text. */
  async waitForFile(name: string, ms = 30_000): Promise<string> {
    const deadline = performance.now() + ms;
    for (;;) {
      try {
        const text = Deno.readTextFileSync(`${this.dir}/${name}`);
        if (text.endsWith("\n")) return text;
      } catch { /* not yet */ }
      if (performance.now() > deadline) {
        throw new Error(`${name} never came:\n${this.screen().join("\n")}`);
      }
      await sleep(100);
    }
  }

  dispose(): void {
    try {
      tmux("kill-session", "-t", this.name);
    } catch { /* gone */ }
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** A long-running workload, traced with --pid; killed by the caller. */
function workload(maps = 100_000_000): Deno.ChildProcess {
  return new Deno.Command(WORKLOAD, {
    args: [String(maps), "4"],
    stdin: "null",
    stdout: "null",
  }).spawn();
}

/** Kills a workload (if it still runs) and waits for it. */
async function end(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* it exited */ }
  await child.status;
}

/** "12.3k" -> 12300. */
function compact(text: string): number {
  const m = /^([\d.]+)([kMG]?)$/.exec(text);
  assert.ok(m, `a count: ${text}`);
  return Number(m[1]) * ({ "": 1, k: 1e3, M: 1e6, G: 1e9 }[m[2]!] ?? 1);
}

function faultCount(screen: string[]): number {
  const line = screen.find((l) => /^fault latency {2}n /.test(l));
  assert.ok(line, `the fault latency panel:\n${screen.join("\n")}`);
  return compact(/n ([\d.]+[kMG]?)/.exec(line)![1]!);
}

/** The command line that runs trace.ts in the pane, recording stty and the exit status. */
function traced(pane: Pane, args: string): string {
  const d = pane.dir;
  return `stty -a > ${d}/stty.before; ${DENO} run -A ${TRACE} ${args} --json ${d}/r.json; ` +
    `echo "EXIT=$?" > ${d}/exit; stty -a > ${d}/stty.after`;
}

probeTest(
  "The live view draws, updates, answers c, space and h, fits a resize and quits on q",
  async () => {
    const target = workload();
    const pane = new Pane(120, 40);
    try {
      pane.run(traced(pane, `--pid ${target.pid}`));
      await pane.waitFor(/^\[\d+.*\)\s*│[ ░▒▓█]*[░▒▓█]/m); // a heatmap row with a cell
      const first = await pane.waitFor(/fault latency {2}n \d/);
      assert.match(
        first[0]!,
        new RegExp(`^faultline │ pid ${target.pid} \\(mmap_touch\\) │ ringbuf │`),
      );
      assert.match(first.join("\n"), /^\[\d+K?, \d+K?\) +[\d.]+k? \|@+ *\|/m, "histogram rows");
      assert.match(first.join("\n"), /faults per interval: ░ /, "the heatmap's scale");
      assert.match(
        first.join("\n"),
        /^minor +[\d.]+[kM]? [ ▁▂▃▄▅▆▇█]+/m,
        "a rate with its sparkline",
      );
      assert.ok(first.every((l) => [...l].length <= 120));
      await sleep(2200);
      const later = pane.screen();
      assert.ok(faultCount(later) > faultCount(first), "the counts grew");

      assert.match(first[1]!, /^histograms: cumulative/);
      pane.keys("c");
      await pane.waitFor(/^histograms: last interval/m);
      pane.keys("c");
      await pane.waitFor(/^histograms: cumulative/m);

      pane.keys("Space");
      const frozen = await pane.waitFor(/FROZEN/);
      await sleep(1500);
      assert.deepEqual(pane.screen(), frozen, "a frozen display does not change");
      pane.keys("Space");
      await sleep(1300);
      assert.ok(!pane.screen().join("\n").includes("FROZEN"));
      assert.notDeepEqual(pane.screen(), frozen, "unfrozen, it moves on");

      pane.keys("h");
      await pane.waitFor(/q, Ctrl-C +stop tracing/);
      pane.keys("x");
      await pane.waitFor(/^fault latency {2}n/m);

      // p and m: the busiest processes, the mappings with the most faults; again, histograms.
      pane.keys("m");
      const maps = await pane.waitFor(/^mappings, the most faults first/m);
      assert.match(maps.join("\n"), /FAULTS +MINOR +MAJOR .* MAPPING/);
      assert.match(
        maps.join("\n"),
        new RegExp(`^ +\\d+ .* ${target.pid} mmap_touch +\\[anon\\] 0x`, "m"),
      );
      pane.keys("p");
      const procs = await pane.waitFor(/^processes, the most faults first/m);
      assert.match(procs.join("\n"), new RegExp(`^ +${target.pid} +\\d+ mmap_touch +\\d+`, "m"));
      pane.keys("p");
      await pane.waitFor(/^fault latency {2}n/m);

      tmux("resize-window", "-t", pane.name, "-x", "80", "-y", "24");
      await sleep(300);
      const small = await pane.waitFor(/^fault latency {2}n/m);
      assert.equal(small.length, 24);
      for (const l of small) assert.ok([...l].length <= 80, `fits 80 columns: ${l}`);
      assert.match(small.join("\n"), /fault latency heatmap/);
      tmux("resize-window", "-t", pane.name, "-x", "50", "-y", "12");
      await pane.waitFor(/needs a terminal of at least\s+64x20; this one is 50x12/);
      tmux("resize-window", "-t", pane.name, "-x", "120", "-y", "40");
      await pane.waitFor(/^fault latency {2}n/m);

      pane.keys("q");
      assert.equal(await pane.waitForFile("exit"), "EXIT=0\n");
      const after = await pane.waitFor(/@fault_latency_ns: count \d+/);
      assert.ok(!after.join("\n").includes("│"), "back on the main screen, the summary printed");
      await pane.waitForFile("stty.after");
      assert.equal(
        Deno.readTextFileSync(`${pane.dir}/stty.after`),
        Deno.readTextFileSync(`${pane.dir}/stty.before`),
        "stty -a is as it was",
      );
      const report: Report = JSON.parse(Deno.readTextFileSync(`${pane.dir}/r.json`));
      assert.equal(report.stop_reason, "signal");
      assert.ok(report.counts.minor_faults > 0);
      assert.equal(
        report.intervals!.reduce((s, i) => s + i.counts.minor_faults, 0),
        report.counts.minor_faults,
        "the intervals add up to the totals",
      );
    } finally {
      await end(target);
      pane.dispose();
    }
  },
);

Deno.test("A terminal shows each frame exactly when only changed lines are redrawn", async () => {
  // A real terminal (tmux) given random frames as the live view writes them: whole, then
  // only the lines that changed. Its screen, text and styles, must be the last frame.
  const pane = new Pane(100, 30);
  try {
    for (const seed of [1, 2, 3]) {
      const out = `${pane.dir}/frame-${seed}.json`;
      pane.run(`${DENO} run -A ${repoPath("tests/fixtures/draw_frames.ts")} ${seed} 60 ${out}`);
      const { frame, columns, rows } = JSON.parse(await pane.waitForFile(`frame-${seed}.json`));
      assert.deepEqual([columns, rows], [100, 30]);
      await sleep(200);
      const plain = pane.screen();
      const styles = lineStyles(pane.screen(true));
      const lines = frame as { text: string; style?: string }[];
      for (let i = 0; i < rows; i++) {
        assert.equal(plain[i] ?? "", (lines[i]?.text ?? "").trimEnd(), `seed ${seed}, line ${i}`);
        const style = lines[i]?.style;
        assert.equal(
          styles[i] ?? "",
          style === undefined || lines[i]!.text.trim() === "" ? "" : sgrSet(style),
          `seed ${seed}, line ${i}'s style`,
        );
      }
      pane.keys("C-c");
      await sleep(300);
    }
  } finally {
    pane.dispose();
  }
});

/** An SGR parameter list as a set of what it turns on ("1;31" and "31;1" alike). */
function sgrSet(params: string): string {
  return [...new Set(params.split(";").filter((p) => p !== "" && p !== "0"))].sort().join(";");
}

/**
 * The style each line of `capture-pane -e` output starts its text with (as {@link sgrSet}
 * writes it; "" for none). tmux writes a style once and keeps it across lines until it changes.
 */
function lineStyles(captured: string[]): string[] {
  const on = new Map<string, string>(); // "bold", "reverse", "fg": the parameter
  const apply = (params: string) => {
    for (const p of params.split(";")) {
      if (p === "" || p === "0") on.clear();
      else if (p === "1") on.set("bold", p);
      else if (p === "22") on.delete("bold");
      else if (p === "7") on.set("reverse", p);
      else if (p === "27") on.delete("reverse");
      else if (/^(3|9)[0-7]$/.test(p)) on.set("fg", p);
      else if (p === "39") on.delete("fg");
    }
  };
  return captured.map((line) => {
    let style: string | null = null;
    // deno-lint-ignore no-control-regex
    for (const m of line.matchAll(/\x1b\[([\d;]*)m|([^\x1b])/g)) {
      if (m[1] !== undefined) apply(m[1]);
      else if (style === null && m[2] !== " ") style = sgrSet([...on.values()].join(";"));
    }
    return style ?? "";
  });
}

/** The pid of the trace.ts running in `pane` (found by its unique report path). */
function tracePid(pane: Pane): number {
  const out = new Deno.Command("pgrep", { args: ["-f", `trace.ts .*${pane.dir}/r.json`] })
    .outputSync();
  const pids = new TextDecoder().decode(out.stdout).trim().split("\n").filter((p) => p !== "");
  assert.equal(pids.length, 1, `one trace.ts: ${pids}`);
  return Number(pids[0]);
}

const ENDINGS = {
  "Ctrl-C": { args: "", status: 0, stop: "signal" },
  "SIGTERM": { args: "", status: 0, stop: "signal" },
  "the target exiting": { args: "", status: 0, stop: "target_exited" },
  "--duration": { args: "--duration 1.5", status: 0, stop: "duration" },
  "an error while tracing (bpftrace killed)": { args: "-e bpftrace", status: 1, stop: null },
  "q after a full disk under the events CSV": {
    args: "--events-csv /dev/full",
    status: 1,
    stop: "signal",
  },
} as const;

for (const [ending, how] of Object.entries(ENDINGS)) {
  probeTest(`The live view gives the terminal back after ${ending}`, async () => {
    // The target that exits runs ~2 s untraced here: long enough to be seen tracing whatever
    // faultline's start costs (40,000 maps, ~0.4 s, once ended before the first interval).
    const target = workload(ending === "the target exiting" ? 200_000 : 100_000_000);
    const pane = new Pane(100, 30);
    try {
      pane.run(traced(pane, `--pid ${target.pid} --interval 0.2 ${how.args}`));
      await pane.waitFor(/fault latency {2}n \d/);
      if (ending === "Ctrl-C") pane.keys("C-c");
      if (ending === "SIGTERM") Deno.kill(tracePid(pane), "SIGTERM");
      if (how.stop === null) {
        const bpftrace = new Deno.Command("pgrep", { args: ["-x", "bpftrace"] }).outputSync();
        for (const p of new TextDecoder().decode(bpftrace.stdout).trim().split("\n")) {
          Deno.kill(Number(p), "SIGKILL");
        }
      }
      if (ending.includes("full disk")) {
        // Said on the view's third line while tracing goes on; q then ends it.
        await pane.waitFor(/^Cannot write the events CSV to \/dev\/full: No space left/m);
        await sleep(600);
        assert.match(pane.screen()[0]!, /^faultline │/, "still tracing");
        pane.keys("q");
      }
      assert.equal(await pane.waitForFile("exit"), `EXIT=${how.status}\n`, ending);
      await pane.waitForFile("stty.after");
      assert.equal(
        Deno.readTextFileSync(`${pane.dir}/stty.after`),
        Deno.readTextFileSync(`${pane.dir}/stty.before`),
        `stty -a is as it was after ${ending}`,
      );
      const screen = pane.screen().join("\n");
      assert.ok(!screen.includes("│"), `the view is gone:\n${screen}`);
      if (how.stop === null) {
        assert.match(screen, /^faultline: Cannot trace pid \d+: bpftrace exited with status/m);
      } else {
        const report: Report = JSON.parse(Deno.readTextFileSync(`${pane.dir}/r.json`));
        assert.equal(report.stop_reason, how.stop);
        assert.match(screen, /@fault_latency_ns: count \d+/);
      }
    } finally {
      await end(target);
      pane.dispose();
    }
  });
}

probeTest("Ctrl-L draws the whole view again over what something else wrote", async () => {
  const target = new Deno.Command("sleep", { args: ["1000"] }).spawn();
  const pane = new Pane(120, 40);
  try {
    pane.run(traced(pane, `--pid ${target.pid}`));
    const before = await pane.waitFor(/fault latency {2}n 0/);
    // Another writer on the view's terminal, over its second line (which never changes).
    const tty = tmux("display-message", "-p", "-t", pane.name, "#{pane_tty}").trim();
    Deno.writeTextFileSync(tty, "\x1b[2;1HSOMETHING ELSE WROTE THIS");
    await pane.waitFor(/^SOMETHING ELSE WROTE THIS/m);
    await sleep(2200);
    assert.match(pane.screen()[1]!, /^SOMETHING ELSE/, "changed lines only: the line is left");
    assert.notEqual(pane.screen()[0], before[0], "while the header's clock moves on");
    pane.keys("C-l");
    const after = await pane.waitFor(/^histograms: cumulative/m);
    assert.equal(after[1], before[1], "the second line is the view's again");
    assert.ok(!after.join("\n").includes("SOMETHING ELSE"));
    pane.keys("q");
    assert.equal(await pane.waitForFile("exit"), "EXIT=0\n");
  } finally {
    await end(target);
    pane.dispose();
  }
});

probeTest("A target's name with escape sequences reaches the live view escaped", async () => {
  const dir = Deno.makeTempDirSync();
  // The kernel names a process after its executable (15 bytes): an OSC title and a clear.
  const hostile = `${dir}/\x1b]2;pwn\x07\x1b[2J`;
  Deno.copyFileSync(WORKLOAD, hostile);
  Deno.chmodSync(hostile, 0o755);
  const target = new Deno.Command(hostile, { args: ["100000000", "4"], stdout: "null" }).spawn();
  const pane = new Pane(120, 40);
  try {
    const title = tmux("display-message", "-p", "-t", pane.name, "#{pane_title}");
    pane.run(traced(pane, `--pid ${target.pid}`));
    const screen = await pane.waitFor(/fault latency {2}n \d/);
    assert.match(screen[0]!, /pid \d+ \(\\e\]2;pwn\\x07\\e\[2J\)/, "shown escaped");
    const raw = pane.screen(true).join("\n");
    assert.ok(!raw.includes("\x1b]2;"), "no OSC of the target's reached the screen");
    assert.ok(!raw.includes("\x07"), "no BEL either");
    assert.equal(
      tmux("display-message", "-p", "-t", pane.name, "#{pane_title}"),
      title,
      "the window title is untouched",
    );
    pane.keys("q");
    assert.equal(await pane.waitForFile("exit"), "EXIT=0\n");
  } finally {
    await end(target);
    pane.dispose();
    Deno.removeSync(dir, { recursive: true });
  }
});

probeTest("--live with a command sends its output to a file named in the header", async () => {
  const pane = new Pane(120, 40);
  const out = `${pane.dir}/cmd.log`;
  try {
    pane.run(
      traced(
        pane,
        `--live --command-output ${out} -- sh -c 'echo hello from the command; ${WORKLOAD} 60000 4'`,
      ),
    );
    const screen = await pane.waitFor(/fault latency {2}n \d/);
    assert.equal(screen[2], `command output: ${out}`);
    assert.ok(!screen.join("\n").includes("hello from the command"), "not on the view");
    assert.equal(await pane.waitForFile("exit"), "EXIT=0\n");
    await pane.waitFor(new RegExp(`the command's output is in ${out}`));
    assert.match(Deno.readTextFileSync(out), /^hello from the command\nmmap_touch: 60000 maps/);
    assert.equal(
      Deno.readTextFileSync(`${pane.dir}/stty.after`),
      Deno.readTextFileSync(`${pane.dir}/stty.before`),
    );
  } finally {
    pane.dispose();
  }
});

probeTest(
  "--interval without a terminal prints one snapshot per interval, adding up to the totals",
  async () => {
    const dir = Deno.makeTempDirSync();
    const out = await new Deno.Command(DENO, {
      args: [
        "run",
        "-A",
        TRACE,
        "--interval",
        "0.5",
        "--duration",
        "2.2",
        "--json",
        `${dir}/r.json`,
        "--intervals-csv",
        `${dir}/i.csv`,
        "--",
        WORKLOAD,
        "100000000",
        "4",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 143, stderr);
    const snapshots = stderr.split("\n").filter((l) => l.startsWith("faultline: interval "));
    // 0.5, 1.0, 1.5 and 2.0 s, then the last part, to 2.2 s.
    assert.equal(snapshots.length, 5, snapshots.join("\n"));
    assert.match(snapshots[0]!, /^faultline: interval 1 ending \S+Z \(\+0\.000s to \+0\.5\d\ds\)$/);
    const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
    const counted = [
      ...stderr.matchAll(/^ {2}mmap (\d+), munmap (\d+);.*minor (\d+), major (\d+)/gm),
    ];
    assert.equal(counted.length, 5);
    const sum = (k: number) => counted.reduce((s, m) => s + Number(m[k]), 0);
    assert.equal(sum(1), report.counts.mmap);
    assert.equal(sum(2), report.counts.munmap);
    assert.equal(sum(3), report.counts.minor_faults);
    assert.equal(sum(4), report.counts.major_faults);
    assert.match(stderr, /^@fault_latency_ns: count \d+/m, "each interval's histograms");
    assert.equal(report.intervals!.length, 5);
    for (const key of Object.keys(report.counts)) {
      assert.equal(
        report.intervals!.reduce((s, i) => s + i.counts[key]!, 0),
        report.counts[key],
        key,
      );
    }
    const csv = Deno.readTextFileSync(`${dir}/i.csv`).trimEnd().split("\n");
    assert.equal(csv.length, 6);
    const header = csv[0]!.split(",");
    const minor = header.indexOf("minor_faults");
    assert.equal(
      csv.slice(1).reduce((s, r) => s + Number(r.split(",")[minor]), 0),
      report.counts.minor_faults,
    );
    Deno.removeSync(dir, { recursive: true });
  },
);
