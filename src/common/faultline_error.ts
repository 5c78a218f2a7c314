/**
 * The one error type faultline raises for bad input and failed runs, carrying the exit status
 * the CLI ends with.
 *
 * @module
 */

/**
 * Exit status for a usage error: a bad flag, pid or command line.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT_USAGE } from "./faultline_error.ts";
 * assert.equal(EXIT_USAGE, 2);
 * ```
 */
export const EXIT_USAGE = 2;
/**
 * Exit status for a runtime error: missing privileges or tools, probes that fail to attach.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT_RUNTIME } from "./faultline_error.ts";
 * assert.equal(EXIT_RUNTIME, 1);
 * ```
 */
export const EXIT_RUNTIME = 1;

/**
 * An error whose message is one sentence for the user: what was wrong, with the value, and the
 * fix. `exitCode` is {@link EXIT_USAGE} or {@link EXIT_RUNTIME}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT_RUNTIME, FaultlineError } from "./faultline_error.ts";
 * const e = new FaultlineError("Cannot trace pid 9: no such process; check it with ps -p 9");
 * assert.equal(e.exitCode, EXIT_RUNTIME);
 * ```
 */
export class FaultlineError extends Error {
  /** The status the CLI exits with when this error ends it. */
  readonly exitCode: number;

  /** Makes an error with a user-facing message and the exit status it maps to. */
  constructor(message: string, exitCode: number = EXIT_RUNTIME, options?: ErrorOptions) {
    super(message, options);
    this.name = "FaultlineError";
    this.exitCode = exitCode;
  }
}

/**
 * Makes a {@link FaultlineError} with the usage exit status.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT_USAGE, usageError } from "./faultline_error.ts";
 * assert.equal(usageError("Unknown flag --x; run trace.ts --help").exitCode, EXIT_USAGE);
 * ```
 */
export function usageError(message: string): FaultlineError {
  return new FaultlineError(message, EXIT_USAGE);
}
