/**
 * One run of a command traced by both engines at once, each into its own aggregation: how the
 * tests show the engines see the same events.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Aggregator, BpftraceEngine, type Report, RingbufEngine } from "../mod.ts";
import { LaunchedCommand } from "../src/session/launched_command.ts";

/** The aggregations of `argv` (run once, to exit 0) by the bpftrace and ringbuf engines. */
export async function traceWithBothEngines(
  argv: string[],
): Promise<{ bpftrace: Aggregator; ringbuf: Aggregator }> {
  const launched = await LaunchedCommand.start(argv);
  const engines = [new BpftraceEngine(), new RingbufEngine()];
  const aggs = engines.map(() => new Aggregator());
  const captures = await Promise.all(
    engines.map((engine, i) =>
      engine.attach({ pid: launched.pid, armOnExec: true }, {
        event: (e) => aggs[i]!.add(e),
        lost: (n) => aggs[i]!.addLost(n),
      })
    ),
  );
  const failures: unknown[] = [];
  for (const c of captures) c.ended.catch((e) => failures.push(e));
  launched.resume();
  assert.equal(await launched.exited, 0);
  await Promise.all(captures.map((c) => c.stop()));
  assert.deepEqual(failures, [], "neither engine failed");
  return { bpftrace: aggs[0]!, ringbuf: aggs[1]! };
}

/** The report of one engine's aggregation from {@link traceWithBothEngines}. */
export function reportOf(agg: Aggregator, engine: string): Report {
  return agg.report({
    engine,
    target: { pid: 0, command: null },
    startedAt: new Date(0),
    durationNs: 0,
    stopReason: "target_exited",
    exitStatus: 0,
  });
}
