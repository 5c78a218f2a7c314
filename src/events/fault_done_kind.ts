/**
 * The handled-fault kinds: `minor_fault` and `major_fault`, one per `minor-faults` /
 * `major-faults` perf software event, with the latency since the page_fault tracepoint that
 * preceded it on its thread.
 *
 * @module
 */

import { type EventKindDefinition, recordPid, recordTid, recordTimestamp } from "./event_kind.ts";
import type { FaultDoneEvent } from "./faultline_event.ts";

/** Byte offsets of struct fl_done's fields, and its size. */
export const FL_DONE = { latency_ns: 24, size: 32 } as const;

const IDS = { minor_fault: 5, major_fault: 6 } as const;
const TWO_32 = 2 ** 32;

/** An fl_done record's latency, or null for FL_UNPAIRED (all ones). */
export function doneLatency(view: DataView, at: number): number | null {
  const low = view.getUint32(at + FL_DONE.latency_ns, true);
  const high = view.getUint32(at + FL_DONE.latency_ns + 4, true);
  return low === 0xffffffff && high === 0xffffffff ? null : low + high * TWO_32;
}

/**
 * The handled-fault kinds: counted as `counts.minor_faults` / `major_faults`; the latency goes
 * to `fault_latency_ns`, and a fault with no start on its thread to `unpaired_faults`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { faultDoneKind } from "./fault_done_kind.ts";
 * assert.equal(faultDoneKind.counts.major_fault, "major_faults");
 * ```
 */
export const faultDoneKind: EventKindDefinition<FaultDoneEvent> = {
  name: "fault_done",
  counts: { minor_fault: "minor_faults", major_fault: "major_faults" },
  tallies: [{ path: "unpaired_faults", order: 20 }],
  histograms: [{ name: "fault_latency_ns", unit: "ns", order: 40 }],
  csvColumns: ["latency_ns"],
  csvCells: (e) => [e.latencyNs ?? ""],
  record: {
    struct: "fl_done",
    layout: FL_DONE,
    ids: IDS,
    decode: (view, at, id) => ({
      kind: id === IDS.minor_fault ? "minor_fault" : "major_fault",
      pid: recordPid(view, at),
      tid: recordTid(view, at),
      timestampNs: recordTimestamp(view, at),
      latencyNs: doneLatency(view, at),
    }),
    csvWrite: (out, view, at) => out.cell(doneLatency(view, at) ?? ""),
  },
  line: {
    tags: { n: "minor_fault", j: "major_fault" },
    fields: 4, // n|j TID TS START; START 0 when no page_fault preceded it
    parse(f, kind, pid) {
      const ts = Number(f[2]);
      const start = Number(f[3]);
      return {
        kind: kind as FaultDoneEvent["kind"],
        pid,
        tid: Number(f[1]),
        timestampNs: ts,
        latencyNs: start > 0 && ts >= start ? ts - start : null,
      };
    },
  },
  bind(store) {
    const minor = store.count("minor_faults");
    const major = store.count("major_faults");
    const unpaired = store.tally("unpaired_faults");
    const latency = store.histogram("fault_latency_ns");
    const fold = (isMajor: boolean, latencyNs: number | null) => {
      (isMajor ? major : minor).value++;
      if (latencyNs === null) unpaired.value++;
      else latency.add(latencyNs);
    };
    return {
      add: (e) => fold(e.kind === "major_fault", e.latencyNs),
      fold: (view, at, id) => fold(id === IDS.major_fault, doneLatency(view, at)),
    };
  },
};
