import assert from "node:assert/strict";
import { parseBpftraceLine } from "./bpftrace_line_parser.ts";

Deno.test("parseBpftraceLine() reads an mmap line with its arguments and return value", () => {
  const line = "m 3037 3037 400650741200 4241 0 8192 3 34 -1 0 139967594426368";
  assert.deepEqual(parseBpftraceLine(line), {
    type: "event",
    event: {
      kind: "mmap",
      pid: 3037,
      tid: 3037,
      timestampNs: 400650741200,
      latencyNs: 4241,
      addr: 0n,
      length: 8192,
      prot: 3,
      flags: 34,
      fd: -1,
      offset: 0,
      ret: 139967594426368n,
    },
  });
});

Deno.test("parseBpftraceLine() keeps a failed mmap's negative errno", () => {
  const r = parseBpftraceLine("m 5 5 10 7 0 0 3 34 -1 0 -22");
  assert.equal(r.type === "event" && r.event.kind === "mmap" && r.event.ret, -22n);
});

Deno.test("parseBpftraceLine() reads a munmap line", () => {
  assert.deepEqual(parseBpftraceLine("u 8 9 100 3000 140000000000000 5918720 0"), {
    type: "event",
    event: {
      kind: "munmap",
      pid: 8,
      tid: 9,
      timestampNs: 100,
      latencyNs: 3000,
      addr: 140000000000000n,
      length: 5918720,
      ret: 0,
    },
  });
});

Deno.test("parseBpftraceLine() reads page faults with kernel addresses exactly", () => {
  const r = parseBpftraceLine("K 7 7 50 93881226916968 18446744071586665370 2");
  assert.deepEqual(r, {
    type: "event",
    event: {
      kind: "page_fault_kernel",
      pid: 7,
      tid: 7,
      timestampNs: 50,
      address: 93881226916968n,
      ip: 0xffffffff8177539an,
      errorCode: 2,
      access: "write",
      mode: "kernel",
      cause: "not_present",
    },
  });
  const u = parseBpftraceLine("U 7 7 50 1 2 20");
  assert.ok(u.type === "event" && u.event.kind === "page_fault_user");
  assert.equal(u.event.access, "exec");
});

Deno.test("parseBpftraceLine() pairs a handled fault with its start, or marks it unpaired", () => {
  const paired = parseBpftraceLine("n 7 7 1000 900");
  assert.ok(paired.type === "event" && paired.event.kind === "minor_fault");
  assert.equal(paired.event.latencyNs, 100);
  const unpaired = parseBpftraceLine("j 7 7 1000 0");
  assert.ok(unpaired.type === "event" && unpaired.event.kind === "major_fault");
  assert.equal(unpaired.event.latencyNs, null);
});

Deno.test("parseBpftraceLine() reads bpftrace's lost-events lines and the script's markers", () => {
  assert.deepEqual(parseBpftraceLine("Lost 1234 events"), { type: "lost", count: 1234 });
  assert.deepEqual(parseBpftraceLine("R 42"), { type: "ready" });
  assert.deepEqual(parseBpftraceLine("S 1"), { type: "barrier", cpu: 1 });
  assert.deepEqual(parseBpftraceLine("X 42 77"), { type: "exec", tid: 42, timestampNs: 77 });
  assert.deepEqual(parseBpftraceLine("Attaching 13 probes..."), {
    type: "other",
    text: "Attaching 13 probes...",
  });
  // A truncated event line is not mistaken for an event, nor dropped: it is bad.
  assert.equal(parseBpftraceLine("m 1 1 2 3").type, "bad");
  assert.deepEqual(parseBpftraceLine("W 1"), { type: "window", open: true });
  assert.deepEqual(parseBpftraceLine("W 0"), { type: "window", open: false });
});

Deno.test("parseBpftraceLine() reads process lines, the command name last with its spaces", () => {
  assert.deepEqual(parseBpftraceLine("F 10 11 500 12 Web Content"), {
    type: "event",
    event: {
      kind: "process_fork",
      pid: 10,
      tid: 11,
      timestampNs: 500,
      child: 12,
      command: "Web Content",
    },
  });
  assert.deepEqual(parseBpftraceLine("x 12 12 600 cc1"), {
    type: "event",
    event: { kind: "process_exec", pid: 12, tid: 12, timestampNs: 600, command: "cc1" },
  });
  assert.deepEqual(parseBpftraceLine("E 12 13 700 256 cc1"), {
    type: "event",
    event: {
      kind: "process_exit",
      pid: 12,
      tid: 13,
      timestampNs: 700,
      exitCode: 256,
      command: "cc1",
    },
  });
  assert.equal(parseBpftraceLine("E 12 13 700 cc1").type, "bad", "the exit code is missing");
  assert.equal(parseBpftraceLine("F 10 11 x 12 sh").type, "bad");
  assert.equal(parseBpftraceLine("x 12 12 600").type, "bad", "no command field");
});

/** A small deterministic generator, so a failure replays. */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const VALID = [
  "m 3037 3037 400650741200 4241 0 8192 3 34 -1 0 139967594426368",
  "m 5 5 10 7 0 0 3 34 -1 0 -22",
  "u 9 9 100 3000 140000000000000 5918720 0",
  "U 7 7 50 1 2 20",
  "K 7 7 50 93881226916968 18446744071586665370 2",
  "n 7 7 1000 900",
  "j 7 7 1000 0",
  "R 42",
  "X 42 77",
  "S 1",
  "W 1",
  "Lost 12 events",
];

Deno.test("parseBpftraceLine() survives random and cut lines, counting every bad one", () => {
  const next = random(12345);
  const alphabet = "mujnUKRXSW Lost0123456789-ab\x00\t\xff~é";
  let bad = 0;
  let events = 0;
  const t0 = performance.now();
  for (let i = 0; i < 50_000; i++) {
    const base = VALID[Math.floor(next() * VALID.length)]!;
    let line: string;
    switch (i % 4) {
      case 0: // random text
        line = Array.from(
          { length: Math.floor(next() * 40) },
          () => alphabet[Math.floor(next() * alphabet.length)],
        ).join("");
        break;
      case 1: // a valid line cut short
        line = base.slice(0, Math.floor(next() * base.length));
        break;
      case 2: { // one field replaced by junk
        const f = base.split(" ");
        f[1 + Math.floor(next() * (f.length - 1))] = ["x", "", "1.5", "0x10", "1e3", "--"][i % 6]!;
        line = f.join(" ");
        break;
      }
      default:
        line = base;
    }
    const r = parseBpftraceLine(line);
    if (r.type === "bad") bad++;
    if (r.type === "event") {
      events++;
      // An event only ever comes from a line with every field an integer.
      assert.ok(line.split(" ").slice(1).every((x) => /^-?\d+$/.test(x)), line);
      for (const v of Object.values(r.event)) {
        assert.ok(typeof v !== "number" || Number.isFinite(v), `${line}: ${v}`);
      }
    }
    if (r.type === "other") assert.match(line, /^(Attaching \d+ probes?\.\.\.|)$/, line);
    if (i % 4 === 3) assert.notEqual(r.type, "bad", `a valid line: ${line}`);
  }
  assert.ok(bad > 20_000, `${bad} bad lines counted`);
  assert.ok(events > 5_000);
  assert.ok(performance.now() - t0 < 10_000, "no line makes it hang");
});
