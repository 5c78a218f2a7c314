/**
 * `--cgroup PATH`: a cgroup v2 directory, found under the system's cgroup2 mounts and read as
 * the kernel knows it (its id and depth), for the engines to filter on.
 *
 * @module
 */

import type { CgroupTarget } from "../capture/engine.ts";
import { usageError } from "../common/faultline_error.ts";

/** A cgroup2 mount: where it is, and which directory of the hierarchy it shows. */
interface Cgroup2Mount {
  mountPoint: string;
  root: string;
}

/**
 * The cgroup2 mounts in /proc/self/mountinfo (or the text given).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { cgroup2Mounts } from "./cgroup_target.ts";
 * const line = "35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw";
 * assert.deepEqual(cgroup2Mounts(line), [{ root: "/", mountPoint: "/sys/fs/cgroup/unified" }]);
 * ```
 */
export function cgroup2Mounts(mountinfo?: string): Cgroup2Mount[] {
  const text = mountinfo ?? Deno.readTextFileSync("/proc/self/mountinfo");
  const out: Cgroup2Mount[] = [];
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right === undefined || right.split(" ")[0] !== "cgroup2") continue;
    const f = left!.split(" ");
    out.push({ root: unescapeMount(f[3]!), mountPoint: unescapeMount(f[4]!) });
  }
  return out;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * The cgroup v2 directory `path` names: as given when it is a directory under a cgroup2
 * mount, else taken below each mount in turn (`--cgroup system.slice/ssh.service`).
 *
 * @throws {FaultlineError} (usage) when there is no cgroup2 mount, or no such directory under one.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { cgroup2Mounts, resolveCgroup } from "./cgroup_target.ts";
 * const [mount] = cgroup2Mounts();
 * if (mount) assert.equal(resolveCgroup("/").path, mount.mountPoint);
 * ```
 */
export function resolveCgroup(path: string, mountinfo?: string): CgroupTarget {
  const mounts = cgroup2Mounts(mountinfo);
  if (mounts.length === 0) {
    throw usageError(
      `Cannot trace cgroup ${path}: no cgroup2 file system is mounted; mount one with ` +
        `mount -t cgroup2 none /sys/fs/cgroup/unified`,
    );
  }
  const candidates: string[] = [];
  if (path.startsWith("/")) candidates.push(path);
  for (const m of mounts) candidates.push(`${m.mountPoint}/${components(path).join("/")}`);
  for (const candidate of candidates) {
    const real = realDirectory(candidate);
    if (real === null) continue;
    // The mount holding it: the longest mount point it is under.
    const mount = mounts
      .filter((m) =>
        real === m.mountPoint || real.startsWith(m.mountPoint.replace(/\/$/, "") + "/")
      )
      .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
    if (mount === undefined) continue;
    const below = components(real.slice(mount.mountPoint.length));
    const level = components(mount.root).length + below.length;
    let hasChildren = false;
    for (const entry of Deno.readDirSync(real)) {
      if (entry.isDirectory) {
        hasChildren = true;
        break;
      }
    }
    return { path: real, id: Deno.statSync(real).ino!, level, hasChildren };
  }
  throw usageError(
    `Cannot trace cgroup ${path}: no such cgroup v2 directory under ${
      mounts.map((m) => m.mountPoint).join(" or ")
    }; give a directory there (ls ${mounts[0]!.mountPoint})`,
  );
}

function realDirectory(path: string): string | null {
  try {
    const real = Deno.realPathSync(path);
    return Deno.statSync(real).isDirectory ? real : null;
  } catch {
    return null;
  }
}
