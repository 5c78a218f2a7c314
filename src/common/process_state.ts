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
