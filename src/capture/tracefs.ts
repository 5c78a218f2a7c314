/**
 * tracefs, where the tracepoints both engines attach to are listed.
 *
 * @module
 */

import { FaultlineError } from "../common/faultline_error.ts";

/** The tracefs folder of every tracepoint, one folder per category. */
export const TRACEFS_EVENTS = "/sys/kernel/tracing/events";

/** The tracefs folder of the syscall tracepoints: present when tracefs is mounted. */
export const TRACEFS_SYSCALLS = `${TRACEFS_EVENTS}/syscalls`;

/**
 * Throws a FaultlineError saying how to mount tracefs when its syscall tracepoints are not
 * there.
 */
export function requireTracefs(): void {
  try {
    Deno.statSync(TRACEFS_SYSCALLS);
  } catch {
    throw new FaultlineError(
      `Cannot attach probes: ${TRACEFS_SYSCALLS} is missing because tracefs is not mounted; ` +
        `mount it with mount -t tracefs nodev /sys/kernel/tracing`,
    );
  }
}
