/**
 * trace.ts re-executes itself with its V8 flags: in the same process, once, and never over V8
 * flags the user set.
 */
import assert from "node:assert/strict";
import { CLI_V8_FLAGS } from "../src/cli/reexec_with_v8_flags.ts";
import { probeTest, repoPath } from "./_capability.ts";

/**
 * Runs `deno run DENO_FLAGS trace.ts -q -- sh` with a command that prints its parent's (the
 * tracing process's) pid and command line; gives them with the pid Deno.Command started.
 */
async function tracerSeenByItsCommand(denoFlags: string[], env?: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...denoFlags,
      repoPath("trace.ts"),
      "-q",
      "--",
      "sh",
      "-c",
      'echo "$PPID"; tr "\\0" "\\n" < "/proc/$PPID/cmdline"',
    ],
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const out = await child.output();
  const [ppid, ...cmdline] = new TextDecoder().decode(out.stdout).trimEnd().split("\n");
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return { started: child.pid, tracer: Number(ppid), cmdline };
}

probeTest("trace.ts traces in the process it was started as, with its V8 flags", async () => {
  const { started, tracer, cmdline } = await tracerSeenByItsCommand(["-A"]);
  assert.equal(tracer, started, "execv keeps the pid: signals and waits reach the tracer");
  assert.equal(cmdline[1], "run");
  assert.equal(cmdline[2], `--v8-flags=${CLI_V8_FLAGS}`);
  assert.deepEqual(cmdline.slice(3, 5), ["-A", repoPath("trace.ts")]);
  assert.deepEqual(cmdline.slice(5, 9), ["-q", "--", "sh", "-c"], "the arguments as given");
  assert.equal(cmdline.filter((a) => a.startsWith("--v8-flags")).length, 1, "re-executed once");
});

probeTest("V8 flags the user gives trace.ts are kept, and none are added", async () => {
  const own = await tracerSeenByItsCommand(["--v8-flags=--stack-size=2000", "-A"]);
  assert.equal(own.tracer, own.started);
  assert.deepEqual(own.cmdline.filter((a) => a.startsWith("--v8-flags")), [
    "--v8-flags=--stack-size=2000",
  ]);
  const env = await tracerSeenByItsCommand(["-A"], { DENO_V8_FLAGS: "--stack-size=2000" });
  assert.equal(env.tracer, env.started);
  assert.equal(env.cmdline.filter((a) => a.startsWith("--v8-flags")).length, 0);
});

Deno.test("trace.ts run without permission to call C runs as it was started", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", repoPath("trace.ts"), "--version"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /^faultline \d/);
});
