import assert from "node:assert/strict";
import { decodeFileRecord, FL_FILE, FL_FILE_ID } from "./file_path_record.ts";

/** A path record at byte 8 of a buffer: `names` leaf first, each ending in a NUL. */
function record(names: string, flags = 0, length?: number): DataView {
  const view = new DataView(new ArrayBuffer(8 + FL_FILE.size + 8));
  const at = 8;
  view.setBigUint64(at + FL_FILE.ts_ns, 123_456_789n, true);
  view.setUint32(at + FL_FILE.kind, FL_FILE_ID, true);
  view.setUint32(at + FL_FILE.pid, 42, true);
  view.setBigUint64(at + FL_FILE.ino, 2n ** 40n + 5n, true);
  view.setUint32(at + FL_FILE.dev, (259 << 20) | 1, true);
  const bytes = new TextEncoder().encode(names);
  new Uint8Array(view.buffer, at + FL_FILE.path).set(
    bytes.subarray(0, FL_FILE.size - FL_FILE.path),
  );
  view.setUint16(at + FL_FILE.len, length ?? bytes.length, true);
  view.setUint16(at + FL_FILE.flags, flags, true);
  return view;
}

Deno.test("A path record's names, leaf first, make the file's absolute path", () => {
  const file = decodeFileRecord(record("x.bin\0tmp.Ab3\0tmp\0var\0"), 8);
  assert.deepEqual(file, {
    pid: 42,
    timestampNs: 123_456_789,
    device: (259 << 20) | 1,
    inode: 2 ** 40 + 5,
    path: "/var/tmp/tmp.Ab3/x.bin",
    deleted: false,
  });
  assert.equal(decodeFileRecord(record("top\0"), 8).path, "/top", "a file in the root");
  assert.equal(decodeFileRecord(record("a b\u00e9\0"), 8).path, "/a b\u00e9", "names as UTF-8");
});

Deno.test("A path record says an unlinked file, and gives no path it could not read whole", () => {
  const deleted = decodeFileRecord(record("gone.bin\0tmp\0", 2), 8);
  assert.deepEqual([deleted.path, deleted.deleted], ["/tmp/gone.bin", true]);
  // Deeper or longer than the record holds: the names are the leaf end only.
  assert.equal(decodeFileRecord(record("c\0b\0", 1), 8).path, null);
  // An internal mount's file (anon_inode, memfd), or one outside the process's root.
  assert.equal(decodeFileRecord(record("memfd:x\0", 4 | 2), 8).path, null);
  // A length past the record is cut to it, not read beyond: the three names whole in its 768
  // bytes, not the fourth's first 165.
  const long = "n".repeat(200) + "\0";
  assert.equal(decodeFileRecord(record(long.repeat(4), 0, 60_000), 8).path?.length, 3 * 201);
});
