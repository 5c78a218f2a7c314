import assert from "node:assert/strict";
import { procMappingSource } from "./proc_maps.ts";

/** st_dev (glibc's encoding) as the kernel's dev_t, major << 20 | minor, as the probes read it. */
function kernelDevice(dev: number): number {
  const major = ((dev >>> 8) & 0xfff) + Math.floor(dev / 2 ** 32) * 0x1000;
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
  return major * 2 ** 20 + minor;
}

Deno.test("procMappingSource names a file by a descriptor that still holds it, else not", async () => {
  const file = Deno.makeTempFileSync({ prefix: "faultline-fd-" });
  // A process holding the file at descriptor 3 and nothing mapped at 0-0x1000.
  const child = new Deno.Command("sh", {
    args: ["-c", 'exec 3<"$1"; echo ready; exec sleep 30', "sh", file],
    stdout: "piped",
  }).spawn();
  try {
    const reader = child.stdout.getReader();
    await reader.read(); // "ready": descriptor 3 is open
    reader.releaseLock();
    const st = Deno.statSync(file);
    const held = { fd: 3, inode: st.ino!, device: kernelDevice(st.dev) };
    assert.deepEqual(procMappingSource.fileAt(child.pid, 0, 0x1000, held), {
      path: file,
      deleted: false,
    });
    // Another file's inode: descriptor 3 was reused, and map_files has nothing there.
    assert.equal(procMappingSource.fileAt(child.pid, 0, 0x1000, { ...held, inode: 1 }), null);
    assert.equal(procMappingSource.fileAt(child.pid, 0, 0x1000, { ...held, fd: 4 }), null);
    Deno.removeSync(file);
    assert.deepEqual(procMappingSource.fileAt(child.pid, 0, 0x1000, held), {
      path: file,
      deleted: true,
    });
  } finally {
    child.kill();
    await child.status;
    await child.stdout.cancel().catch(() => {});
    try {
      Deno.removeSync(file);
    } catch { /* removed above */ }
  }
});
