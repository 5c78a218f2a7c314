import assert from "node:assert/strict";
import { decodeExecMappingRecord, FL_VMA, FL_VMA_ID } from "./exec_mapping_record.ts";

/** An exec mapping record at byte 8 of a buffer. */
function record(
  fields: { start: bigint; end: bigint; offset?: bigint; ino?: bigint; dev?: number },
  flags: number,
  name = "",
): DataView {
  const view = new DataView(new ArrayBuffer(8 + FL_VMA.size + 8));
  const at = 8;
  view.setBigUint64(at + FL_VMA.ts_ns, 5_000_000_000n, true);
  view.setUint32(at + FL_VMA.tid, 43, true);
  view.setUint32(at + FL_VMA.kind, FL_VMA_ID, true);
  view.setUint32(at + FL_VMA.pid, 42, true);
  view.setBigUint64(at + FL_VMA.start, fields.start, true);
  view.setBigUint64(at + FL_VMA.end, fields.end, true);
  view.setBigUint64(at + FL_VMA.offset, fields.offset ?? 0n, true);
  view.setBigUint64(at + FL_VMA.ino, fields.ino ?? 0n, true);
  view.setUint32(at + FL_VMA.dev, fields.dev ?? 0, true);
  view.setUint32(at + FL_VMA.flags, flags, true);
  new Uint8Array(view.buffer, at + FL_VMA.name, FL_VMA.size - FL_VMA.name).set(
    new TextEncoder().encode(name).subarray(0, FL_VMA.size - FL_VMA.name),
  );
  return view;
}

Deno.test("An exec mapping record gives a file's mapping with /proc's permissions", () => {
  const text = decodeExecMappingRecord(
    record({
      start: 0x5555_5555_4000n,
      end: 0x5555_5555_9000n,
      offset: 0x2000n,
      ino: 2n ** 40n + 3n,
      dev: (259 << 20) | 1,
    }, 1 | 4),
    8,
  );
  assert.deepEqual(text, {
    pid: 42,
    timestampNs: 5_000_000_000,
    start: 0x5555_5555_4000,
    end: 0x5555_5555_9000,
    offset: 0x2000,
    perms: "r-xp",
    inode: 2 ** 40 + 3,
    device: (259 << 20) | 1,
    name: null,
  });
  const shared = decodeExecMappingRecord(record({ start: 0n, end: 4096n, ino: 9n }, 1 | 2 | 8), 8);
  assert.equal(shared.perms, "rw-s");
  assert.equal(decodeExecMappingRecord(record({ start: 0n, end: 4096n }, 0), 8).perms, "---p");
});

Deno.test("An exec mapping record names the stack, the heap and special mappings as /proc does", () => {
  const named = (flags: number, name = "") =>
    decodeExecMappingRecord(
      record({ start: 0x7ffd_0000_0000n, end: 0x7ffd_0002_1000n }, flags, name),
      8,
    )
      .name;
  assert.equal(named(1 | 2 | 16), "[stack]");
  assert.equal(named(1 | 2 | 32), "[heap]");
  assert.equal(named(1 | 4 | 64, "[vdso]\0"), "[vdso]");
  assert.equal(named(1 | 64, "[vvar_vclock]\0junk"), "[vvar_vclock]", "up to its NUL");
  assert.equal(named(1 | 64, "x".repeat(40)), "x".repeat(24), "a name filling the field");
  assert.equal(named(1 | 2), null, "plain anonymous memory");
  assert.equal(named(1 | 64, ""), null, "a special mapping with an empty name");
});
