/**
 * Finds a program the way execvp(3) does, so bad commands are reported before anything runs.
 *
 * @module
 */

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && info.mode !== null && (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The path `name` runs from: `name` itself if it contains a slash, else the first match in
 * `PATH`; null when there is no such executable file.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { findExecutable } from "./find_executable.ts";
 * assert.equal(findExecutable("sh", "/nonexistent:/bin"), "/bin/sh");
 * assert.equal(findExecutable("no-such-program", "/bin"), null);
 * ```
 */
export function findExecutable(name: string, path = Deno.env.get("PATH") ?? ""): string | null {
  if (name === "") return null;
  if (name.includes("/")) return isExecutableFile(name) ? name : null;
  for (const dir of path.split(":")) {
    const candidate = `${dir === "" ? "." : dir}/${name}`;
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}
