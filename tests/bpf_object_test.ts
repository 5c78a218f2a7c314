/**
 * The committed BPF object against its source, and libbpf's loader against the kernel.
 */
import assert from "node:assert/strict";
import { FaultlineError } from "../mod.ts";
import { BpfObjectSpec } from "../src/capture/ringbuf/bpf_object.ts";
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

probeTest("A load the verifier refuses fails with the verifier's reason", async () => {
  const out = Deno.makeTempFileSync({ suffix: ".bpf.o" });
  await build("tests/fixtures/rejected.bpf.c", out);
  const spec = BpfObjectSpec.open(out);
  assert.throws(() => spec.load(), (e: unknown) => {
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
