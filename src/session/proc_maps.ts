/**
 * Mapping names from /proc: a process's /proc/PID/maps, and the file behind one mapping
 * (/proc/PID/map_files, which names a file even after it was closed or deleted). The
 * {@link MappingSource} the session gives the mapping table.
 *
 * @module
 */

import type { MappingSource, MapsEntry } from "../aggregate/mapping_table.ts";

const DELETED = " (deleted)";

/**
 * Parses /proc/PID/maps text. Paths keep their spaces; a deleted file's " (deleted)" suffix
 * becomes `deleted`; the device becomes the kernel's dev_t (major << 20 | minor), as the probes
 * read it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseProcMaps } from "./proc_maps.ts";
 * const [e] = parseProcMaps("7f00a000-7f00c000 rw-s 00002000 fe:1b 42   /tmp/my data (deleted)\n");
 * assert.deepEqual(e, {
 *   start: 0x7f00a000, end: 0x7f00c000, offset: 0x2000, perms: "rw-s", path: "/tmp/my data", deleted: true,
 *   inode: 42, device: (0xfe << 20) | 0x1b,
 * });
 * ```
 */
export function parseProcMaps(text: string): MapsEntry[] {
  const out: MapsEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+) *(.*)$/
      .exec(line);
    if (m === null) continue;
    let path = m[8]!;
    const deleted = path.endsWith(DELETED);
    if (deleted) path = path.slice(0, -DELETED.length);
    out.push({
      start: parseInt(m[1]!, 16),
      end: parseInt(m[2]!, 16),
      offset: parseInt(m[4]!, 16),
      perms: m[3]!,
      path,
      deleted,
      inode: Number(m[7]!),
      // /proc writes major:minor in hex; the probes read the kernel's dev_t, major << 20 | minor.
      device: parseInt(m[5]!, 16) * 0x100000 + parseInt(m[6]!, 16),
    });
  }
  return out;
}

/** A kernel dev_t (major << 20 | minor) as stat(2) encodes a device. */
function userDevice(kernel: number): number {
  const major = kernel >>> 20, minor = kernel & 0xfffff;
  return (minor & 0xff) + major * 0x100 + (minor & ~0xff) * 0x1000;
}

/** The file at /proc/PID/fd/FD if it is still inode `inode` on `device` (a kernel dev_t). */
function fileOfDescriptor(
  pid: number,
  fd: number,
  inode: number,
  device: number,
): { path: string; deleted: boolean } | null {
  const link = `/proc/${pid}/fd/${fd}`;
  const same = () => {
    const st = Deno.statSync(link);
    return st.ino === inode && st.dev === userDevice(device);
  };
  try {
    // Checked before and after the link is read: the descriptor was not reused in between.
    if (!same()) return null;
    const target = Deno.readLinkSync(link);
    if (!same()) return null;
    const deleted = target.endsWith(DELETED);
    return { path: deleted ? target.slice(0, -DELETED.length) : target, deleted };
  } catch {
    return null; // closed, or the process is gone
  }
}

/**
 * The mapping source reading the live /proc (root reads any process's map_files).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { procMappingSource } from "./proc_maps.ts";
 * const maps = procMappingSource.snapshot(Deno.pid)!;
 * assert.ok(maps.some((e) => e.path === "[stack]"));
 * ```
 */
export const procMappingSource: MappingSource = {
  snapshot(pid) {
    try {
      return parseProcMaps(Deno.readTextFileSync(`/proc/${pid}/maps`));
    } catch {
      return null;
    }
  },
  fileAt(pid, start, end, file) {
    if (file !== undefined) {
      const named = fileOfDescriptor(pid, file.fd, file.inode, file.device);
      if (named !== null) return named;
    }
    try {
      const target = Deno.readLinkSync(
        `/proc/${pid}/map_files/${start.toString(16)}-${end.toString(16)}`,
      );
      const deleted = target.endsWith(DELETED);
      return { path: deleted ? target.slice(0, -DELETED.length) : target, deleted };
    } catch {
      return null; // gone, or merged with a neighbour: the table looks at a snapshot
    }
  },
};
