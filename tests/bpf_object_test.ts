/**
 * The committed BPF object against its source, and its two loads (libbpf's loader program run
 * by the kernel, libbpf's own load) against the kernel.
 */
import assert from "node:assert/strict";
import { FaultlineError } from "../mod.ts";
import { type BpfObject, BpfObjectSpec, type LoadPath } from "../src/capture/ringbuf/bpf_object.ts";
import { openLibbpf } from "../src/capture/ringbuf/libbpf.ts";
import { mapInfo, RingbufReader } from "../src/capture/ringbuf/ringbuf_reader.ts";
import { FL_CONFIG } from "../src/capture/ringbuf/ringbuf_engine.ts";
import { probeTest, repoPath, toolchainTest } from "./_capability.ts";

async function build(source: string, out: string): Promise<void> {
  const r = await new Deno.Command("bash", {
    args: [repoPath("scripts/build_bpf.sh")],
    env: { OUT: out, SRC: source },
    stderr: "piped",
  }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
}

toolchainTest("probes/faultline.bpf.o is what its source builds to, byte for byte", async () => {
  const out = Deno.makeTempFileSync({ suffix: ".bpf.o" });
  await build("probes/faultline.bpf.c", out);
  const rebuilt = Deno.readFileSync(out);
  Deno.removeSync(out);
  const committed = Deno.readFileSync(repoPath("probes/faultline.bpf.o"));
  assert.ok(
    rebuilt.length === committed.length && rebuilt.every((b, i) => b === committed[i]),
    "probes/faultline.bpf.o is stale: run deno task build:bpf and commit it",
  );
});

for (const via of ["auto", "loader", "libbpf"] as LoadPath[]) {
  probeTest(`A load the verifier refuses fails with the verifier's reason (${via})`, async () => {
    const out = Deno.makeTempFileSync({ suffix: ".bpf.o" });
    await build("tests/fixtures/rejected.bpf.c", out);
    const spec = BpfObjectSpec.open(out);
    assert.throws(() => spec.load(via), (e: unknown) => {
      assert.ok(e instanceof FaultlineError);
      assert.equal(
        e.message,
        `Cannot load BPF object ${out}: Permission denied (errno 13); the verifier said: ` +
          "R0 invalid mem access 'map_value_or_null' (at rejected.bpf.c:32)",
      );
      return true;
    });
    spec.close();
    Deno.removeSync(out);
  });
}

/**
 * Each program's id and instructions as the kernel runs them (verified, rewritten), as hex,
 * with each map reference's map id zeroed (map value offsets kept).
 */
function programCode(fds: number[]): { id: number; code: string }[] {
  const lib = openLibbpf();
  return fds.map((fd) => {
    // struct bpf_prog_info: type, id, tag[8], jited_prog_len, xlated_prog_len,
    // jited_prog_insns, xlated_prog_insns, ...
    const info = new Uint8Array(232);
    const v = new DataView(info.buffer);
    assert.equal(lib.bpf.bpf_obj_get_info_by_fd(fd, info, new Uint32Array([info.length])), 0);
    const id = v.getUint32(4, true);
    const insns = new Uint8Array(v.getUint32(20, true));
    info.fill(0);
    v.setUint32(20, insns.length, true);
    v.setBigUint64(32, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(insns))), true);
    assert.equal(lib.bpf.bpf_obj_get_info_by_fd(fd, info, new Uint32Array([info.length])), 0);
    const iv = new DataView(insns.buffer);
    for (let at = 0; at < insns.length; at += 8) {
      // BPF_LD | BPF_IMM | BPF_DW with src_reg BPF_PSEUDO_MAP_FD (1) or _MAP_VALUE (2).
      const src = insns[at + 1]! >> 4;
      if (insns[at] === 0x18 && (src === 1 || src === 2)) iv.setInt32(at + 4, 0, true);
      if (insns[at] === 0x18) at += 8;
    }
    return { id, code: [...insns].map((b) => b.toString(16).padStart(2, "0")).join("") };
  });
}

function openFaultline(): BpfObjectSpec {
  const spec = BpfObjectSpec.open(repoPath("probes/faultline.bpf.o"));
  const config = new Uint8Array(FL_CONFIG.size);
  new DataView(config.buffer).setUint32(FL_CONFIG.target_tgid, 4242, true);
  spec.setInitialValue(".rodata", config);
  spec.setMaxEntries("events", 1 << 16);
  return spec;
}

