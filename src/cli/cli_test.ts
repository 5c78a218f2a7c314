import assert from "node:assert/strict";
import { parseCli } from "../../trace.ts";
import { EXIT_USAGE, FaultlineError } from "../../mod.ts";

function usage(argv: string[], message: RegExp): void {
  assert.throws(() => parseCli(argv), (e: unknown) => {
    assert.ok(e instanceof FaultlineError);
    assert.equal(e.exitCode, EXIT_USAGE);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("parseCli() reads --pid and the report flags", () => {
  const o = parseCli([
    "--pid",
    "1234",
    "--duration",
    "2.5",
    "--json",
    "r.json",
    "--csv",
    "r.csv",
    "--events-csv",
    "e.csv",
  ]);
  assert.equal(o.pid, 1234);
  assert.equal(o.durationSeconds, 2.5);
  assert.equal(o.json, "r.json");
  assert.equal(o.csv, "r.csv");
  assert.equal(o.eventsCsv, "e.csv");
  assert.equal(o.engine, undefined, "the default: ringbuf, falling back to bpftrace");
  assert.equal(o.command, undefined);
});

Deno.test("parseCli() takes everything after -- as the command, flags included", () => {
  const o = parseCli(["-q", "--", "./w", "--pid", "x y", "-- z"]);
  assert.deepEqual(o.command, ["./w", "--pid", "x y", "-- z"]);
  assert.equal(o.pid, undefined);
  assert.equal(o.quiet, true);
});

Deno.test("parseCli() names the bad value in one sentence for every usage error", () => {
  usage(["--bogus"], /^Unknown flag --bogus; run trace.ts --help for the flags$/);
  usage(["--pid", "abc"], /^Cannot trace pid "abc": a pid is a positive integer$/);
  usage(["--pid", "0"], /pid "0"/);
  usage(["--pid", "-5"], /./);
  usage(["--pid"], /--pid needs a value/);
  usage([], /^Nothing to trace/);
  usage(["--"], /command after -- is empty/);
  usage(["--pid", "1", "--", "ls"], /both --pid and a command/);
  usage(["ls"], /^Unexpected argument "ls"; put the command to trace after --/);
  usage(["--pid", "1", "--duration", "soon"], /^Cannot trace for "soon" seconds/);
  usage(["--pid", "1", "--duration", "0"], /"0" seconds/);
  usage(
    ["--pid", "1", "--engine", "dtrace"],
    /^Unknown engine "dtrace"; --engine takes ringbuf or bpftrace$/,
  );
  usage(
    ["--pid", "1", "--ring-size", "4095"],
    /^Cannot use a ring of "4095" bytes: --ring-size takes a power of two/,
  );
  usage(["--pid", "1", "--ring-size", "2x"], /"2x" bytes/);
  usage(["--pid", "1", "--ring-size", String(2 ** 31)], /power of two from 4096 to 1073741824/);
  usage(
    ["--pid", "1", "--engine", "bpftrace", "--ring-size", "65536"],
    /^Flag --ring-size sizes the ringbuf engine's ring; drop it or use --engine ringbuf$/,
  );
});

Deno.test("parseCli() reads --engine and --ring-size", () => {
  const o = parseCli(["--engine", "ringbuf", "--ring-size", "1048576", "--", "ls"]);
  assert.equal(o.engine, "ringbuf");
  assert.equal(o.ringSize, 1048576);
  assert.equal(parseCli(["-e", "bpftrace", "--pid", "3"]).engine, "bpftrace");
});

Deno.test("parseCli() answers --help and --version before anything else", () => {
  assert.equal(parseCli(["--help"]).help, true);
  assert.equal(parseCli(["-V", "--bogus-later"].slice(0, 1)).version, true);
});

Deno.test("parseCli() reads the targets beside --pid: --cgroup, --all, --no-children, --by", () => {
  const c = parseCli(["--cgroup", "system.slice", "--by", "mapping", "--mappings-csv", "m.csv"]);
  assert.deepEqual([c.cgroup, c.by, c.mappingsCsv, c.children], [
    "system.slice",
    "mapping",
    "m.csv",
    true,
  ]);
  const a = parseCli(["--all", "-d", "1"]);
  assert.deepEqual([a.all, a.pid, a.command], [true, undefined, undefined]);
  const n = parseCli(["--no-children", "--by", "process", "--", "make"]);
  assert.deepEqual([n.children, n.by, n.command], [false, "process", ["make"]]);
});

Deno.test("parseCli() takes exactly one target, and says which two were given", () => {
  usage(["--pid", "1", "--all"], /^Cannot trace both --pid and --all; give one of them$/);
  usage(["--cgroup", "x", "--", "ls"], /^Cannot trace both --cgroup and a command/);
  usage(["--all", "--cgroup", "x"], /both --cgroup and --all/);
  usage(
    ["--all", "--no-children"],
    /^Flag --no-children applies to --pid or a command; --all traces/,
  );
  usage(["--pid", "1", "--by", "file"], /^Unknown --by "file"; --by takes process or mapping$/);
  usage(["--all=yes"], /--all takes no value/);
});
