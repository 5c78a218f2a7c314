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
  | { type: "bad"; text: string }
  | { type: "other"; text: string };

const LOST = /^Lost (\d+) events$/;
/** What bpftrace itself prints on stdout around the script's lines. */
const BPFTRACE_OWN = /^(Attaching \d+ probes?\.\.\.|)$/;
const INTEGER = /^-?\d+$/;

/**
 * Parses one line (without its newline) of `probes/faultline.bt` output.
 * bpftrace's own "Attaching N probes..." (and empty lines) come back as "other"; any other
 * line the contract does not allow (an event line cut short, a field that is not a number,
 * text from nowhere) comes back as "bad", for the engine to count, never to drop silently.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseBpftraceLine } from "./bpftrace_line_parser.ts";
 * assert.deepEqual(parseBpftraceLine("n 42 42 1000 900"), {
 *   type: "event",
 *   event: { kind: "minor_fault", pid: 42, tid: 42, timestampNs: 1000, latencyNs: 100 },
 * });
 * ```
 */
export function parseBpftraceLine(
  line: string,
  kinds: EventKindTable = EVENT_KINDS,
): BpftraceLine {
  const f = line.split(" ");
  const tag = f[0]!;
  const event = kinds.lineTag(tag);
  const numbers = (n: number) => f.length === n && f.every((x, i) => i === 0 || INTEGER.test(x));
  if (event !== undefined) {
    // TAG PID TID TS ...: the PID comes off before the definition reads the rest.
    const format = event.definition.line!;
    const fields = format.fields + 1;
    let ok: boolean;
    if (format.text) {
      // The last field is text, spaces and all: the line after the fields before it.
      const head = line.split(" ", fields - 1);
      ok = head.length === fields - 1 && head.every((x, i) => i === 0 || INTEGER.test(x)) &&
        f.length >= fields;
      if (ok) head.push(line.slice(head.join(" ").length + 1));
      f.splice(0, f.length, ...head);
    } else ok = numbers(fields);
    if (ok) {
      const eventPid = Number(f[1]);
      f.splice(1, 1);
      return { type: "event", event: format.parse(f, event.kind, eventPid) as FaultlineEvent };
    }
    return { type: "bad", text: line };
  }
  switch (tag) {
    case "R":
      if (numbers(2)) return { type: "ready" };
      break;
    case "X":
      if (numbers(3)) return { type: "exec", tid: Number(f[1]), timestampNs: Number(f[2]) };
      break;
    case "S":
      if (numbers(2)) return { type: "barrier", cpu: Number(f[1]) };
      break;
    case "W":
      if (f.length === 2 && (f[1] === "0" || f[1] === "1")) {
        return { type: "window", open: f[1] === "1" };
      }
      break;
  }
  const lost = LOST.exec(line);
  if (lost) return { type: "lost", count: Number(lost[1]) };
  if (BPFTRACE_OWN.test(line)) return { type: "other", text: line };
  return { type: "bad", text: line };
}
