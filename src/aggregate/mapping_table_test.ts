import assert from "node:assert/strict";
import type { FaultlineEvent } from "../events/faultline_event.ts";
import { decodeErrorCode } from "../events/faultline_event.ts";
import { type MappingSource, MappingTable, type MapsEntry } from "./mapping_table.ts";

const P = 4096;
const PID = 50;

/** A fault at `address` on thread `tid`, paired with its handled event `latency` ns later. */
function fault(
  address: number,
  options: { tid?: number; pid?: number; errorCode?: number; major?: boolean; ts?: number } = {},
): FaultlineEvent[] {
  const { tid = PID, pid = PID, errorCode = 6, major = false } = options;
  const ts = options.ts ?? (clock += 100);
  return [
    {
      kind: errorCode & 4 ? "page_fault_user" : "page_fault_kernel",
      pid,
      tid,
      timestampNs: ts,
      address: BigInt(address),
      ip: 0x401000n,
      errorCode,
      ...decodeErrorCode(errorCode),
    },
    { kind: major ? "major_fault" : "minor_fault", pid, tid, timestampNs: ts + 50, latencyNs: 50 },
  ];
}
let clock = 1000;

function mmap(pid: number, ret: number, length: number, fd = -1, flags = 0x22): FaultlineEvent {
  return {
    kind: "mmap",
    pid,
    tid: pid,
    timestampNs: clock += 10,
    addr: 0n,
    length,
    prot: 3,
    flags,
    fd,
    offset: 0,
    ret: BigInt(ret),
    latencyNs: 1000,
  };
}

/** A /proc that knows what `maps` says, and counts how often it was read. */
function fakeProc(maps: Record<number, MapsEntry[]>, files: Record<string, string> = {}) {
  const reads: number[] = [];
  const source: MappingSource = {
    snapshot(pid) {
      reads.push(pid);
      return maps[pid] ?? null;
    },
    fileAt(pid, start, end) {
      const path = files[`${pid}:${start}-${end}`];
      return path ? { path, deleted: false } : null;
    },
  };
  return { source, reads };
}

const entry = (start: number, end: number, path: string, perms = "r-xp"): MapsEntry => ({
  start,
  end,
  offset: 0,
  perms,
  path,
  deleted: false,
});

Deno.test("MappingTable names a file mapping when it is made, and counts its faults by kind", () => {
  const { source } = fakeProc({ [PID]: [] }, {
    [`${PID}:${0x10000}-${0x10000 + 8 * P}`]: "/data/x",
  });
  const t = new MappingTable({ source });
  t.add(mmap(PID, 0x10000, 8 * P, 3, 0x01));
  for (const e of fault(0x10000 + 5, { errorCode: 4 })) t.add(e); // user read
  for (const e of fault(0x10000 + P, { errorCode: 6, major: true })) t.add(e); // user write
  for (const e of fault(0x10000 + 2 * P, { errorCode: 2 })) t.add(e); // kernel write
  const [r] = t.report();
  assert.deepEqual(
    [
      r!.path,
      r!.perms,
      r!.faults,
      r!.minor_faults,
      r!.major_faults,
      r!.read,
      r!.write,
      r!.user,
      r!.kernel,
    ],
    ["/data/x", "rw-s", 3, 2, 1, 1, 2, 2, 1],
  );
  assert.equal(r!.latency_ns.count, 3);
});

Deno.test("MappingTable names a file mapping map_files lacks from a snapshot, read once per interval", () => {
  // A mapping merged with its neighbour: map_files has no entry of its exact range; maps has
  // the merged one. Mappings already unmapped are in no snapshot: [file fd N], and no snapshot
  // per mmap (each one takes the mmap lock of the traced process).
  const merged = entry(0x20000, 0x20000 + 16 * P, "/data/merged", "r--s");
  const { source, reads } = fakeProc({ [PID]: [merged] });
  const t = new MappingTable({ source, snapshotIntervalMs: 200 });
  t.add(mmap(PID, 0x20000 + 8 * P, 8 * P, 3, 0x01));
  const first = reads.length; // the process's first sight, and the name
  for (let i = 0; i < 50; i++) t.add(mmap(PID, 0x900000 + i * 64 * P, 8 * P, 4, 0x01));
  assert.equal(reads.length, first, "no snapshot for 50 more mmaps inside the interval");
  for (const e of fault(0x20000 + 9 * P, { errorCode: 4 })) t.add(e);
  for (const e of fault(0x900000, { errorCode: 4 })) t.add(e);
  const paths = t.report().map((r) => r.path).sort();
  assert.deepEqual(paths, ["/data/merged", "[file fd 4]"]);
  clock += 200e6;
  t.add(mmap(PID, 0xa00000, 8 * P, 4, 0x01));
  assert.equal(reads.length, first + 1, "read again once the interval has passed");
});

