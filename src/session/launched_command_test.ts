import assert from "node:assert/strict";
import { LaunchedCommand } from "./launched_command.ts";

Deno.test("LaunchedCommand: a launcher that exits instead of stopping rejects stopped, with its status", async () => {
  // The launcher's shell cannot open the output file, so it exits (2) before its stop.
  const launched = LaunchedCommand.spawn(["/bin/true"], { output: "/nonexistent-dir/out.log" });
  await assert.rejects(
    launched.stopped,
    /^FaultlineError: Cannot start command "\/bin\/true": its launcher exited \(2\)$/,
  );
  assert.equal(await launched.exited, 2);
});

Deno.test("LaunchedCommand: stopped before its exec, then run to its exit status", async () => {
  const launched = await LaunchedCommand.start(["/bin/sh", "-c", "exit 7"]);
  const stat = Deno.readTextFileSync(`/proc/${launched.pid}/stat`);
  assert.equal(stat.slice(stat.lastIndexOf(")") + 2)[0], "T", "stopped");
  launched.resume();
  assert.equal(await launched.exited, 7);
});
