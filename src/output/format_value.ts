/**
 * How the terminal writes a value with its unit.
 *
 * @module
 */

/**
 * A value in its unit, the way the summary prints it: `1.50us`, `5.64MiB`, `843ns`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatValue } from "./format_value.ts";
 * assert.equal(formatValue(1500, "ns"), "1.50us");
 * ```
 */
export function formatValue(value: number, unit: string): string {
  if (unit === "ns") {
    if (value >= 1e9) return `${(value / 1e9).toFixed(2)}s`;
    if (value >= 1e6) return `${(value / 1e6).toFixed(2)}ms`;
    if (value >= 1e3) return `${(value / 1e3).toFixed(2)}us`;
    return `${value}ns`;
  }
  if (unit === "bytes") {
    if (value >= 2 ** 30) return `${(value / 2 ** 30).toFixed(2)}GiB`;
    if (value >= 2 ** 20) return `${(value / 2 ** 20).toFixed(2)}MiB`;
    if (value >= 2 ** 10) return `${(value / 2 ** 10).toFixed(2)}KiB`;
    return `${value}B`;
  }
  return `${value}${unit}`;
}
