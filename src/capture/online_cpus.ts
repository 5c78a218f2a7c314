/**
 * The CPUs that are online, from /sys/devices/system/cpu/online.
 *
 * @module
 */

/**
 * Parses a CPU list such as "0-3,5" (the format of /sys/devices/system/cpu/online), reading
 * the file when no text is given.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { onlineCpus } from "./online_cpus.ts";
 * assert.deepEqual(onlineCpus("0-2,5"), [0, 1, 2, 5]);
 * ```
 */
export function onlineCpus(
  text: string = Deno.readTextFileSync("/sys/devices/system/cpu/online"),
): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(",")) {
    const [a, b] = part.split("-").map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let c = a; c <= (b ?? a); c++) cpus.push(c);
  }
  return cpus;
}
