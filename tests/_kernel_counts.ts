/**
 * What the kernel's own tools count for a command: strace -c's syscall counts and perf stat's
 * fault counts, the references faultline's counts are held to.
 *
 * @module
 */

import assert from "node:assert/strict";

/** Runs `tool` with the arguments `args` makes of a temporary output file, and returns that file. */
async function outputOf(tool: string, args: (file: string) => string[]): Promise<string> {
  const file = Deno.makeTempFileSync();
  const out = await new Deno.Command(tool, { args: args(file), stdout: "null", stderr: "null" })
    .output();
  assert.ok(out.success, `${tool} ran`);
  const text = Deno.readTextFileSync(file);
  Deno.removeSync(file);
  return text;
}

/** strace -c's call counts of `calls` for `argv` (with `follow`, strace -f: every child too). */
export async function straceCounts(
  argv: string[],
  calls: readonly string[],
  options: { follow?: boolean } = {},
): Promise<Record<string, number>> {
  const text = await outputOf("strace", (file) => [
    ...(options.follow ? ["-f"] : []),
    "-c",
    "-e",
    `trace=${calls.join(",")}`,
    "-o",
    file,
    "--",
    ...argv,
  ]);
  const counts: Record<string, number> = Object.fromEntries(calls.map((c) => [c, 0]));
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const name = f[f.length - 1]!;
    if (name in counts) counts[name] = Number(f[3]);
  }
  return counts;
}

/**
 * perf stat's counts of `events` for `argv`: the command and every child, as perf stat counts
 * by default, or (`inherit: false`, perf stat --no-inherit) the command alone.
 */
export async function perfStat(
  argv: string[],
  events: readonly string[],
  options: { inherit?: boolean } = {},
): Promise<Record<string, number>> {
  const text = await outputOf("perf", (file) => [
    "stat",
    ...(options.inherit === false ? ["--no-inherit"] : []),
    "-x",
    ",",
    "-e",
    events.join(","),
    "-o",
    file,
    "--",
    ...argv,
  ]);
  const counts: Record<string, number> = {};
  for (const name of events) {
    const line = text.split("\n").find((l) => l.split(",")[2] === name);
    assert.ok(line, `perf stat printed ${name}: ${text}`);
    counts[name] = Number(line.split(",")[0]);
  }
  return counts;
}

/** perf stat's minor-faults and major-faults for `argv` (options as {@link perfStat}). */
export async function perfCounts(
  argv: string[],
  options: { inherit?: boolean } = {},
): Promise<{ minor: number; major: number }> {
  const c = await perfStat(argv, ["minor-faults", "major-faults"], options);
  return { minor: c["minor-faults"]!, major: c["major-faults"]! };
}

/**
 * The range of perf stat's counts over `runs` runs of `argv`: what the command's own
 * run-to-run variation spans (a process tree's fork timing moves its faults by a dozen or more).
 */
export async function perfRange(
  argv: string[],
  runs: number,
  options: { inherit?: boolean } = {},
): Promise<{ minor: [number, number]; major: [number, number] }> {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await perfCounts(argv, options));
  const span = (values: number[]): [number, number] => [Math.min(...values), Math.max(...values)];
  return { minor: span(all.map((c) => c.minor)), major: span(all.map((c) => c.major)) };
}
