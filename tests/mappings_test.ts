/**
 * Faults by mapping, on the real kernel: a workload maps a file it created, closes it,
 * touches half of its pages, deletes it and touches the rest, then writes to private
 * anonymous memory; it counts its own faults (getrusage) around each loop. faultline puts
 * every one of the file's faults on that path, with the kernel's minor/major split, and the
 * anonymous ones on [anon]; the rows add up to the fault totals. Also with --pid attached
 * after the file was deleted (named from /proc), and under each engine.
 */
import assert from "node:assert/strict";
import { ENGINE_NAMES, makeEngine, type MappingReport, type Report, trace } from "../mod.ts";
import { probeTest, repoPath } from "./_capability.ts";

const PAGES = 64, ANON = 48;
const WORKLOAD = repoPath("build/map_file");

/** The workload's own counts, from its stdout lines. */
function ownCounts(stdout: string) {
  const read = (what: string) => {
    const m = new RegExp(
      `^map_file: ${what} 0x([0-9a-f]+) (\\d+) pages minor (\\d+) major (\\d+)$`,
      "m",
    )
      .exec(stdout);
    assert.ok(m, `the workload said its ${what} counts: ${stdout}`);
    return { start: `0x${m[1]}`, pages: Number(m[2]), minor: Number(m[3]), major: Number(m[4]) };
  };
  return { file: read("file"), anon: read("anon") };
}

function assertAddsUp(report: Report): void {
  const rows = report.mappings!;
  const faults = report.counts.minor_faults + report.counts.major_faults;
  assert.equal(rows.reduce((s, r) => s + r.faults, 0), faults, "rows add up to the faults");
  assert.equal(rows.reduce((s, r) => s + r.minor_faults, 0), report.counts.minor_faults);
  assert.equal(rows.reduce((s, r) => s + r.major_faults, 0), report.counts.major_faults);
  for (const r of rows) {
    assert.equal(r.minor_faults + r.major_faults, r.faults);
    // Every fault paired with its page fault knows its access and mode; only [unknown] may not.
    if (r.path !== "[unknown]" && r.path !== "(other)") {
      assert.equal(r.user + r.kernel, r.faults, r.path);
      assert.equal(r.read + r.write + r.exec, r.faults, r.path);
    }
  }
}

function fileRow(report: Report, path: string, pid: number): MappingReport {
  const rows = report.mappings!.filter((r) => r.path === path && r.pid === pid);
  assert.equal(
    rows.length,
    1,
    `one row for ${path}: ${JSON.stringify(report.mappings!.slice(0, 5))}`,
  );
  return rows[0]!;
}

