import assert from "node:assert/strict";
import type { FaultlineEvent } from "../events/faultline_event.ts";
import { ProcessTable } from "./process_table.ts";

const fault = (pid: number): FaultlineEvent => ({
  kind: "minor_fault",
  pid,
  tid: pid,
  timestampNs: 1,
  latencyNs: 10,
});
const exit = (pid: number, exitCode = 0): FaultlineEvent => ({
  kind: "process_exit",
  pid,
  tid: pid,
  timestampNs: 9,
  exitCode,
  command: "x",
});

Deno.test("ProcessTable names a process it did not see start from /proc, once", () => {
  const asked: number[] = [];
  const t = new ProcessTable({
    describe: (pid) => (asked.push(pid), { parent: 1, command: `p${pid}` }),
  });
  t.add(fault(5));
  t.add(fault(5));
  t.add(exit(5, 9)); // killed by SIGKILL
  const [row] = t.report();
  assert.deepEqual(asked, [5]);
  assert.deepEqual([row!.command, row!.parent, row!.faults, row!.exit_status], ["p5", 1, 2, 137]);
});

Deno.test("ProcessTable past its limit sums the exited processes that did least into other", () => {
  const t = new ProcessTable({ limit: 3 });
  for (let pid = 1; pid <= 6; pid++) {
    for (let i = 0; i < pid; i++) t.add(fault(pid));
    if (pid % 2 === 0) t.add(exit(pid));
  }
  assert.equal(t.size, 3);
  const rows = t.report();
  const other = rows.find((r) => r.pid === null)!;
  assert.equal(other.processes, 3);
  assert.equal(rows.reduce((s, r) => s + r.faults, 0), 21, "nothing lost to the limit");
  assert.equal(rows.reduce((s, r) => s + r.counts.process_exits!, 0), 3);
  // The top rows asked for, the rest in other.
  const top = t.report(1);
  assert.equal(top.length, 2);
  assert.equal(top.reduce((s, r) => s + r.faults, 0), 21);
});

Deno.test("ProcessTable starts a new row for a pid that a fork reuses", () => {
  const t = new ProcessTable();
  t.add(fault(7));
  t.add(exit(7));
  t.add({ kind: "process_fork", pid: 3, tid: 3, timestampNs: 10, child: 7, command: "sh" });
  t.add(fault(7));
  const seven = t.report().find((r) => r.pid === 7)!;
  assert.deepEqual([seven.parent, seven.command, seven.faults, seven.exit_status], [
    3,
    "sh",
    1,
    null,
  ]);
});
