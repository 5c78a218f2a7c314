/**
 * Parses the lines `probes/faultline.bt` prints (its header comment is the contract) into the
 * event model: event lines through their kinds' definitions, control lines here.
 *
 * @module
 */

import { EVENT_KINDS, type EventKindTable } from "../../events/event_kinds.ts";
import type { FaultlineEvent } from "../../events/faultline_event.ts";

/** What one line of bpftrace output said. */
export type BpftraceLine =
  | { type: "event"; event: FaultlineEvent }
  | { type: "lost"; count: number }
  | { type: "ready" }
  | { type: "exec"; tid: number; timestampNs: number }
  | { type: "barrier"; cpu: number }
  | { type: "window"; open: boolean }
  | { type: "other"; text: string };

const LOST = /^Lost (\d+) events$/;

/**
 * Parses one line (without its newline) of `probes/faultline.bt` output for process `pid`.
 * Lines the script does not print (bpftrace's "Attaching N probes...") and event lines with
 * the wrong number of fields come back as "other".
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBpftraceLine } from "./bpftrace_line_parser.ts";
 * assert.deepEqual(parseBpftraceLine("n 42 1000 900", 42), {
 *   type: "event",
 *   event: { kind: "minor_fault", pid: 42, tid: 42, timestampNs: 1000, latencyNs: 100 },
 * });
 * ```
 */
export function parseBpftraceLine(
  line: string,
  pid: number,
  kinds: EventKindTable = EVENT_KINDS,
): BpftraceLine {
  const f = line.split(" ");
  const tag = f[0]!;
  const event = kinds.lineTag(tag);
  if (event !== undefined) {
    const format = event.definition.line!;
    if (f.length === format.fields) {
      try {
        return { type: "event", event: format.parse(f, event.kind, pid) as FaultlineEvent };
      } catch { /* a field that is not a number (BigInt threw): not one of the script's lines */ }
    }
    return { type: "other", text: line };
  }
  switch (tag) {
    case "R":
      return { type: "ready" };
    case "X":
      return { type: "exec", tid: Number(f[1]), timestampNs: Number(f[2]) };
    case "S":
      return { type: "barrier", cpu: Number(f[1]) };
    case "W":
      return { type: "window", open: f[1] === "1" };
  }
  const lost = LOST.exec(line);
  if (lost) return { type: "lost", count: Number(lost[1]) };
  return { type: "other", text: line };
}