const PROGRAMS = [
  "on_sys_enter",
  "on_sys_exit",
  "on_page_fault_user",
  "on_page_fault_kernel",
  "on_minor_fault",
  "on_major_fault",
  "on_process_fork",
  "on_process_exec",
  "on_process_exit",
];

probeTest("The kernel-run loader and libbpf's load make the same programs, byte for byte", () => {
  // The loader has the kernel apply the CO-RE relocations (task->files->fdt, f_inode, i_sb)
  // against its own BTF; libbpf applies them in user space against vmlinux BTF it parses. The
  // instructions compared are what the kernel runs, map ids aside.
  const loaded: BpfObject[] = [];
  try {
    for (const via of ["loader", "libbpf"] as LoadPath[]) loaded.push(openFaultline().load(via));
    const [byLoader, byLibbpf] = loaded.map((o) =>
      programCode(PROGRAMS.map((name) => o.programFd(name)))
    );
    assert.equal(new Set(byLoader!.map((p) => p.id)).size, PROGRAMS.length);
    assert.notDeepEqual(byLoader!.map((p) => p.id), byLibbpf!.map((p) => p.id));
    for (const [i, name] of PROGRAMS.entries()) {
      assert.ok(byLoader![i]!.code.length > 100, name);
      assert.equal(byLoader![i]!.code, byLibbpf![i]!.code, name);
    }
    for (const o of loaded) {
      assert.ok(o.mapFd("events") > 0 && o.mapFd(".rodata") > 0 && o.mapFd("traced") > 0);
    }
  } finally {
    for (const o of loaded) o.close();
  }
  return Promise.resolve();
});

/** The instructions the verifier went through to accept a program (bpf_prog_info.verified_insns). */
function verifiedInstructions(fd: number): number {
  const info = new Uint8Array(232);
  const lib = openLibbpf();
  assert.equal(lib.bpf.bpf_obj_get_info_by_fd(fd, info, new Uint32Array([info.length])), 0);
  return new DataView(info.buffer).getUint32(216, true);
}

probeTest("The verifier accepts each program in at most 20,000 instructions", () => {
  // Every start of faultline pays the verifier's walk of each program, in the kernel, at about
  // a microsecond per instruction here. The largest, on_sys_exit, takes ~1,600: its path walk
  // (48 steps of a file's dentries and mounts) is a bpf_loop callback checked once. Written as
  // a loop of its own, inlined, the verifier went through 538,315 instructions: every start
  // 0.5 s slower, seen only in the start-up benchmark. The count is the kernel's, not a time.
  const obj = openFaultline().load("libbpf");
  try {
    for (const name of PROGRAMS) {
      const n = verifiedInstructions(obj.programFd(name));
      assert.ok(n > 10 && n <= 20_000, `${name}: the verifier went through ${n} instructions`);
    }
  } finally {
    obj.close();
  }
  return Promise.resolve();
});

probeTest("A reopened spec carries every setting into either load", () => {
  // What the load falls back on where the kernel refuses the loader program.
  const lib = openLibbpf();
  const spec = openFaultline();
  spec.setMaxEntries("events", 1 << 17);
  spec.close();
  for (const via of ["loader", "libbpf"] as LoadPath[]) {
    const obj = spec.reopen().load(via);
    try {
      assert.equal(mapInfo(lib, obj.mapFd("events")).maxEntries, 1 << 17, via);
      const rodata = new Uint8Array(FL_CONFIG.size);
      assert.equal(
        lib.bpf.bpf_map_lookup_elem(obj.mapFd(".rodata"), new Uint32Array(1), rodata),
        0,
      );
      assert.equal(new DataView(rodata.buffer).getUint32(FL_CONFIG.target_tgid, true), 4242, via);
    } finally {
      obj.close();
    }
  }
  return Promise.resolve();
});

probeTest("Closing a loaded object closes every fd it opened", () => {
  const before = [...Deno.readDirSync("/proc/self/fd")].length;
  const obj = openFaultline().load();
  obj.attach("on_sys_enter");
  assert.ok([...Deno.readDirSync("/proc/self/fd")].length >= before + 8 + 9 + 1);
  obj.close();
  assert.equal([...Deno.readDirSync("/proc/self/fd")].length, before);
  return Promise.resolve();
});

