/**
 * The process kinds: `process_fork`, `process_exec` and `process_exit`, a traced process's life
 * (struct fl_task records; F, x and E lines). They are how the report knows each process's
 * parent, command name and exit, and how an address space follows a fork or an exec.
 *
 * @module
 */

import {
  csvText,
  type EventKindDefinition,
  recordPid,
  recordTid,
  recordTimestamp,
} from "./event_kind.ts";
import type { ProcessExecEvent, ProcessExitEvent, ProcessForkEvent } from "./faultline_event.ts";

/** Byte offsets of struct fl_task's fields, and its size. */
export const FL_TASK = { child: 24, exit_code: 28, comm: 32, size: 48 } as const;

const COMM_BYTES = 16;
const latin1 = new TextDecoder("latin1");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The comm at `at`: bytes up to the first NUL, as UTF-8 when they are, else byte for byte. */
function readComm(view: DataView, at: number): string {
  const bytes = new Uint8Array(view.buffer, view.byteOffset + at, COMM_BYTES);
  const end = bytes.indexOf(0);
  const name = bytes.subarray(0, end < 0 ? COMM_BYTES : end);
  try {
    return strictUtf8.decode(name);
  } catch {
    return latin1.decode(name);
  }
}

function taskHead(view: DataView, at: number) {
  return {
    pid: recordPid(view, at),
    tid: recordTid(view, at),
    timestampNs: recordTimestamp(view, at),
    command: readComm(view, at + FL_TASK.comm),
  };
}

/** The fields every process line starts with: `TAG TID TS` (PID taken off), text last. */
function taskLineHead(f: readonly string[], pid: number) {
  return { pid, tid: Number(f[1]), timestampNs: Number(f[2]), command: f[f.length - 1]! };
}

/**
 * process_fork: counts as `counts.process_forks`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { processForkKind } from "./process_kinds.ts";
 * assert.equal(processForkKind.record?.ids.process_fork, 12);
 * ```
 */
export const processForkKind: EventKindDefinition<ProcessForkEvent> = {
  name: "process_fork",
  counts: { process_fork: "process_forks" },
  csvColumns: ["child", "command"],
  csvCells: (e) => [e.child, csvText(e.command)],
  record: {
    struct: "fl_task",
    layout: FL_TASK,
    ids: { process_fork: 12 },
    decode: (view, at) => ({
      kind: "process_fork",
      ...taskHead(view, at),
      child: view.getUint32(at + FL_TASK.child, true),
    }),
  },
  line: {
    tags: { F: "process_fork" },
    fields: 5, // F TID TS CHILD COMM
    text: true,
    parse: (f, _kind, pid) => ({
      kind: "process_fork",
      ...taskLineHead(f, pid),
      child: Number(f[3]),
    }),
  },
  bind(store) {
    const count = store.count("process_forks");
    const fold = () => void count.value++;
    return { add: fold, fold };
  },
};

/**
 * process_exec: counts as `counts.process_execs`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { processExecKind } from "./process_kinds.ts";
 * assert.equal(processExecKind.line?.tags.x, "process_exec");
 * ```
 */
export const processExecKind: EventKindDefinition<ProcessExecEvent> = {
  name: "process_exec",
  counts: { process_exec: "process_execs" },
  csvColumns: ["command"],
  csvCells: (e) => [csvText(e.command)],
  record: {
    struct: "fl_task",
    layout: FL_TASK,
    ids: { process_exec: 13 },
    decode: (view, at) => ({ kind: "process_exec", ...taskHead(view, at) }),
  },
  line: {
    tags: { x: "process_exec" },
    fields: 4, // x TID TS COMM
    text: true,
    parse: (f, _kind, pid) => ({ kind: "process_exec", ...taskLineHead(f, pid) }),
  },
  bind(store) {
    const count = store.count("process_execs");
    const fold = () => void count.value++;
    return { add: fold, fold };
  },
};

/**
 * process_exit: counts as `counts.process_exits`; CSV `exit_code` is the wait(2) status.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { processExitKind } from "./process_kinds.ts";
 * assert.deepEqual(processExitKind.csvColumns, ["exit_code", "command"]);
 * ```
 */
export const processExitKind: EventKindDefinition<ProcessExitEvent> = {
  name: "process_exit",
  counts: { process_exit: "process_exits" },
  csvColumns: ["exit_code", "command"],
  csvCells: (e) => [e.exitCode, csvText(e.command)],
  record: {
    struct: "fl_task",
    layout: FL_TASK,
    ids: { process_exit: 14 },
    decode: (view, at) => ({
      kind: "process_exit",
      ...taskHead(view, at),
      exitCode: view.getInt32(at + FL_TASK.exit_code, true),
    }),
  },
  line: {
    tags: { E: "process_exit" },
    fields: 5, // E TID TS EXIT_CODE COMM
    text: true,
    parse: (f, _kind, pid) => ({
      kind: "process_exit",
      ...taskLineHead(f, pid),
      exitCode: Number(f[3]),
    }),
  },
  bind(store) {
    const count = store.count("process_exits");
    const fold = () => void count.value++;
    return { add: fold, fold };
  },
};