Deno.test("MappingTable reuses a file's name within the interval, and looks again after it", () => {
  // A program mapping one file over and over: the name is looked up once per interval, not
  // once per mmap; another file (another inode) is looked up on its own.
  const looked: string[] = [];
  let name = "/data/pages";
  const source: MappingSource = {
    snapshot: () => [],
    fileAt(_pid, _start, _end, file) {
      looked.push(`${file?.inode}`);
      return { path: file?.inode === 7 ? name : "/data/other", deleted: false };
    },
  };
  const t = new MappingTable({ source, snapshotIntervalMs: 200 });
  const fileMmap = (ret: number, inode: number) => ({
    ...mmap(PID, ret, 4 * P, 3, 0x01),
    file: { inode, device: 0x800001 },
  });
  for (let i = 0; i < 20; i++) t.add(fileMmap(0x100000 + i * 8 * P, 7));
  t.add(fileMmap(0x400000, 8));
  assert.deepEqual(looked, ["7", "8"], "one look per file inside the interval");
  name = "/data/renamed";
  clock += 200e6;
  t.add(fileMmap(0x500000, 7));
  assert.deepEqual(looked, ["7", "8", "7"], "looked again once the interval has passed");
  for (const address of [0x100000, 0x100000 + 19 * 8 * P, 0x400000, 0x500000]) {
    for (const e of fault(address, { errorCode: 4 })) t.add(e);
  }
  assert.deepEqual(t.report().map((r) => r.path).sort(), [
    "/data/other",
    "/data/pages",
    "/data/pages",
    "/data/renamed",
  ]);
});

Deno.test("MappingTable names a file by its last name when /proc has nothing left to say", () => {
  // The process exited (or closed the descriptor) before its last mmaps were read: no fd, no
  // map_files, no maps. The same file (device and inode) named earlier keeps that name, even
  // after the reuse interval; a file never named stays unnamed.
  let alive = true;
  const source: MappingSource = {
    snapshot: () => alive ? [] : null,
    fileAt: (_pid, _start, _end, file) =>
      alive ? { path: `/data/file-${file?.inode}`, deleted: false } : null,
  };
  const t = new MappingTable({ source, snapshotIntervalMs: 200 });
  const fileMmap = (ret: number, inode: number) => ({
    ...mmap(PID, ret, 4 * P, 3, 0x01),
    file: { inode, device: 0x800001 },
  });
  t.add(fileMmap(0x100000, 7));
  alive = false;
  clock += 5e9;
  t.add(fileMmap(0x200000, 7));
  t.add(fileMmap(0x300000, 9));
  for (const address of [0x100000, 0x200000, 0x300000]) {
    for (const e of fault(address, { errorCode: 4 })) t.add(e);
  }
  assert.deepEqual(t.report().map((r) => r.path).sort(), [
    "/data/file-7",
    "/data/file-7",
    "[file fd 3]",
  ]);
});

