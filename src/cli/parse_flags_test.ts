import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { FaultlineError } from "../common/faultline_error.ts";
import { parseFlags } from "./parse_flags.ts";

const SPECS = {
  pid: { type: "string", short: "p" },
  duration: { type: "string", short: "d" },
  json: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  live: { type: "boolean" },
  "no-live": { type: "boolean" },
  version: { type: "boolean", short: "V" },
} as const;

const WORDS = [
  "--pid",
  "-p",
  "5",
  "-5",
  "--pid=5",
  "--pid=",
  "--pid=-5",
  "-p5",
  "-p=5",
  "-q",
  "-qp",
  "-pq",
  "-qd",
  "-qV",
  "-Vq",
  "--quiet",
  "--quiet=1",
  "--bogus",
  "--bogus=2",
  "-x",
  "-qx",
  "--",
  "ls",
  "-",
  "--no-live",
  "--live",
  "--json",
  "a.json",
  "--json=",
  "-d",
  "1.5",
  "--constructor",
];

/** What parseArgs made of `argv` (strict), with faultline's own checks after it, or its error. */
function reference(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: SPECS,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
  } catch (e) {
    const code = (e as { code: string }).code;
    return { error: code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ? /^Unknown flag -/ : /Flag --/ };
  }
  const seen = new Map<string, string>();
  for (const t of parsed.tokens) {
    if (t.kind !== "option" || t.value === undefined) continue;
    if (seen.has(t.name)) return { error: /was given twice/ };
    seen.set(t.name, t.value);
    if (t.value === "") return { error: /not an empty string/ };
  }
  const end = parsed.tokens.find((t) => t.kind === "option-terminator");
  if (parsed.tokens.some((t) => t.kind === "positional" && (!end || t.index < end.index))) {
    return { error: /^Unexpected argument/ };
  }
  return {
    values: { ...parsed.values },
    command: end ? argv.slice(end.index + 1) : undefined,
  };
}

Deno.test("parseFlags reads every command line as Node's parseArgs did (strict)", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let errors = 0;
  for (let round = 0; round < 5000; round++) {
    const argv = Array.from(
      { length: Math.floor(random() * 6) },
      () => WORDS[Math.floor(random() * WORDS.length)]!,
    );
    const want = reference(argv);
    const what = JSON.stringify(argv);
    if (want.error) {
      errors++;
      assert.throws(() => parseFlags(argv, SPECS), (e: unknown) => {
        assert.ok(e instanceof FaultlineError, what);
        assert.match(e.message, want.error, what);
        return true;
      });
    } else {
      const got = parseFlags(argv, SPECS);
      assert.deepEqual(got.values, want.values, what);
      assert.deepEqual(got.command, want.command, what);
    }
  }
  assert.ok(errors > 1000 && errors < 4000, `both outcomes drawn (${errors} errors)`);
});

Deno.test("parseFlags names the flag and the fix in each usage error", () => {
  const message = (argv: string[]) => {
    try {
      parseFlags(argv, SPECS);
    } catch (e) {
      return (e as Error).message;
    }
    return "";
  };
  assert.equal(message(["-qx"]), "Unknown flag -x; run trace.ts --help for the flags");
  assert.equal(message(["--bogus=1"]), "Unknown flag --bogus; run trace.ts --help for the flags");
  assert.equal(message(["--quiet=1"]), "Flag --quiet takes no value; run trace.ts --help");
  assert.equal(message(["-p"]), "Flag --pid needs a value; run trace.ts --help");
  assert.equal(message(["--pid", "--"]), "Flag --pid needs a value; run trace.ts --help");
  assert.equal(
    message(["-qp", "-5"]),
    'Flag --pid needs a value, and "-5" looks like a flag; write --pid=-5 to give it as the value',
  );
  assert.equal(
    message(["-p1", "--pid=2"]),
    'Flag --pid was given twice ("1" and "2"); give it once',
  );
  assert.equal(
    message(["ls", "-q"]),
    'Unexpected argument "ls"; put the command to trace after --, as in trace.ts -- ls',
  );
});
