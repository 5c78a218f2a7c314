/**
 * Text that came from outside faultline (a process's name, its arguments, file paths) made
 * safe for a terminal: control characters are shown escaped, never sent raw.
 *
 * @module
 */

/**
 * `text` with every C0 and C1 control character, DEL and lone surrogate written as an escape
 * (`\e`, `\n`, `\t`, `\r`, `\xNN`, `\u{NNNN}`) and backslashes doubled, so nothing of it can move
 * the cursor, clear the screen or retitle a window. Printable text, including non-ASCII
 * letters, is kept.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeText } from "./escape_text.ts";
 * assert.equal(escapeText("evil\x1b[2Jname\x07"), "evil\\e[2Jname\\x07");
 * assert.equal(escapeText("café"), "café");
 * assert.equal(escapeText("a\\b"), "a\\\\b");
 * ```
 */
export function escapeText(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f\\\u2028\u2029]|[\ud800-\udfff]/gu, (c) => {
    switch (c) {
      case "\\":
        return "\\\\";
      case "\x1b":
        return "\\e";
      case "\n":
        return "\\n";
      case "\t":
        return "\\t";
      case "\r":
        return "\\r";
    }
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}