Deno.test("MappingTable names a file mmap read after its process is gone from a /proc snapshot", () => {
  // A quick process: faultline read /proc/PID/maps (on its first event) while it lived, then
  // the process closed the descriptor and exited before its file mmaps were read. The file in
  // that snapshot (device and inode) names them; a file that was in no snapshot stays unnamed.
  let alive = true;
  const source: MappingSource = {
    snapshot: () =>
      alive ? [{ ...entry(0x700000, 0x704000, "/lib/libx.so"), inode: 7, device: 0x800001 }] : null,
    fileAt: () => null, // the descriptor was closed at once
  };
  const t = new MappingTable({ source, snapshotIntervalMs: 200 });
  for (const e of fault(0x700000, { errorCode: 4 })) t.add(e); // the first event: the snapshot
  alive = false;
  const fileMmap = (ret: number, inode: number) => ({
    ...mmap(PID, ret, 4 * P, 3, 0x02),
    file: { inode, device: 0x800001 },
  });
  clock += 5e9; // long after the snapshot
  t.add(fileMmap(0x200000, 7));
  t.add(fileMmap(0x300000, 9));
  for (const address of [0x200000, 0x300000]) {
    for (const e of fault(address, { errorCode: 4 })) t.add(e);
  }
  const rows = t.report().map((r) => `${r.path} ${r.start}`).sort();
  assert.deepEqual(rows, [
    "/lib/libx.so 0x200000",
    "/lib/libx.so 0x700000",
    "[file fd 3] 0x300000",
  ]);
});

Deno.test("MappingTable follows munmap, mremap and brk, and a fork's copy of the address space", () => {
  const { source } = fakeProc({ [PID]: [entry(0x5000, 0x6000, "/bin/w")] });
  const t = new MappingTable({ source });
  t.add(mmap(PID, 0x100000, 4 * P));
  t.add({
    kind: "mremap",
    pid: PID,
    tid: PID,
    timestampNs: clock += 10,
    addr: 0x100000n,
    length: 4 * P,
    newLength: 8 * P,
    flags: 1,
    newAddr: 0n,
    ret: 0x200000n,
    latencyNs: 1,
  });
  for (const e of fault(0x200000 + 7 * P)) t.add(e); // in the grown, moved mapping
  for (const e of fault(0x100000)) t.add(e); // where it was: nothing now
  // The heap, from the first break seen.
  t.add({
    kind: "brk",
    pid: PID,
    tid: PID,
    timestampNs: clock += 10,
    addr: 0n,
    ret: 0x800000n,
    latencyNs: 1,
  });
  t.add({
    kind: "brk",
    pid: PID,
    tid: PID,
    timestampNs: clock += 10,
    addr: 0x822000n,
    ret: 0x822000n,
    latencyNs: 1,
  });
  for (const e of fault(0x810000)) t.add(e);
  t.add({
    kind: "process_fork",
    pid: PID,
    tid: PID,
    timestampNs: clock += 10,
    child: 51,
    command: "w",
  });
  for (const e of fault(0x5000, { pid: 51, tid: 51, errorCode: 0x14 })) t.add(e); // child's exec fetch
  t.add({
    kind: "munmap",
    pid: PID,
    tid: PID,
    timestampNs: clock += 10,
    addr: 0x200000n,
    length: 8 * P,
    ret: 0,
    latencyNs: 1,
  });
  for (const e of fault(0x200000)) t.add(e);
  const rows = t.report();
  const by = (path: string, pid = PID) => rows.find((r) => r.path === path && r.pid === pid);
  assert.equal(by("[anon]")!.faults, 1);
  assert.equal(by("[anon]")!.start, "0x100000", "the mapping as it was made");
  assert.equal(by("[heap]")!.faults, 1);
  assert.equal(by("[unknown]")!.faults, 2, "where mremap left and munmap emptied");
  const child = by("/bin/w", 51)!;
  assert.deepEqual([child.faults, child.exec], [1, 1]);
  assert.equal(by("/bin/w"), undefined, "the parent's row is its own");
  assert.equal(rows.reduce((s, r) => s + r.faults, 0), 5);
});