toolchainTest("A tracepoint/ program attaches through its perf event, and detaches", async () => {
  // bench/ring_flood.bpf.c: each getppid() of the target process (this one) writes 64 records.
  const out = Deno.makeTempFileSync({ suffix: ".bpf.o" });
  await build("bench/ring_flood.bpf.c", out);
  const libc = Deno.dlopen("libc.so.6", { getppid: { parameters: [], result: "i32" } });
  const spec = BpfObjectSpec.open(out);
  const config = new Uint8Array(FL_CONFIG.size);
  new DataView(config.buffer).setUint32(FL_CONFIG.target_tgid, Deno.pid, true);
  spec.setInitialValue(".rodata", config);
  const obj = spec.load();
  const reader = new RingbufReader(openLibbpf(), obj.mapFd("events"));
  try {
    let records = 0;
    const count = () => records++;
    for (let i = 0; i < 10; i++) libc.symbols.getppid();
    assert.equal(reader.read(count), 0, "nothing runs before attach");
    obj.attach("flood");
    for (let i = 0; i < 10; i++) libc.symbols.getppid();
    assert.equal(reader.read(count), 640);
    assert.equal(obj.sumPerCpu("dropped"), 0);
    // Far more records than the reader hands out per batch (1024), in one read: every one, in
    // the order written (each getppid writes latencies 1000..1063), and their space given back
    // to the kernel: three rounds of two thirds of the ring each lose nothing.
    const perRound = Math.floor((2 / 3) * (reader.size / (80 + 8)) / 64);
    for (let round = 0; round < 3; round++) {
      const latencies: number[] = [];
      const keep = (view: DataView, at: number) =>
        void latencies.push(Number(view.getBigUint64(at + 48 + 24, true)));
      for (let i = 0; i < perRound; i++) libc.symbols.getppid();
      assert.equal(reader.read(keep), perRound * 64, `round ${round}`);
      assert.ok(
        latencies.every((l, i) => l === 1000 + (i % 64)),
        `round ${round}: records out of order`,
      );
      assert.equal(obj.sumPerCpu("dropped"), 0, `round ${round}`);
    }
    obj.detach();
    for (let i = 0; i < 10; i++) libc.symbols.getppid();
    assert.equal(reader.read(count), 0, "nothing runs after detach");
  } finally {
    reader.close();
    obj.close();
    libc.close();
    Deno.removeSync(out);
  }
});

