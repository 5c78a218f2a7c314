/**
 * A mapping the kernel made at an exec, as the probes read it from the new address space
 * (struct fl_vma): the program, its interpreter, the stack, the vdso. Not an event (nothing
 * counts it), but what names the faults of a program that is gone before faultline reads its
 * /proc/PID/maps, where no traced mmap made those mappings.
 *
 * @module
 */

import { FL_HEADER } from "./event_kind.ts";

/** Byte offsets of struct fl_vma's fields, and its size (probes/faultline.h). */
export const FL_VMA = {
  ...FL_HEADER,
  start: 24,
  end: 32,
  offset: 40,
  ino: 48,
  dev: 56,
  flags: 60,
  name: 64,
  size: 88,
} as const;

/** enum fl_kind's FL_VMA: the header's kind of an exec's mapping record. */
export const FL_VMA_ID = 16;

/** fl_vma.flags (probes/faultline.h). */
const READ = 1;
const WRITE = 2;
const EXEC = 4;
const SHARED = 8;
const STACK = 16;
const HEAP = 32;
const SPECIAL = 64;
const NAME_BYTES = FL_VMA.size - FL_VMA.name;

/**
 * One mapping of a process's address space as its exec left it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExecMapping } from "./exec_mapping_record.ts";
 * const text: ExecMapping = {
 *   pid: 42,
 *   timestampNs: 1_000,
 *   start: 0x5555_5555_4000,
 *   end: 0x5555_5555_8000,
 *   offset: 0x1000,
 *   perms: "r-xp",
 *   inode: 1234,
 *   device: (259 << 20) | 1,
 *   name: null,
 * };
 * assert.equal((text.end - text.start) / 4096, 4, "pages");
 * ```
 */
export interface ExecMapping {
  /** The process that completed the exec. */
  pid: number;
  /** The exec's completion, ns (CLOCK_MONOTONIC). */
  timestampNs: number;
  /** First address. */
  start: number;
  /** Address after the last. */
  end: number;
  /** File offset at `start`, in bytes. */
  offset: number;
  /** `rwxp` or `rwxs`, as /proc/PID/maps writes them. */
  perms: string;
  /** Its file's inode number, 0 for none (the file's path comes in a path record before). */
  inode: number;
  /** Its file's device, the kernel's dev_t (major << 20 | minor); 0 for none. */
  device: number;
  /**
   * What /proc/PID/maps calls a mapping with no file: `[stack]`, `[heap]`, or a kernel special
   * mapping's own name (`[vdso]`, `[vvar]`); null for a file's or plain anonymous memory.
   */
  name: string | null;
}

/**
 * The exec mapping record at `at`.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeExecMappingRecord, FL_VMA, FL_VMA_ID } from "./exec_mapping_record.ts";
 * const view = new DataView(new ArrayBuffer(FL_VMA.size));
 * view.setUint32(FL_VMA.kind, FL_VMA_ID, true);
 * view.setUint32(FL_VMA.pid, 7, true);
 * view.setBigUint64(FL_VMA.start, 0x7ffff7fc1000n, true);
 * view.setBigUint64(FL_VMA.end, 0x7ffff7fc3000n, true);
 * view.setUint32(FL_VMA.flags, 1 | 4 | 64, true); // r-x, a special mapping
 * new Uint8Array(view.buffer, FL_VMA.name).set(new TextEncoder().encode("[vdso]\0"));
 * const vdso = decodeExecMappingRecord(view, 0);
 * assert.deepEqual([vdso.pid, vdso.perms, vdso.name, vdso.end - vdso.start], [7, "r-xp", "[vdso]", 8192]);
 * ```
 */
export function decodeExecMappingRecord(view: DataView, at: number): ExecMapping {
  const flags = view.getUint32(at + FL_VMA.flags, true);
  let name: string | null = null;
  if (flags & STACK) name = "[stack]";
  else if (flags & HEAP) name = "[heap]";
  else if (flags & SPECIAL) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset + at + FL_VMA.name, NAME_BYTES);
    const end = bytes.indexOf(0);
    name = DECODER.decode(end < 0 ? bytes : bytes.subarray(0, end)) || null;
  }
  return {
    pid: view.getUint32(at + FL_VMA.pid, true),
    timestampNs: Number(view.getBigUint64(at + FL_VMA.ts_ns, true)),
    start: Number(view.getBigUint64(at + FL_VMA.start, true)),
    end: Number(view.getBigUint64(at + FL_VMA.end, true)),
    offset: Number(view.getBigUint64(at + FL_VMA.offset, true)),
    perms: (flags & READ ? "r" : "-") + (flags & WRITE ? "w" : "-") + (flags & EXEC ? "x" : "-") +
      (flags & SHARED ? "s" : "p"),
    inode: Number(view.getBigUint64(at + FL_VMA.ino, true)),
    device: view.getUint32(at + FL_VMA.dev, true),
    name,
  };
}

const DECODER = new TextDecoder();