Deno.test("MappingTable reads /proc on exec and, at most every interval, for an address it lacks", () => {
  const maps: Record<number, MapsEntry[]> = { [PID]: [] };
  const { source, reads } = fakeProc(maps);
  const t = new MappingTable({ source, snapshotIntervalMs: 200 });
  const ms = 1e6;
  for (const e of fault(0x7000, { ts: 1000 * ms })) t.add(e); // first sight: one read, nothing there
  assert.equal(reads.length, 1);
  for (const e of fault(0x7000, { ts: 1100 * ms })) t.add(e); // too soon to read again
  assert.equal(reads.length, 1);
  maps[PID] = [entry(0x7000, 0x8000, "[stack]", "rw-p")];
  for (const e of fault(0x7000, { ts: 1250 * ms })) t.add(e); // read again: now it is known
  assert.equal(reads.length, 2);
  maps[PID] = [entry(0x9000, 0xa000, "/usr/bin/new", "r-xp")];
  t.add({ kind: "process_exec", pid: PID, tid: PID, timestampNs: 1300 * ms, command: "new" });
  assert.equal(reads.length, 3);
  for (const e of fault(0x9000, { errorCode: 0x14, ts: 1310 * ms })) t.add(e);
  for (const e of fault(0x7000, { ts: 1320 * ms })) t.add(e); // the old stack went with the old image
  const rows = t.report();
  const faults = (path: string) =>
    rows.filter((r) => r.path === path).reduce((s, r) => s + r.faults, 0);
  assert.deepEqual([faults("[unknown]"), faults("[stack]"), faults("/usr/bin/new")], [3, 1, 1]);
});

Deno.test("MappingTable starts an exec's address space with the kernel's mappings, then /proc's", () => {
  const ms = 1e6;
  // /proc, read at the exec's event: the process has mapped a library since (its mmap comes
  // later), and still holds the program; the stack it no longer shows (as when it is gone).
  const maps: Record<number, MapsEntry[]> = {
    [PID]: [entry(0x9000, 0xa000, "/usr/bin/new"), entry(0x20000, 0x21000, "/lib/libx.so")],
  };
  const { source } = fakeProc(maps);
  const t = new MappingTable({ source });
  const exec = (pid: number, at: number) =>
    t.add({ kind: "process_exec", pid, tid: pid, timestampNs: at, command: "new" });
  const made = (pid: number, at: number, start: number, end: number, more: object) =>
    t.execMapping({
      pid,
      timestampNs: at,
      start,
      end,
      offset: 0,
      perms: "r-xp",
      inode: 0,
      device: 0,
      name: null,
      ...more,
    });
  t.nameFile({
    pid: PID,
    timestampNs: 100 * ms,
    device: 8,
    inode: 7,
    path: "/usr/bin/new",
    deleted: false,
  });
  made(PID, 100 * ms, 0x9000, 0xa000, { inode: 7, device: 8 });
  made(PID, 100 * ms, 0x7000, 0x8000, { perms: "rw-p", name: "[stack]" });
  // A file the kernel gave no name for (an internal mount's): left to /proc, which has none.
  made(PID, 100 * ms, 0x30000, 0x31000, { inode: 9, device: 8 });
  made(PID, 100 * ms, 0x40000, 0x41000, { perms: "r-xp", name: "[vdso]" });
  exec(PID, 100 * ms);
  for (const e of fault(0x7008, { ts: 101 * ms })) t.add(e);
  for (const e of fault(0x9008, { errorCode: 0x14, ts: 102 * ms })) t.add(e);
  for (const e of fault(0x20008, { errorCode: 0x4, ts: 103 * ms })) t.add(e);
  for (const e of fault(0x30008, { errorCode: 0x4, ts: 104 * ms })) t.add(e);
  for (const e of fault(0x40008, { errorCode: 0x14, ts: 105 * ms })) t.add(e);
  const path = (address: string) => t.report().find((r) => r.start === address)?.path;
  assert.equal(path("0x7000"), "[stack]", "the kernel's, though /proc no longer shows it");
  assert.equal(path("0x9000"), "/usr/bin/new");
  assert.equal(path("0x20000"), "/lib/libx.so", "from /proc");
  assert.equal(path("0x40000"), "[vdso]");
  assert.equal(t.report().find((r) => r.path === "[unknown]")?.faults, 1, "the unnamed file");
  // An exec whose event was lost leaves nothing to the next one of the process (another time).
  made(PID + 1, 200 * ms, 0x50000, 0x51000, { name: "[stack]" });
  made(PID + 1, 300 * ms, 0x60000, 0x61000, { name: "[vdso]" });
  exec(PID + 1, 300 * ms);
  for (const e of fault(0x50008, { pid: PID + 1, tid: PID + 1, ts: 301 * ms })) t.add(e);
  for (const e of fault(0x60008, { pid: PID + 1, tid: PID + 1, ts: 302 * ms })) t.add(e);
  const rows = t.report().filter((r) => r.pid === PID + 1);
  assert.deepEqual(rows.map((r) => r.path).sort(), ["[unknown]", "[vdso]"]);
});

