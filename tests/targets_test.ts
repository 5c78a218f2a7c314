/**
 * More targets: --cgroup traces every process in a cgroup v2 directory (and, with the ringbuf
 * engine, below it), none outside; --all traces every process but faultline and its helpers.
 */
import assert from "node:assert/strict";
import { ENGINE_NAMES, makeEngine, trace } from "../mod.ts";
import { cgroup2Mounts } from "../src/session/cgroup_target.ts";
import { probeTest, repoPath } from "./_capability.ts";
import { straceCounts } from "./_kernel_counts.ts";

const TREE = [repoPath("build/fork_tree"), "3", "10"];

/** Runs `argv` to completion; the pids its fork_tree processes said on stderr. */
async function run(argv: string[]): Promise<number[]> {
  const out = await new Deno.Command(argv[0]!, { args: argv.slice(1), stderr: "piped" }).output();
  assert.ok(out.success, `${argv.join(" ")} ran`);
  return [...new TextDecoder().decode(out.stderr).matchAll(/fork_tree: pid (\d+)/g)]
    .map((m) => Number(m[1]));
}

/** A fresh cgroup v2 directory (with a child directory when asked), removed after `fn`. */
async function withCgroup(fn: (dir: string) => Promise<void>): Promise<void> {
  const mount = cgroup2Mounts()[0];
  assert.ok(mount, "a cgroup2 file system is mounted");
  const dir = `${mount.mountPoint}/faultline-test-${crypto.randomUUID().slice(0, 8)}`;
  Deno.mkdirSync(dir);
  try {
    await fn(dir);
  } finally {
    for (const sub of [...Deno.readDirSync(dir)].filter((e) => e.isDirectory)) {
      Deno.removeSync(`${dir}/${sub.name}`);
    }
    Deno.removeSync(dir);
  }
}

/** A shell that moves itself into cgroup `dir`, then execs `argv`. */
const inside = (dir: string, argv: string[]) => [
  "sh",
  "-c",
  `echo $$ > '${dir}/cgroup.procs' && exec ${argv.join(" ")}`,
];

for (const name of ENGINE_NAMES) {
  probeTest(
    `${name}: --cgroup counts a workload started inside a fresh cgroup, not one outside`,
    async () => {
      await withCgroup(async (dir) => {
        const stop = new AbortController();
        let pids: Promise<[number[], number[]]> = Promise.resolve([[], []]);
        const report = await trace({
          cgroup: dir,
          engine: makeEngine(name),
          signal: stop.signal,
          onAttached: () => {
            pids = Promise.all([run(inside(dir, TREE)), run(TREE)]);
            pids.finally(() => stop.abort());
          },
        });
        const [inPids, outPids] = await pids;
        assert.equal(inPids.length, 4);
        const rows = report.processes!;
        const traced = new Set(rows.map((r) => r.pid));
        for (const pid of inPids) assert.ok(traced.has(pid), `inside pid ${pid} traced`);
        for (const pid of outPids) assert.ok(!traced.has(pid), `outside pid ${pid} not traced`);
        const strace = await straceCounts(TREE, ["mmap", "munmap"], { follow: true });
        assert.equal(
          report.counts.mmap,
          strace.mmap,
          "the inside tree's mmaps, none of the outside's",
        );
        assert.equal(report.counts.munmap, strace.munmap);
        assert.ok(report.counts.minor_faults >= 4 * 3 * 10);
        assert.equal(report.target.cgroup, Deno.realPathSync(dir));
        assert.equal(report.stop_reason, "signal");
        assert.equal(report.lost, 0);
      });
    },
  );
}

probeTest(
  "ringbuf: --cgroup takes the cgroups below the one named; bpftrace says it cannot",
  async () => {
    await withCgroup(async (dir) => {
      Deno.mkdirSync(`${dir}/leaf`);
      const stop = new AbortController();
      let pids: Promise<number[]> = Promise.resolve([]);
      const report = await trace({
        cgroup: dir,
        engine: makeEngine("ringbuf"),
        signal: stop.signal,
        onAttached: () => {
          pids = run(inside(`${dir}/leaf`, TREE));
          pids.finally(() => stop.abort());
        },
      });
      const traced = new Set(report.processes!.map((r) => r.pid));
      const tree = await pids;
      assert.equal(tree.length, 4);
      for (const pid of tree) assert.ok(traced.has(pid), `pid ${pid} in ${dir}/leaf traced`);
      await assert.rejects(
        trace({ cgroup: dir, engine: makeEngine("bpftrace"), durationSeconds: 1 }),
        /Cannot trace cgroup .* with the bpftrace engine: it has cgroups below it.*--engine ringbuf/,
      );
    });
  },
);

for (const name of ENGINE_NAMES) {
  probeTest(`${name}: --all traces every process but faultline and its helpers`, async () => {
    const stop = new AbortController();
    let pids: Promise<number[]> = Promise.resolve([]);
    const report = await trace({
      all: true,
      engine: makeEngine(name),
      signal: stop.signal,
      onAttached: () => {
        pids = run(TREE);
        pids.finally(() => stop.abort());
      },
    });
    const tree = await pids;
    const rows = report.processes!;
    for (const pid of tree) {
      const row = rows.find((r) => r.pid === pid);
      assert.ok(row, `workload pid ${pid} traced`);
      assert.ok(row.counts.mmap! >= 3 && row.faults >= 30, JSON.stringify(row));
    }
    assert.ok(!rows.some((r) => r.pid === Deno.pid), "faultline itself is left out");
    // What faultline started itself (bpftrace, its barrier execs) is left out: only the
    // workload this test started has faultline as its parent.
    for (const r of rows.filter((r) => r.parent === Deno.pid)) {
      assert.ok(tree.includes(r.pid!), `${r.pid} (${r.command}) is faultline's own`);
    }
    assert.equal(report.target.all, true);
  });
}
