import assert from "node:assert/strict";
import { exitStatusOf } from "../events/faultline_event.ts";
import { ChildProcess, isStopStatus } from "./child_process.ts";

/** A line of /proc/PID/status of a child that prints its own and then exits. */
async function childStatus(field: string): Promise<string> {
  const dir = Deno.makeTempDirSync();
  try {
    const child = ChildProcess.spawn("/bin/sh", [
      "sh",
      "-c",
      `grep '^${field}:' /proc/self/status > ${dir}/out; echo "$FAULTLINE_CHILD_TEST" >> ${dir}/out`,
    ]);
    assert.equal(await child.wait(), 0);
    return Deno.readTextFileSync(`${dir}/out`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("ChildProcess: a child starts as Deno.Command starts one: no signal blocked or ignored, the environment", async () => {
  Deno.env.set("FAULTLINE_CHILD_TEST", "passed on");
  try {
    // Deno ignores SIGPIPE itself (its SigIgn has bit 12): the child must not.
    const own = /^SigIgn:\s*([0-9a-f]+)$/m.exec(Deno.readTextFileSync("/proc/self/status"))![1]!;
    assert.equal((parseInt(own, 16) >> 12) & 1, 1, "Deno ignores SIGPIPE");
    // The same as a child of Deno.Command's (glibc's own signals 32 and 33 are ignored in both).
    const line = async (field: string) => {
      const out = await new Deno.Command("/bin/grep", { args: [`^${field}:`, "/proc/self/status"] })
        .output();
      return new TextDecoder().decode(out.stdout);
    };
    const ignored = await childStatus("SigIgn");
    assert.equal(ignored, `${await line("SigIgn")}passed on\n`);
    assert.equal((parseInt(ignored.split(/\s+/)[1]!, 16) >> 12) & 1, 0, "SIGPIPE is not ignored");
    assert.match(await childStatus("SigBlk"), /^SigBlk:\s*0+\n/);
  } finally {
    Deno.env.delete("FAULTLINE_CHILD_TEST");
  }
});

Deno.test("ChildProcess: exit codes, deaths by any signal (real-time ones too), stops", async () => {
  const run = async (script: string) => {
    const child = ChildProcess.spawn("/bin/bash", ["bash", "-c", script]);
    return exitStatusOf(await child.wait());
  };
  assert.equal(await run("exit 3"), 3);
  assert.equal(await run("kill -TERM $$"), 143);
  // Deno.Command throws "Invalid signal: 37" for this one.
  assert.equal(await run("kill -RTMIN+3 $$"), 128 + 37);
  assert.equal(await run("kill -RTMAX $$"), 128 + 64);

  const stopping = ChildProcess.spawn("/bin/sh", ["sh", "-c", 'kill -STOP "$$"; exit 5']);
  const stop = await stopping.wait({ stopped: true });
  assert.ok(isStopStatus(stop), `stopped: ${stop.toString(16)}`);
  assert.equal(stop >> 8, 19, "by SIGSTOP");
  stopping.kill("SIGCONT");
  assert.equal(exitStatusOf(await stopping.wait()), 5);
  // Reaped: a signal now goes nowhere (its pid may be another process's by now).
  stopping.kill("SIGKILL");
});

Deno.test("ChildProcess: a program that cannot be started is an error naming it", () => {
  assert.throws(
    () => ChildProcess.spawn("/nonexistent/x", ["x"]),
    /^FaultlineError: Cannot start \/nonexistent\/x: posix_spawn failed with errno 2$/,
  );
});

Deno.test("ChildProcess: the environment passes byte for byte, a variable that is not UTF-8 too", async () => {
  // Deno.env cannot hold such a variable: a shell sets it for a Deno that spawns the child.
  const module = new URL("./child_process.ts", import.meta.url).href;
  const script = `import { ChildProcess } from "${module}";
    const c = ChildProcess.spawn("/bin/sh", ["sh", "-c", "printenv FLBAD | od -An -tx1"]);
    Deno.exit((await c.wait()) >> 8);`;
  const out = await new Deno.Command("/bin/sh", {
    args: ["-c", `FLBAD=$(printf 'a\\377\\376') exec "$0" eval "$1"`, Deno.execPath(), script],
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "61 ff fe 0a");
});
