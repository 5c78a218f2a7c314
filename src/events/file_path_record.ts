/**
 * The path of a mapped file as the probes read it from the kernel (struct fl_file): not an event
 * (nothing counts it), but what names a file mapping once its process, or its descriptor, is
 * gone before faultline reads its mmap.
 *
 * @module
 */

import { FL_HEADER } from "./event_kind.ts";

/** Byte offsets of struct fl_file's fields, and its size (probes/faultline.h). */
export const FL_FILE = {
  ...FL_HEADER,
  ino: 24,
  dev: 32,
  len: 36,
  flags: 38,
  path: 40,
  size: 808,
} as const;

/** enum fl_kind's FL_FILE: the header's kind of a file path record. */
export const FL_FILE_ID = 15;

/** fl_file.flags: the walk stopped before the root (too deep, too long); the path is a part. */
const FL_FILE_TRUNCATED = 1;
/** fl_file.flags: the file was unlinked. */
const FL_FILE_DELETED = 2;
/** fl_file.flags: an internal mount's file (anon_inode, memfd, a socket): only /proc names it. */
const FL_FILE_PSEUDO = 4;

/**
 * What the kernel said a file mapped by a traced mmap is called.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { FileName } from "./file_path_record.ts";
 * const libc: FileName = {
 *   pid: 42,
 *   timestampNs: 1_000,
 *   device: (259 << 20) | 1,
 *   inode: 1234,
 *   path: "/usr/lib/x86_64-linux-gnu/libc.so.6",
 *   deleted: false,
 * };
 * assert.equal(libc.device >> 20, 259, "the device's major number");
 * ```
 */
export interface FileName {
  /** The process whose mmap mapped it. */
  pid: number;
  /** The mmap's return, ns (CLOCK_MONOTONIC). */
  timestampNs: number;
  /** The file's device, the kernel's dev_t (major << 20 | minor), as mmap records carry it. */
  device: number;
  /** The file's inode number. */
  inode: number;
  /**
   * Its absolute path; null when the kernel's names did not fit the record, or the file is on
   * an internal mount (anon_inode, memfd, a socket: /proc names those as `anon_inode:[...]`).
   */
  path: string | null;
  /** It was unlinked. */
  deleted: boolean;
}

/**
 * The file path record at `at`: its names, leaf first, joined into an absolute path.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeFileRecord, FL_FILE, FL_FILE_ID } from "./file_path_record.ts";
 * const view = new DataView(new ArrayBuffer(FL_FILE.size));
 * view.setUint32(FL_FILE.kind, FL_FILE_ID, true);
 * view.setUint32(FL_FILE.pid, 7, true);
 * view.setUint32(FL_FILE.ino, 1234, true);
 * view.setUint32(FL_FILE.dev, 0x800001, true);
 * const names = new TextEncoder().encode("libc.so.6\0lib\0usr\0");
 * new Uint8Array(view.buffer, FL_FILE.path).set(names);
 * view.setUint16(FL_FILE.len, names.length, true);
 * const file = decodeFileRecord(view, 0);
 * assert.equal(file.path, "/usr/lib/libc.so.6");
 * assert.deepEqual([file.pid, file.inode, file.device, file.deleted], [7, 1234, 0x800001, false]);
 * ```
 */
export function decodeFileRecord(view: DataView, at: number): FileName {
  const length = Math.min(view.getUint16(at + FL_FILE.len, true), FL_FILE.size - FL_FILE.path);
  const flags = view.getUint16(at + FL_FILE.flags, true);
  const bytes = new Uint8Array(view.buffer, view.byteOffset + at + FL_FILE.path, length);
  const names = DECODER.decode(bytes).split("\0");
  names.pop(); // after the last name's NUL
  return {
    pid: view.getUint32(at + FL_FILE.pid, true),
    timestampNs: Number(view.getBigUint64(at + FL_FILE.ts_ns, true)),
    device: view.getUint32(at + FL_FILE.dev, true),
    inode: Number(view.getBigUint64(at + FL_FILE.ino, true)),
    path: flags & (FL_FILE_TRUNCATED | FL_FILE_PSEUDO) ? null : `/${names.reverse().join("/")}`,
    deleted: (flags & FL_FILE_DELETED) !== 0,
  };
}

const DECODER = new TextDecoder();
