/**
 * Why the kernel would refuse to exec a program, found before launching it: an ELF file that
 * is truncated or built for another machine, a program interpreter (the ELF's PT_INTERP, or a
 * script's #! line) that is missing. Launching such a program would end in the shell's own
 * message and exit status 126 or 127, which a traced command may also return by itself.
 *
 * @module
 */

import { findExecutable } from "../common/find_executable.ts";

const PT_INTERP = 3;
/** ELF machines this kernel runs: x86-64, and i386 under IA-32 emulation. */
const MACHINES: Record<number, string> = { 62: "x86-64", 3: "i386" };

function readAt(path: string, offset: number, length: number): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    file.seekSync(offset, Deno.SeekMode.Start);
    const buffer = new Uint8Array(length);
    let n = 0;
    while (n < length) {
      const got = file.readSync(buffer.subarray(n));
      if (got === null || got === 0) break;
      n += got;
    }
    return buffer.subarray(0, n);
  } finally {
    file.close();
  }
}

/** Why an ELF file would not exec here, or null. */
function elfProblem(path: string, head: Uint8Array): string | null {
  if (head.length < 64) return "it is a truncated ELF file (Exec format error)";
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const is64 = head[4] === 2;
  if ((head[4] !== 1 && !is64) || head[5] !== 1) {
    return "it is not an ELF file for this machine (Exec format error)";
  }
  const machine = v.getUint16(18, true);
  if (MACHINES[machine] === undefined) {
    return `it is an ELF file for another machine (e_machine ${machine}; Exec format error)`;
  }
  const phoff = is64 ? Number(v.getBigUint64(32, true)) : v.getUint32(28, true);
  const phentsize = v.getUint16(is64 ? 54 : 42, true);
  const phnum = v.getUint16(is64 ? 56 : 44, true);
  const table = readAt(path, phoff, phentsize * phnum);
  if (phnum === 0 || table.length < phentsize * phnum) {
    return "it is a truncated ELF file (Exec format error)";
  }
  const t = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (t.getUint32(at, true) !== PT_INTERP) continue;
    const offset = is64 ? Number(t.getBigUint64(at + 8, true)) : t.getUint32(at + 4, true);
    const size = is64 ? Number(t.getBigUint64(at + 32, true)) : t.getUint32(at + 16, true);
    const interp = new TextDecoder().decode(readAt(path, offset, size)).replace(/\0.*$/s, "");
    if (findExecutable(interp.includes("/") ? interp : `./${interp}`) === null) {
      return `its program interpreter ${interp} is missing (install the libraries it was built for)`;
    }
  }
  return null;
}

/**
 * Why the kernel would refuse to exec `path` (an executable file), or null when it would run
 * it. A text file without a #! line is run by the shell, as execvp does, so it is no problem.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { execProblem } from "./exec_check.ts";
 * assert.equal(execProblem("/bin/sh"), null);
 * const script = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(script, "#!/nonexistent/python\nprint(1)\n");
 * assert.match(execProblem(script)!, /interpreter \/nonexistent\/python .* is missing/);
 * Deno.removeSync(script);
 * ```
 */
export function execProblem(path: string): string | null {
  let head: Uint8Array;
  try {
    head = readAt(path, 0, 256);
  } catch {
    return null; // unreadable but executable: the kernel will say
  }
  if (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
    return elfProblem(path, head);
  }
  if (head[0] === 0x23 && head[1] === 0x21) {
    const line = new TextDecoder().decode(head.subarray(2)).split("\n")[0]!.trim();
    const interp = line.split(/[ \t]/)[0] ?? "";
    if (interp === "") return "its #! line names no interpreter";
    if (findExecutable(interp.includes("/") ? interp : `./${interp}`) === null) {
      return `its interpreter ${interp} (from its #! line) is missing or not executable`;
    }
  }
  return null;
}