for (const name of ENGINE_NAMES) {
  probeTest(
    `${name}: a closed, then deleted, file's faults all land on its path; anonymous writes on [anon]`,
    async () => {
      const dir = Deno.makeTempDirSync({ dir: "/var/tmp" });
      const path = `${dir}/data file.bin`;
      const out = Deno.makeTempFileSync();
      try {
        const report = await trace({
          command: [WORKLOAD, path, String(PAGES), String(ANON)],
          engine: makeEngine(name),
          commandOutput: out,
        });
        assert.equal(report.exit_status, 0);
        const own = ownCounts(Deno.readTextFileSync(out));
        const file = fileRow(report, path, report.target.pid);
        assert.equal(file.start, own.file.start);
        assert.equal(file.faults, PAGES, "one fault per page (MADV_RANDOM: no fault-around)");
        assert.equal(file.minor_faults, own.file.minor, "minor as the kernel counted them");
        assert.equal(file.major_faults, own.file.major, "major as the kernel counted them");
        assert.equal(file.write, PAGES);
        assert.equal(file.user, PAGES);
        assert.equal(file.perms, "rw-s");
        assert.equal(file.latency_ns.count, PAGES);
        const anon = report.mappings!.find((r) => r.start === own.anon.start)!;
        assert.ok(anon, "the anonymous mapping has a row");
        assert.equal(anon.path, "[anon]");
        assert.deepEqual([anon.faults, anon.minor_faults, anon.write], [
          ANON,
          own.anon.minor,
          ANON,
        ]);
        assert.ok(report.mappings!.some((r) => r.path.endsWith("/libc.so.6") && r.exec > 0));
        assert.ok(report.mappings!.some((r) => r.path === WORKLOAD), "the binary, mapped by exec");
        assert.ok(report.mappings!.some((r) => r.path === "[stack]"));
        assertAddsUp(report);
      } finally {
        Deno.removeSync(dir, { recursive: true });
        Deno.removeSync(out);
      }
    },
  );

  probeTest(
    `${name}: --pid after the file was deleted names it from /proc, marked deleted`,
    async () => {
      const dir = Deno.makeTempDirSync({ dir: "/var/tmp" });
      const path = `${dir}/gone.bin`;
      const child = new Deno.Command(WORKLOAD, {
        // It sleeps until the SIGUSR1 sent once the probes are attached (60 s at most).
        args: [path, String(PAGES), String(ANON), "60"],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        // Its stdout read from the start; its stderr until it says the file is gone, then to its
        // end (not with output(): a stream piped elsewhere stays locked until it closes, a race
        // with the child's exit).
        const stdout = new Response(child.stdout).text();
        const reader = child.stderr.getReader();
        const decoder = new TextDecoder();
        let said = "";
        while (!said.includes("map_file: deleted")) {
          const { value, done } = await reader.read();
          if (done) break;
          said += decoder.decode(value, { stream: true });
        }
        const rest = (async () => {
          while (!(await reader.read()).done);
        })();
        const report = await trace({
          pid: child.pid,
          engine: makeEngine(name),
          onAttached: () => child.kill("SIGUSR1"),
        });
        await Promise.all([child.status, rest]);
        const own = ownCounts(await stdout);
        const file = fileRow(report, path, child.pid);
        assert.equal(file.deleted, true);
        assert.equal(file.faults, PAGES / 2, "the half touched after faultline attached");
        assert.equal(file.major_faults, own.file.major);
        assert.equal(file.minor_faults, own.file.minor);
        assert.equal(file.start, own.file.start);
        assertAddsUp(report);
      } finally {
        Deno.removeSync(dir, { recursive: true });
      }
    },
  );
}

probeTest("trace.ts --by mapping prints the mappings and --mappings-csv writes them", async () => {
  const dir = Deno.makeTempDirSync({ dir: "/var/tmp" });
  const path = `${dir}/cli.bin`;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        repoPath("trace.ts"),
        "--no-live",
        "--by",
        "mapping",
        "--mappings-csv",
        `${dir}/m.csv`,
        "--json",
        `${dir}/r.json`,
        "--",
        WORKLOAD,
        path,
        String(PAGES),
        String(ANON),
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stderr, /^mappings, the most faults first:$/m);
    assert.match(
      stderr,
      // The workload unlinks the file while it runs: read after that, its name is marked.
      new RegExp(
        `^ +${PAGES} +\\d+ +\\d+ +0 +${PAGES} +0 .* map_file +${path}( \\(deleted\\))? 0x`,
        "m",
      ),
    );
    const csv = Deno.readTextFileSync(`${dir}/m.csv`).trim().split("\n");
    assert.equal(
      csv[0],
      "pid,command,path,deleted,start,end,offset,perms,mappings,faults,minor_faults,major_faults,read,write,exec,user,kernel,latency_p50_ns,latency_p90_ns,latency_p99_ns,latency_max_ns",
    );
    const report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`)) as Report;
    assert.equal(csv.length - 1, report.mappings!.length, "one CSV row per JSON row");
    const row = csv.find((l) => l.includes(path))!.split(",");
    assert.equal(row[2], path);
    assert.equal(row[9], String(PAGES));
    assert.equal(row[13], String(PAGES), "all writes");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/**
 * Traces `mixed_load FILE ...args` with the ringbuf engine (FILE a new file in a directory of
 * its own), checks it exited 0, and gives `check` the report and FILE.
 */
async function withMixedLoad(
  args: string[],
  check: (report: Report, path: string) => void,
): Promise<void> {
  const dir = Deno.makeTempDirSync({ dir: "/var/tmp" });
  const path = `${dir}/mixed.bin`;
  try {
    const output = `${dir}/out.txt`;
    const report = await trace({
      command: [repoPath("build/mixed_load"), path, ...args],
      engine: makeEngine("ringbuf"),
      commandOutput: output,
    });
    assert.equal(report.exit_status, 0, Deno.readTextFileSync(output));
    check(report, path);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

probeTest(
  "ringbuf: a program gone before faultline reads its mmaps has its file mappings named by the kernel",
  async () => {
    // mixed_load maps its file 2 x 5 times and exits at once: ~2 ms here, gone (with its
    // descriptors and /proc entries) before the reader reads its first mmap. Only the probes'
    // path record, read from the kernel's dentries at the mmap's exit, can name them.
    await withMixedLoad(["2", "5", "64"], (report, path) => {
      assert.equal(report.lost, 0, "a path record is no lost event");
      const rows = report.mappings!;
      const unnamed = rows.filter((r) => r.path.startsWith("[file fd"));
      assert.deepEqual(unnamed.map((r) => `${r.path} ${r.perms} ${r.start}`), []);
      const named = rows.filter((r) => r.path === path);
      assert.equal(named.length, 10, "every mapping of the file, by its path");
      for (const r of named) assert.ok(!r.deleted && r.perms === "r--s", JSON.stringify(r));
      // The C library, mapped by the dynamic loader's mmaps, by its real path.
      assert.ok(rows.some((r) => /\/libc\.so\.6$/.test(r.path)), rows.map((r) => r.path).join());
    });
  },
);

probeTest(
  "ringbuf: file mappings unmapped before faultline reads them are named by their path",
  async () => {
    // mixed_load maps its file 2 x 20 times, reads 1,024 pages (64 faults with fault-around)
    // and unmaps it at once, keeping the descriptor open: by the time a mapping's mmap is read,
    // /proc/PID/map_files no longer has it. The probes' path record names the file; without one
    // (a name the kernel could not give whole) the descriptor's inode and device, which
    // /proc/PID/fd/N still matches, would (src/session/proc_maps_test.ts). It keeps the
    // descriptor 500 ms after its work, which takes ~20 ms on a fast host.
    await withMixedLoad(["2", "20", "1024", "500"], (report, path) => {
      const rows = report.mappings!;
      const named = rows.filter((r) => r.path === path);
      // On a failure, the rows that could be the file's, to tell a misnamed mapping from one
      // whose faults went elsewhere.
      const others = rows.filter((r) => r.path !== path && (r.perms === "r--s" || r.faults >= 64))
        .map((r) => `${r.path} ${r.perms} ${r.start} faults ${r.faults} mappings ${r.mappings}`);
      assert.equal(
        named.length,
        40,
        `every mapping of the file, by its path; other rows: ${others.join("; ")}`,
      );
      for (const r of named) assert.ok(r.faults > 0 && r.perms === "r--s", JSON.stringify(r));
      assert.deepEqual(rows.filter((r) => r.path.startsWith("[file fd")), []);
    });
  },
);

probeTest(
  "ringbuf: a program gone before faultline reads /proc has its faults in its program, its loader and its stack named",
  async () => {
    // /usr/bin/true lives ~1 ms: its exec's mappings (the program, the dynamic loader, the
    // stack, the vdso) were made by the kernel, by no mmap, and /proc/PID/maps is gone before
    // the reader reads the exec. The probes write them at the exec, each file's path first.
    const program = Deno.realPathSync("/usr/bin/true");
    const report = await trace({ command: [program], engine: makeEngine("ringbuf") });
    assert.equal(report.exit_status, 0);
    assert.equal(report.lost, 0);
    assertAddsUp(report);
    const rows = report.mappings!.filter((r) => r.pid === report.target.pid);
    const show = rows.map((r) =>
      `${r.path} ${r.perms} ${r.start} faults ${r.faults} user ${r.user}`
    )
      .join("; ");
    // Only the kernel's own writes into the new address space during the exec, before its
    // event, may be [unknown]: every fault of the program itself is in a named mapping.
    for (const r of rows.filter((r) => r.path === "[unknown]")) assert.equal(r.user, 0, show);
    assert.ok(rows.some((r) => r.path === program && r.perms === "r-xp" && r.exec > 0), show);
    assert.ok(rows.some((r) => /\/ld-linux-x86-64\.so\.2$/.test(r.path) && r.faults > 0), show);
    assert.ok(rows.some((r) => r.path === "[stack]" && r.perms === "rw-p" && r.faults > 0), show);
    const stack = rows.find((r) => r.path === "[stack]")!;
    assert.equal(stack.offset, 0, "an anonymous mapping's offset, as /proc gives it");
  },
);
