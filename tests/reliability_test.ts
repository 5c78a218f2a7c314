/**
 * faultline used the way a hostile but realistic user would: full disks, closed stdout,
 * existing files, odd pids and flags, signals at every moment. Each test fails if the defect
 * it pins comes back.
 */
import assert from "node:assert/strict";
import type { Report } from "../mod.ts";
import { isAlive } from "../src/common/process_state.ts";
import { findExecutable } from "../src/common/find_executable.ts";
import { probeTest, repoPath, runAsNobody } from "./_capability.ts";

const WORKLOAD = repoPath("build/mmap_touch");
const TRACE = repoPath("trace.ts");
const DENO = Deno.execPath();
const ENGINES = ["ringbuf", "bpftrace"] as const;
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs trace.ts through sh (for redirections), returns status and both streams. */
async function sh(script: string) {
  const out = await new Deno.Command("sh", {
    args: ["-c", script, "sh", DENO, TRACE],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** Runs trace.ts with `args`. */
async function fl(args: string[]) {
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", TRACE, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A steady workload (an mmap, PAGES first touches and a munmap, over and over). */
/** mmap_touch mapping for good, `pages` touched in each; with `rate`, at most that many a second. */
function steady(pages = 16, rate = 0): Deno.ChildProcess {
  return new Deno.Command(WORKLOAD, {
    args: [
      "1000000000",
      String(pages),
      ...(rate > 0 ? ["0x5a5000", "0", "1", "0", String(rate)] : []),
    ],
    stdin: "null",
    stdout: "null",
  }).spawn();
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* gone */ }
  await child.status;
}

/** Starts trace.ts and resolves once it says it is tracing. */
async function startTrace(args: string[]) {
  const child = new Deno.Command(DENO, {
    args: ["run", "-A", TRACE, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  while (!/tracing pid (\d+)/.test(stderr)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`trace.ts ended before tracing: ${stderr}`);
    stderr += value;
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return stderr;
      stderr += value;
    }
  })();
  const target = Number(/tracing pid (\d+)/.exec(stderr)![1]);
  return { child, target, stderr: rest };
}

for (const engine of ENGINES) {
  probeTest(
    `${engine}: a full disk under the events CSV leaves every other report whole`,
    async () => {
      const dir = Deno.makeTempDirSync();
      const r = await fl([
        "-e",
        engine,
        "--json",
        `${dir}/r.json`,
        "--csv",
        `${dir}/r.csv`,
        "--events-csv",
        "/dev/full",
        "--",
        WORKLOAD,
        "2000",
        "16",
      ]);
      assert.equal(r.code, 1, "an output failed: exit 1");
      const said = r.stderr.split("\n").filter((l) => l.includes("/dev/full"));
      assert.deepEqual(said.length, 1, `said once: ${r.stderr}`);
      assert.match(
        said[0]!,
        /^faultline: Cannot write the events CSV to \/dev\/full: No space left on device.*tracing goes on$/,
      );
      assert.doesNotMatch(r.stderr, /unexpected error| {4}at /);
      const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
      assert.equal(report.stop_reason, "target_exited", "the command ran to its end");
      assert.equal(report.exit_status, 0);
      assert.ok(report.counts.mmap >= 2000);
      assert.match(Deno.readTextFileSync(`${dir}/r.csv`), /^histogram,low,high,count\n/);
      assert.match(r.stderr, /@fault_latency_ns: count \d+/, "the summary");
      assert.doesNotMatch(r.stderr, /wrote .*\/dev\/full/);
      Deno.removeSync(dir, { recursive: true });
    },
  );
}

probeTest(
  "A stdout that is full or whose reader has gone is said once; the reports are written",
  async () => {
    for (
      const [how, wrap] of [
        ["full", (cmd: string, _s: string) => `${cmd} >/dev/full`],
        [
          "a pipe nobody reads",
          (cmd: string, status: string) => `(${cmd}; echo $? > ${status}) | true`,
        ],
      ] as const
    ) {
      const dir = Deno.makeTempDirSync();
      const target = steady();
      const status = `${dir}/status`;
      const r = await sh(
        wrap(
          `"$1" run -A "$2" --pid ${target.pid} -d 0.5 --interval 0.1 --no-live --json ${dir}/r.json`,
          status,
        ),
      );
      await stop(target);
      const code = how === "full" ? r.code : Number(Deno.readTextFileSync(status));
      assert.equal(code, 1, `${how}: ${r.stderr}`);
      assert.equal(r.stderr.match(/Cannot write to stdout/g)?.length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /unexpected error/);
      const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
      assert.equal(report.stop_reason, "duration");
      Deno.removeSync(dir, { recursive: true });
    }
    // A closed stdout: Deno reopens it on /dev/null, so nothing fails and nothing is said.
    const dir = Deno.makeTempDirSync();
    const r = await sh(`"$1" run -A "$2" -q --json ${dir}/r.json -- /bin/true >&-`);
    assert.equal(r.code, 0, r.stderr);
    JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
    Deno.removeSync(dir, { recursive: true });
  },
);

probeTest("A run that fails or is killed leaves existing report files as they were", async () => {
  const dir = Deno.makeTempDirSync();
  const keep = `${dir}/keep.json`;
  const precious = () => Deno.writeTextFileSync(keep, "precious\n");
  const untouched = (why: string) => assert.equal(Deno.readTextFileSync(keep), "precious\n", why);
  precious();
  assert.equal((await fl(["--json", keep, "--pid", "999999999"])).code, 1);
  untouched("no such pid");
  assert.equal((await fl(["--json", keep, "--", "/nonexistent"])).code, 1);
  untouched("no such command");
  assert.equal((await fl(["--json", keep, "--events-csv", keep + "x", "--pid", "0"])).code, 2);
  untouched("a usage error");
  // Not root (the file and its directory writable by nobody, so the output check passes):
  // refused by the privilege check, before tracing.
  Deno.chmodSync(dir, 0o777);
  Deno.chmodSync(keep, 0o666);
  const nobody = await runAsNobody(["--json", keep, "--", "/bin/true"]);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /needs CAP_BPF and CAP_PERFMON \(or root\)/);
  untouched("not root");
  // SIGKILL in the middle of a trace: the report is only ever renamed into place whole.
  const target = steady();
  const t = await startTrace([
    "--json",
    keep,
    "--events-csv",
    `${dir}/e.csv`,
    "--pid",
    String(target.pid),
  ]);
  await sleep(500);
  t.child.kill("SIGKILL");
  await t.child.status;
  await stop(target);
  untouched("SIGKILL");
  assert.deepEqual(
    [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.includes("faultline-tmp")),
    [],
    "no temporary file is left behind by the runs that ended",
  );
  // SIGHUP (a closed terminal) ends the trace like SIGTERM: the report is written whole.
  const target2 = steady();
  const t2 = await startTrace(["--json", keep, "--pid", String(target2.pid)]);
  t2.child.kill("SIGHUP");
  assert.equal((await t2.child.status).code, 0);
  await stop(target2);
  const report: Report = JSON.parse(Deno.readTextFileSync(keep));
  assert.equal(report.stop_reason, "signal");
  Deno.removeSync(dir, { recursive: true });
});

probeTest(
  "A --duration longer than 2^31 ms traces until stopped; past a year it is refused",
  async () => {
    const target = steady();
    const dir = Deno.makeTempDirSync();
    const t = await startTrace([
      "-d",
      "2592000",
      "--json",
      `${dir}/r.json`,
      "--pid",
      String(target.pid),
    ]);
    await sleep(1500);
    assert.equal(isAlive(t.child.pid), true, "still tracing after 1.5 s");
    t.child.kill("SIGINT");
    assert.equal((await t.child.status).code, 0);
    await stop(target);
    const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
    assert.equal(report.stop_reason, "signal");
    assert.ok(report.duration_ns > 1.4e9);
    assert.doesNotMatch(await t.stderr, /TimeoutOverflowWarning/);
    const r = await fl(["-d", "99999999999", "--pid", "1"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^faultline: Cannot trace for "99999999999" seconds: .* up to \d+ \(a year\)\n$/,
    );
    Deno.removeSync(dir, { recursive: true });
  },
);

probeTest(
  "A thread id traces its whole process, saying so; a kernel thread is refused",
  async () => {
    const child = new Deno.Command(WORKLOAD, {
      args: ["100000000", "4", String(0x5a5000), "1", "3"],
      stdin: "piped",
      stdout: "null",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new Uint8Array([1]));
    await w.close();
    let tid = 0;
    for (let i = 0; i < 200 && tid === 0; i++) {
      tid = [...Deno.readDirSync(`/proc/${child.pid}/task`)].map((e) => Number(e.name))
        .find((t) => t !== child.pid) ?? 0;
      await sleep(10);
    }
    const dir = Deno.makeTempDirSync();
    const r = await fl(["-d", "0.5", "--json", `${dir}/r.json`, "--pid", String(tid)]);
    await stop(child);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^faultline: ${tid} is a thread of process ${child.pid} \\(mmap_touch\\); tracing the whole process$`,
        "m",
      ),
    );
    const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
    assert.equal(report.target.pid, child.pid);
    assert.ok(report.counts.mmap > 0, "its threads' mmaps were counted");
    const k = await fl(["--pid", "2"]);
    assert.equal(k.code, 1);
    assert.equal(
      k.stderr,
      "faultline: Cannot trace pid 2 (kthreadd): it is a kernel thread, which has no user address space to map or fault in; give the pid of a user process\n",
    );
    Deno.removeSync(dir, { recursive: true });
  },
);

Deno.test("Two outputs naming one file, even through a link, are a usage error", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.symlinkSync(`${dir}/x`, `${dir}/y`);
  for (
    const args of [["--json", `${dir}/x`, "--events-csv", `${dir}/x`], [
      "--json",
      `${dir}/x`,
      "--csv",
      `${dir}/y`,
    ]]
  ) {
    const r = await fl([...args, "-d", "0.1", "--pid", "1"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^faultline: Cannot write --json and --\S+ to the same file .*; give each its own\n$/,
    );
  }
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["y"], "nothing written");
  Deno.removeSync(dir, { recursive: true });
});

probeTest(
  "A report that cannot be written is one sentence naming it; the others are written",
  async () => {
    const dir = Deno.makeTempDirSync();
    const r = await fl(["--json", "/dev/full", "--csv", `${dir}/r.csv`, "--", "/bin/true"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^faultline: Cannot write the JSON report to \/dev\/full: No space left on device[^\n]*$/m,
    );
    assert.doesNotMatch(r.stderr, /unexpected| {4}at /);
    assert.match(Deno.readTextFileSync(`${dir}/r.csv`), /^histogram,low,high,count\n/);
    assert.match(r.stderr, new RegExp(`wrote ${dir}/r\\.csv`));
    Deno.removeSync(dir, { recursive: true });
  },
);

for (const engine of ENGINES) {
  for (const ending of ["--duration", "SIGINT"] as const) {
    probeTest(`${engine}: every kind is counted over the same window (${ending})`, async () => {
      // 500 maps a second (~66,000 events): below what bpftrace's text pipeline keeps up with on
      // a fast machine too, where mmap_touch unpaced makes ~600,000 and bpftrace loses some.
      const target = steady(64, 500);
      await sleep(300);
      const dir = Deno.makeTempDirSync();
      if (ending === "--duration") {
        const r = await fl([
          "-q",
          "-e",
          engine,
          "-d",
          "1",
          "--json",
          `${dir}/r.json`,
          "--pid",
          String(target.pid),
        ]);
        assert.equal(r.code, 0, r.stderr);
      } else {
        const t = await startTrace([
          "-e",
          engine,
          "--json",
          `${dir}/r.json`,
          "--pid",
          String(target.pid),
        ]);
        await sleep(1000);
        t.child.kill("SIGINT");
        assert.equal((await t.child.status).code, 0);
      }
      await stop(target);
      const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
      const c = report.counts;
      console.log(
        `mmap ${c.mmap}, munmap ${c.munmap}, faults/64 ${(c.minor_faults / 64).toFixed(2)}`,
      );
      assert.ok(c.mmap > 50, "a steady second of work");
      assert.ok(Math.abs(c.mmap - c.munmap) <= 1, `mmap ${c.mmap} vs munmap ${c.munmap}`);
      assert.ok(Math.abs(c.minor_faults / 64 - c.mmap) <= 2, `faults/64 vs mmap ${c.mmap}`);
      assert.equal(report.lost, 0);
      Deno.removeSync(dir, { recursive: true });
    });
  }
}

probeTest(
  "Nothing raw from outside reaches the terminal: arguments and paths are escaped",
  async () => {
    const r1 = await fl(["--", "/nonexistent/\x1b[2J\x1b]0;pwn\x07"]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /Cannot start command "\/nonexistent\/\\e\[2J\\e\]0;pwn\\x07"/);
    const r2 = await fl(["--", "sh", "-c", "true", "\x1b]2;title\x07\x1b[2J"]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /traced sh -c true \\e\]2;title\\x07\\e\[2J \(pid \d+\)/);
    const r3 = await fl(["--pid", "1", "--json", "/nonexistent/\x1b[2J"]);
    for (const r of [r1, r2, r3]) {
      assert.ok(!r.stderr.includes("\x1b") && !r.stderr.includes("\x07"), JSON.stringify(r.stderr));
    }
  },
);

Deno.test("Without -A, one sentence says which permissions and the command that works", async () => {
  const out = await new Deno.Command(DENO, {
    args: ["run", TRACE, "--pid", "1"],
    stdin: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.equal(
    decode(out.stderr),
    "faultline: Cannot run without Deno's permissions: it reads /proc, loads libbpf and runs bpftrace; run it as deno run -A trace.ts\n",
  );
});

Deno.test({
  name: "After setup, deno is on PATH, so the README's commands work as written",
  ignore: Deno.env.get("CI") !== "true",
  fn() {
    assert.ok(findExecutable("deno") !== null, "run bash setup.sh as root");
  },
});

probeTest(
  "A launched command never outlives faultline, even killed with SIGKILL at once",
  async () => {
    for (const when of ["while the launcher waits", "while tracing"] as const) {
      const marker = String(31000 + Math.floor(Math.random() * 999));
      const child = new Deno.Command(DENO, {
        args: ["run", "-A", TRACE, "-e", "bpftrace", "--", "sleep", marker],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const launched = async () => {
        for (let i = 0; i < 3000; i++) {
          const pids = pgrep(`sleep ${marker}`);
          if (pids.length > 0) return pids;
          await sleep(5);
        }
        throw new Error("the command never appeared");
      };
      const pids = await launched();
      if (when === "while tracing") {
        const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes("tracing pid")) text += (await reader.read()).value ?? "";
        reader.releaseLock();
      }
      child.kill("SIGKILL");
      await child.status;
      for (let i = 0; i < 300 && pids.some(isAlive); i++) await sleep(10);
      assert.deepEqual(pids.filter(isAlive), [], `${when}: the launcher and command are gone`);
    }
  },
);

function pgrep(pattern: string): number[] {
  const out = new Deno.Command("pgrep", { args: ["-f", pattern] }).outputSync();
  return decode(out.stdout).trim().split("\n").filter((l) => l !== "").map(Number);
}

probeTest(
  "A command that ignores SIGTERM: faultline says why it waits; a second Ctrl-C kills it",
  async () => {
    const child = new Deno.Command(DENO, {
      args: ["run", "-A", TRACE, "--", "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("tracing pid")) text += (await reader.read()).value ?? "";
    child.kill("SIGINT");
    const t0 = performance.now();
    while (!text.includes("waiting for the command")) text += (await reader.read()).value ?? "";
    assert.ok(performance.now() - t0 < 5000, "said within seconds");
    assert.match(
      text,
      /faultline: waiting for the command \(pid \d+\) to exit after SIGTERM; Ctrl-C again kills it/,
    );
    child.kill("SIGINT");
    reader.releaseLock();
    const status = await child.status;
    assert.equal(status.code, 137, "the command's status: killed");
  },
);

probeTest("Programs the kernel cannot exec are one sentence, exit 1", async () => {
  const dir = Deno.makeTempDirSync();
  const elf = `${dir}/foreign`;
  const bytes = Deno.readFileSync(WORKLOAD);
  bytes[18] = 40; // e_machine: ARM
  Deno.writeFileSync(elf, bytes, { mode: 0o755 });
  const script = `${dir}/script`;
  Deno.writeTextFileSync(script, "#!/nonexistent/interpreter\n", { mode: 0o755 });
  const cases: [string, RegExp][] = [
    [elf, /it is an ELF file for another machine \(e_machine 40; Exec format error\)$/],
    [script, /its interpreter \/nonexistent\/interpreter \(from its #! line\) is missing/],
  ];
  for (const [program, reason] of cases) {
    const r = await fl(["--", program]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, reason);
  }
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("Odd flag values are usage errors that name them", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--pid", "-5"],
      /^faultline: Flag --pid needs a value, and "-5" looks like a flag; write --pid=-5 to give it as the value\n$/,
    ],
    [
      ["--pid", "1", "--pid", "2"],
      /^faultline: Flag --pid was given twice \("1" and "2"\); give it once\n$/,
    ],
    [["--pid", "1", "--duration", "0x10"], /^faultline: Cannot trace for "0x10" seconds/],
    [["--pid", "1", "--json", ""], /^faultline: Flag --json needs a value, not an empty string\n$/],
    [
      ["--pid", "99999999999999999999"],
      /^faultline: Cannot trace pid "99999999999999999999": a pid is a positive integer\n$/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await fl(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

probeTest("The events CSV reaches the disk at least once a second on a slow trace", async () => {
  const target = new Deno.Command("bash", {
    args: ["-c", "while :; do sleep 0.2; done"],
    stdin: "null",
  }).spawn();
  const dir = Deno.makeTempDirSync();
  const t = await startTrace(["--events-csv", `${dir}/e.csv`, "--pid", String(target.pid)]);
  await sleep(2500);
  const rows = Deno.readTextFileSync(`${dir}/e.csv`).trimEnd().split("\n").length - 1;
  t.child.kill("SIGINT");
  await t.child.status;
  await stop(target);
  assert.ok(rows > 0, `${rows} rows on disk while tracing`);
  Deno.removeSync(dir, { recursive: true });
});

probeTest(
  "Soak: a minute of a steady workload with --events-csv keeps faultline's memory flat",
  async () => {
    const target = steady(4);
    const dir = Deno.makeTempDirSync();
    const t = await startTrace(
      ["-q", "--events-csv", `${dir}/e.csv`, "--pid", String(target.pid), "-d", "65"].filter((a) =>
        a !== "-q"
      ),
    );
    const samples: [number, number][] = [];
    const t0 = performance.now();
    while (isAlive(t.child.pid) && performance.now() - t0 < 64_000) {
      const status = Deno.readTextFileSync(`/proc/${t.child.pid}/status`);
      samples.push([
        Math.round((performance.now() - t0) / 1000),
        Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024,
      ]);
      await sleep(2000);
    }
    assert.equal((await t.child.status).code, 0);
    await stop(target);
    const rows = Deno.statSync(`${dir}/e.csv`).size;
    Deno.removeSync(dir, { recursive: true });
    console.log(
      `RSS (MB) by second: ${samples.map(([s, mb]) => `${s}s ${mb.toFixed(0)}`).join(", ")}`,
    );
    console.log(`events CSV: ${(rows / 2 ** 20).toFixed(0)} MiB`);
    // After warming up (V8 grows its heap to a steady size in the first seconds), flat.
    const settled = samples.filter(([s]) => s >= 20).map(([, mb]) => mb);
    assert.ok(settled.length >= 15, `${settled.length} samples after 20 s`);
    const spread = Math.max(...settled) - Math.min(...settled);
    assert.ok(spread <= 40, `RSS within 40 MB after warm-up: spread ${spread.toFixed(1)} MB`);
    const third = Math.floor(settled.length / 3);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const growth = mean(settled.slice(-third)) - mean(settled.slice(0, third));
    assert.ok(growth <= 16, `no upward trend: last third ${growth.toFixed(1)} MB above the first`);
  },
);