Deno.test("MappingTable pairs a handled fault with its own page fault, and kernel addresses apart", () => {
  const t = new MappingTable({
    source: fakeProc({ [PID]: [entry(0x1000, 0x9000, "[heap]", "rw-p")] }).source,
  });
  // Two threads' faults interleaved: each handled event finds its own by thread and start time.
  const [a1, a2] = fault(0x1000, { tid: 60, ts: 5000, errorCode: 4 });
  const [b1, b2] = fault(0xffffffff81000000, { tid: 61, ts: 5010, errorCode: 2 });
  for (const e of [a1!, b1!, b2!, a2!]) t.add(e);
  // A handled fault no page fault started: unknown, unpaired.
  t.add({ kind: "minor_fault", pid: PID, tid: 62, timestampNs: 6000, latencyNs: null });
  const rows = t.report();
  const heap = rows.find((r) => r.path === "[heap]")!;
  assert.deepEqual([heap.faults, heap.read, heap.user], [1, 1, 1]);
  const kernel = rows.find((r) => r.path === "[kernel]")!;
  assert.deepEqual([kernel.faults, kernel.write, kernel.kernel], [1, 1, 1]);
  const unknown = rows.find((r) => r.path === "[unknown]")!;
  assert.deepEqual([unknown.faults, unknown.user + unknown.kernel], [1, 0]);
});

Deno.test("MappingTable keeps at most its limit of mappings apart; the rest add up in other", () => {
  const t = new MappingTable({ limit: 3, source: fakeProc({ [PID]: [] }).source });
  for (let i = 0; i < 10; i++) {
    t.add(mmap(PID, 0x100000 * (i + 1), P));
    for (let k = 0; k <= i; k++) for (const e of fault(0x100000 * (i + 1))) t.add(e);
  }
  const all = t.report();
  assert.equal(all.length, 4);
  assert.equal(all.at(-1)!.path, "(other)");
  assert.equal(all.at(-1)!.mappings, 7);
  assert.equal(all.reduce((s, r) => s + r.faults, 0), 55);
  const top = t.report(2);
  assert.equal(top.length, 3);
  assert.equal(top.at(-1)!.mappings, 8);
  assert.equal(top.reduce((s, r) => s + r.faults, 0), 55);
});

Deno.test("MappingTable keeps a mapping another thread made where a munmap read after it had freed", () => {
  // Thread 51 unmaps [X, X+4P) (enters at 5000, returns at 5200); thread 52's mmap, entered
  // meanwhile, gets X once it is free and returns at 5100: its record comes first.
  const X = 0x7f0000000000;
  const t = new MappingTable();
  const call = (kind: "mmap" | "munmap", tid: number, returned: number, latencyNs: number) => ({
    pid: PID,
    tid,
    timestampNs: returned,
    latencyNs,
    length: 4 * P,
    ...(kind === "mmap"
      ? { kind, addr: 0n, prot: 3, flags: 0x22, fd: -1, offset: 0, ret: BigInt(X) }
      : { kind, addr: BigInt(X), ret: 0 }),
  } as FaultlineEvent);
  t.add(call("mmap", 51, 4000, 100)); // 51's own mapping, unmapped below
  for (const e of fault(X, { tid: 51, ts: 4500 })) t.add(e);
  t.add(call("mmap", 52, 5100, 300));
  t.add(call("munmap", 51, 5200, 200));
  for (const e of fault(X + P, { tid: 52, ts: 5300 })) t.add(e);
  // A munmap that began after the mapping was made removes it, as it did the first.
  t.add(call("munmap", 52, 5600, 100));
  for (const e of fault(X + 2 * P, { tid: 52, ts: 5700 })) t.add(e);
  const rows = t.report().filter((r) => r.start === "0x7f0000000000");
  assert.deepEqual(rows.map((r) => r.faults), [1, 1], "each thread's mapping, one fault each");
  assert.equal(t.report().find((r) => r.path === "[unknown]")!.faults, 1, "after both unmaps");
});