toolchainTest(
  "The reader hands out only whole records while the kernel writes at full speed",
  async () => {
    // bench/ring_flood.bpf.c under bench/ring_flood: 64 records per getppid(), each a fault and
    // its completion whose fields all follow from one number i (0..63): latency 1000 + i, the
    // fault 1000 + i ns before its completion at address 0x7f0000000000 + i pages. Read while
    // they are written, on another CPU: a record read before the kernel finished it, or left
    // from the ring's last lap, breaks that, or the order of the completions' times.
    const dir = Deno.makeTempDirSync();
    const object = `${dir}/flood.bpf.o`;
    await build("bench/ring_flood.bpf.c", object);
    const cc = await new Deno.Command("clang", {
      args: ["-O2", "-o", `${dir}/ring_flood`, repoPath("bench/ring_flood.c")],
      stderr: "piped",
    }).output();
    assert.ok(cc.success, new TextDecoder().decode(cc.stderr));
    const flood = new Deno.Command(`${dir}/ring_flood`, {
      args: ["100000", "1"], // 6.4 M records/s offered for 1 s: more than the ring holds
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const spec = BpfObjectSpec.open(object);
    const config = new Uint8Array(FL_CONFIG.size);
    new DataView(config.buffer).setUint32(FL_CONFIG.target_tgid, flood.pid, true);
    spec.setInitialValue(".rodata", config);
    spec.setMaxEntries("events", 1 << 20); // 1 MiB: it laps many times
    const obj = spec.load();
    const reader = new RingbufReader(openLibbpf(), obj.mapFd("events"));
    try {
      obj.attach("flood");
      let records = 0;
      let bad = 0;
      let lastDone = 0;
      const check = (view: DataView, at: number, length: number) => {
        records++;
        const doneTs = Number(view.getBigUint64(at + 48, true));
        const i = Number(view.getBigUint64(at + 48 + 24, true)) - 1000;
        const whole = length === 80 && view.getUint32(at + 12, true) === 3 &&
          view.getUint32(at + 20, true) === 1 && view.getUint32(at + 48 + 12, true) === 5 &&
          i >= 0 && i < 64 &&
          Number(view.getBigUint64(at, true)) === doneTs - 1000 - i &&
          view.getBigUint64(at + 24, true) === 0x7f0000000000n + BigInt(i * 4096) &&
          doneTs >= lastDone;
        if (!whole && bad++ < 3) console.error(`record ${records}: i ${i}, done at ${doneTs}`);
        lastDone = doneTs;
      };
      const writer = flood.stdin.getWriter();
      await writer.write(new Uint8Array([1]));
      await writer.close();
      const exited = flood.output();
      let done = false;
      exited.then(() => done = true);
      while (!done) {
        reader.read(check);
        await new Promise((r) => setTimeout(r, 0));
      }
      reader.read(check);
      const calls = Number(/calls (\d+)/.exec(new TextDecoder().decode((await exited).stdout))![1]);
      obj.detach();
      const dropped = obj.sumPerCpu("dropped");
      assert.equal(bad, 0, `${bad} of ${records} records were not whole or came out of order`);
      assert.equal(records + dropped, calls * 64, `${records} read, ${dropped} dropped`);
      assert.ok(records > 1 << 20 >> 6, `only ${records} records read: the ring did not lap`);
    } finally {
      reader.close();
      obj.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

probeTest("BpfObjectSpec refuses a .rodata value of the wrong size before loading", () => {
  const spec = BpfObjectSpec.open(repoPath("probes/faultline.bpf.o"));
  try {
    assert.throws(
      () => spec.setInitialValue(".rodata", new Uint8Array(FL_CONFIG.size + 4)),
      new RegExp(`holds ${FL_CONFIG.size} bytes, not ${FL_CONFIG.size + 4}; rebuild the object`),
    );
    assert.throws(() => spec.setMaxEntries("nope", 1), /Cannot find map "nope"/);
  } finally {
    spec.close();
  }
  return Promise.resolve();
});

probeTest("A missing object file fails to open with errno and path", () => {
  assert.throws(
    () => BpfObjectSpec.open("/nonexistent/x.bpf.o"),
    /Cannot open BPF object \/nonexistent\/x\.bpf\.o: No such file or directory \(errno 2\); libbpf said: .*failed to open/,
  );
  return Promise.resolve();
});

probeTest("Under strace -f a trace still loads through the loader program", async () => {
  // strace stops faultline at every signal (the launcher's stop sends it SIGCHLD), and the
  // verifier gives up with EAGAIN when a signal comes while it works, on the loader program
  // itself or on the programs its run loads: the loader is loaded or run again, not left for
  // libbpf's own load (which parses vmlinux BTF, ~100 ms more). Whether the signal comes
  // mid-verification is timing: four traces, each must keep to the loader.
  const dir = Deno.makeTempDirSync();
  try {
    let raced = 0;
    for (let i = 0; i < 4; i++) {
      const out = await new Deno.Command("strace", {
        args: [
          ...["-f", "-e", "trace=openat,bpf", "-o", `${dir}/strace.txt`],
          ...[Deno.execPath(), "run", "-A", repoPath("trace.ts"), "-q", "--json", `${dir}/r.json`],
          ...["--", "/bin/true"],
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const calls = Deno.readTextFileSync(`${dir}/strace.txt`);
      const lines = calls.split("\n");
      const loads = lines.filter((l) => l.includes('prog_name="__loader.prog"')).length;
      const runs = lines.filter((l) => l.includes("bpf(BPF_PROG_TEST_RUN")).length;
      assert.ok(runs >= 1, `the loader program ran (loaded ${loads} times, run ${runs})`);
      if (runs > 1 || loads > 1) raced++;
      assert.ok(!calls.includes("/sys/kernel/btf/vmlinux"), "libbpf's own load was not needed");
      const report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
      assert.equal(report.engine, "ringbuf");
      assert.equal(report.exit_status, 0);
      assert.ok(report.counts.process_execs >= 1, "the command was traced");
    }
    console.log(`a signal came mid-verification in ${raced} of 4 traces under strace`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
