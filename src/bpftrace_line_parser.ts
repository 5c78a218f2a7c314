/**
 * Parses the lines `probes/faultline.bt` prints (its header comment is the contract) into the
 * event model.
 *
 * @module
 */

import { decodeErrorCode, type FaultlineEvent } from "./faultline_event.ts";

/** What one line of bpftrace output said. */
export type BpftraceLine =
  | { type: "event"; event: FaultlineEvent }
  | { type: "lost"; count: number }
  | { type: "ready" }
  | { type: "exec"; tid: number; timestampNs: number }
  | { type: "barrier"; cpu: number }
  | { type: "other"; text: string };

const LOST = /^Lost (\d+) events$/;

function num(s: string | undefined): number {
  return Number(s);
}

function big(s: string | undefined): bigint {
  return BigInt(s ?? "0");
}

/**
 * Parses one line (without its newline) of `probes/faultline.bt` output for process `pid`.
 * Lines the script does not print (bpftrace's "Attaching N probes...") come back as "other".
 *
 * @example Usage
 * ```ts
 * import { parseBpftraceLine } from "./bpftrace_line_parser.ts";
 * parseBpftraceLine("n 42 1000 900", 42);
 * // { type: "event", event: { kind: "minor_fault", pid: 42, tid: 42, timestampNs: 1000, latencyNs: 100 } }
 * ```
 */
export function parseBpftraceLine(line: string, pid: number): BpftraceLine {
  const f = line.split(" ");
  const tag = f[0];
  const tid = num(f[1]);
  const ts = num(f[2]);
  switch (tag) {
    case "m":
      if (f.length !== 11) break;
      return {
        type: "event",
        event: {
          kind: "mmap",
          pid,
          tid,
          timestampNs: ts,
          latencyNs: num(f[3]),
          addr: big(f[4]),
          length: num(f[5]),
          prot: num(f[6]),
          flags: num(f[7]),
          fd: num(f[8]),
          offset: num(f[9]),
          ret: big(f[10]),
        },
      };
    case "u":
      if (f.length !== 7) break;
      return {
        type: "event",
        event: {
          kind: "munmap",
          pid,
          tid,
          timestampNs: ts,
          latencyNs: num(f[3]),
          addr: big(f[4]),
          length: num(f[5]),
          ret: num(f[6]),
        },
      };
    case "U":
    case "K": {
      if (f.length !== 6) break;
      const errorCode = num(f[5]);
      return {
        type: "event",
        event: {
          kind: tag === "U" ? "page_fault_user" : "page_fault_kernel",
          pid,
          tid,
          timestampNs: ts,
          address: big(f[3]),
          ip: big(f[4]),
          errorCode,
          ...decodeErrorCode(errorCode),
        },
      };
    }
    case "n":
    case "j": {
      if (f.length !== 4) break;
      const start = num(f[3]);
      return {
        type: "event",
        event: {
          kind: tag === "n" ? "minor_fault" : "major_fault",
          pid,
          tid,
          timestampNs: ts,
          latencyNs: start > 0 && ts >= start ? ts - start : null,
        },
      };
    }
    case "R":
      return { type: "ready" };
    case "X":
      return { type: "exec", tid, timestampNs: ts };
    case "S":
      return { type: "barrier", cpu: tid };
    default: {
      const lost = LOST.exec(line);
      if (lost) return { type: "lost", count: Number(lost[1]) };
    }
  }
  return { type: "other", text: line };
}
