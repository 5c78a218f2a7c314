/**
 * The default engine falls back to bpftrace, saying why, when the ringbuf engine cannot run:
 * with the real engines, failing at preflight (no object) and at load (the verifier refuses).
 */
import assert from "node:assert/strict";
import { BpftraceEngine, FallbackEngine, RingbufEngine, trace } from "../mod.ts";
import { probeTest, repoPath, toolchainTest } from "./_capability.ts";

const ARGV = [repoPath("build/mmap_touch"), "20", "2"];

probeTest(
  "Without its BPF object the default engine says why and traces with bpftrace",
  async () => {
    const told: string[] = [];
    const report = await trace({
      command: ARGV,
      engine: new FallbackEngine(
        new RingbufEngine({ object: "/nonexistent/faultline.bpf.o" }),
        new BpftraceEngine(),
        (reason, to) => told.push(`${reason} -> ${to}`),
      ),
    });
    assert.equal(report.engine, "bpftrace");
    assert.deepEqual(told, [
      "Cannot load probes: /nonexistent/faultline.bpf.o is missing; rebuild it with deno task build:bpf -> bpftrace",
    ]);
    assert.ok(report.counts.mmap >= 20);
  },
);

toolchainTest(
  "When the verifier refuses the object the default engine falls back at attach",
  async () => {
    const out = Deno.makeTempFileSync({ suffix: ".bpf.o" });
    const built = await new Deno.Command("bash", {
      args: [repoPath("scripts/build_bpf.sh")],
      env: { SRC: "tests/fixtures/rejected.bpf.c", OUT: out },
    }).output();
    assert.ok(built.success);
    const told: string[] = [];
    const report = await trace({
      command: ARGV,
      engine: new FallbackEngine(
        new RingbufEngine({ object: out }),
        new BpftraceEngine(),
        (reason) => told.push(reason),
      ),
    });
    Deno.removeSync(out);
    assert.equal(report.engine, "bpftrace");
    assert.equal(told.length, 1);
    assert.equal(
      told[0],
      `Cannot load BPF object ${out}: Permission denied (errno 13); the verifier said: ` +
        "R0 invalid mem access 'map_value_or_null' (at rejected.bpf.c:32)",
    );
  },
);
