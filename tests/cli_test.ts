/**
 * The CLI as a user meets it: exit statuses and the one-sentence errors. These need no probes.
 */
import assert from "node:assert/strict";
import { repoPath, runAsNobody } from "./_capability.ts";

const TRACE = repoPath("trace.ts");

async function run(args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TRACE, ...args],
    env,
    stdin: "null",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("trace.ts exits 2 with one line naming an unknown flag", async () => {
  const r = await run(["--frobnicate", "--pid", "1"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "faultline: Unknown flag --frobnicate; run trace.ts --help for the flags\n",
  );
});

Deno.test("trace.ts exits 2 when the pid is not a number", async () => {
  const r = await run(["--pid", "12ab"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'faultline: Cannot trace pid "12ab": a pid is a positive integer\n');
});

Deno.test("trace.ts exits 1 when the pid does not exist", async () => {
  const r = await run(["--pid", "999999999"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "faultline: Cannot trace pid 999999999: no such process; check it with ps -p 999999999\n",
  );
});

Deno.test("trace.ts exits 1 when bpftrace is not on PATH, saying how to install it", async () => {
  const r = await run(["--engine", "bpftrace", "--", "/bin/true"], { PATH: "/nonexistent" });
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1);
  // Without root the privilege check speaks first; both name their fix.
  assert.match(
    lines[0]!,
    Deno.uid() === 0
      ? /^faultline: Cannot attach probes: bpftrace not found on PATH; install it with apt-get install bpftrace$/
      : /^faultline: Cannot attach probes: bpftrace needs root .*; run it as root/,
  );
});

Deno.test("trace.ts exits 1 when the command cannot be started", async (t) => {
  if (Deno.uid() !== 0) {
    // The privilege check comes first; without root that is what the user meets.
    const r = await run(["--", "/nonexistent/program"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /needs root/);
    return;
  }
  await t.step("a path that is not there", async () => {
    const r = await run(["--", "/nonexistent/program", "arg"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'faultline: Cannot start command "/nonexistent/program": no executable file at that path; ' +
        "check its spelling and that it is installed and executable\n",
    );
  });
  await t.step("a name that is not on PATH", async () => {
    const r = await run(["--", "no-such-program-faultline"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^faultline: Cannot start command "no-such-program-faultline": not found on PATH;/,
    );
  });
  await t.step("a file that is not executable", async () => {
    const r = await run(["--", repoPath("README.md")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no executable file at that path/);
  });
});

Deno.test("trace.ts exits 1 when a report file cannot be written, before tracing", async () => {
  const r = await run(["--json", "/nonexistent/dir/r.json", "--", "/bin/true"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^faultline: Cannot write the JSON report to \/nonexistent\/dir\/r\.json: .*; check the directory exists and is writable\n$/,
  );
});

Deno.test("trace.ts --help lists every flag", async () => {
  const r = await run(["--help"]);
  assert.equal(r.code, 0);
  for (
    const flag of [
      "--pid",
      "--duration",
      "--engine",
      "--ring-size",
      "--json",
      "--csv",
      "--events-csv",
      "--interval",
      "--intervals-csv",
      "--html",
      "--metrics",
      "--live",
      "--no-live",
      "--command-output",
      "--quiet",
      "-- CMD",
    ]
  ) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

Deno.test({
  name: "trace.ts exits 1 without root, in one sentence, with the default engine",
  ignore: Deno.uid() !== 0,
  async fn() {
    const r = await runAsNobody(["--", "/bin/true"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "faultline: Cannot load probes: the ringbuf engine needs CAP_BPF and CAP_PERFMON (or root) " +
        "and faultline runs as uid 65534 without them; run it as root (sudo)\n",
    );
  },
});

Deno.test({
  name: "trace.ts --engine bpftrace exits 1 without root, saying to run it as root",
  ignore: Deno.uid() !== 0, // Run as root, it drops to nobody; as a user, every run shows this.
  async fn() {
    const r = await runAsNobody(["--engine", "bpftrace", "--", "/bin/true"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "faultline: Cannot attach probes: bpftrace needs root and faultline runs as uid 65534; " +
        "run it as root (sudo)\n",
    );
  },
});

Deno.test("trace.ts exits 2 on a ring size that is not a power of two", async () => {
  const r = await run(["--ring-size", "1000000", "--pid", "1"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'faultline: Cannot use a ring of "1000000" bytes: --ring-size takes a power of two from 4096 to 1073741824\n',
  );
});
