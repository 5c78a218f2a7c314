/**
 * Reads a process's state from /proc: whether it exists, has stopped, or has exited.
 *
 * @module
 */

/** A process's state letter from /proc/PID/stat (R, S, D, T, t, Z, X...), or null if gone. */
export function processState(pid: number): string | null {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces or ")": the state follows the last ")".
  const close = stat.lastIndexOf(")");
  return stat.charAt(close + 2) || null;
}

/** Whether `pid` names a live process (one that has not exited, zombies excluded). */
export function isAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== "Z" && state !== "X";
}

/** A process's name as the kernel keeps it (/proc/PID/comm, at most 15 bytes), or null. */
export function processName(pid: number): string | null {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).replace(/\n$/, "");
  } catch {
    return null;
  }
}

/**
 * A process's parent and command name from /proc/PID/status, or null when it is gone.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { processParentAndName } from "./process_state.ts";
 * const me = processParentAndName(Deno.pid)!;
 * assert.equal(me.parent, Deno.ppid);
 * ```
 */
export function processParentAndName(
  pid: number,
): { parent: number | null; command: string | null } | null {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const ppid = /^PPid:\s*(\d+)$/m.exec(status);
  return { parent: ppid ? Number(ppid[1]) : null, command: processName(pid) };
}
