/**
 * The command line read against a table of flags, the way Node's `parseArgs` reads it in strict
 * mode (long flags with `=VALUE` or the next argument, short flags, groups such as `-qd 5`,
 * everything after `--` kept as it is), with usage errors that name the flag and the fix.
 * faultline reads its flags here rather than through `node:util`: loading Node's compatibility
 * layer for one function took 13-18 ms of every start.
 *
 * @module
 */

import { usageError } from "../common/faultline_error.ts";

/** One flag: a string takes a value, a boolean none. */
export interface FlagSpec {
  /** Whether the flag takes a value. */
  readonly type: "string" | "boolean";
  /** Its one-letter form, without the dash. */
  readonly short?: string;
}

/** The values read, by long name: a string flag's value, `true` for a boolean given. */
export type FlagValues<S extends Record<string, FlagSpec>> = {
  [K in keyof S]?: S[K]["type"] extends "boolean" ? boolean : string;
};

/** What {@link parseFlags} read. */
export interface ParsedFlags<S extends Record<string, FlagSpec>> {
  /** Each flag given, by long name. */
  values: FlagValues<S>;
  /** The arguments after `--`, or undefined when there was no `--`. */
  command: string[] | undefined;
}

/** A flag as read: its long name, what the user wrote, and its value. */
interface FlagToken {
  name: string;
  value: string | undefined;
}

/**
 * Reads `argv` (without the program name) against `specs`. Throws a usage FaultlineError for an
 * unknown flag, a boolean given a value, a string flag without one (or whose next argument
 * looks like a flag: `--pid=-5` gives it), a flag given twice or given an empty value, and an
 * argument before `--` that is no flag's value.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./parse_flags.ts";
 * const specs = {
 *   pid: { type: "string", short: "p" },
 *   quiet: { type: "boolean", short: "q" },
 * } as const;
 * const { values, command } = parseFlags(["-qp", "42", "--", "ls", "-l"], specs);
 * assert.deepEqual(values, { quiet: true, pid: "42" });
 * assert.deepEqual(command, ["ls", "-l"]);
 * assert.deepEqual(parseFlags(["--pid=-5"], specs).values, { pid: "-5" });
 * assert.throws(() => parseFlags(["--pid", "-5"], specs), /write --pid=-5/);
 * assert.throws(() => parseFlags(["-x"], specs), /^FaultlineError: Unknown flag -x/);
 * ```
 */
export function parseFlags<S extends Record<string, FlagSpec>>(
  argv: readonly string[],
  specs: S,
): ParsedFlags<S> {
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);
  const tokens: FlagToken[] = [];
  let stray: string | undefined;
  let command: string[] | undefined;
  /** The value of string flag `name` from the next argument, as parseArgs takes it strictly. */
  const nextValue = (name: string, i: number): string => {
    const next = argv[i];
    if (next === undefined || next === "--") {
      throw usageError(`Flag --${name} needs a value; run trace.ts --help`);
    }
    if (next.length > 1 && next.startsWith("-")) {
      throw usageError(
        `Flag --${name} needs a value, and "${next}" looks like a flag; ` +
          `write --${name}=${next} to give it as the value`,
      );
    }
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      command = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
      if (spec === undefined) {
        throw usageError(`Unknown flag --${name}; run trace.ts --help for the flags`);
      }
      if (spec.type === "boolean") {
        if (eq >= 0) throw usageError(`Flag --${name} takes no value; run trace.ts --help`);
        tokens.push({ name, value: undefined });
      } else if (eq >= 0) tokens.push({ name, value: arg.slice(eq + 1) });
      else tokens.push({ name, value: nextValue(name, ++i) });
      continue;
    }
    if (arg.length > 1 && arg.startsWith("-")) {
      // -q, -p 5, -p5, -qp 5: letters until the first one that takes a value, which takes
      // the rest of the argument, or the next argument when it is last.
      for (let at = 1; at < arg.length; at++) {
        const name = byShort.get(arg[at]!);
        if (name === undefined) {
          throw usageError(`Unknown flag -${arg[at]}; run trace.ts --help for the flags`);
        }
        if (specs[name]!.type === "boolean") tokens.push({ name, value: undefined });
        else {
          const rest = arg.slice(at + 1);
          tokens.push({ name, value: rest !== "" ? rest : nextValue(name, ++i) });
          break;
        }
      }
      continue;
    }
    stray ??= arg;
  }
  // A flag given twice is a mistake to point at, not a choice to make silently.
  const seen = new Map<string, string>();
  const values: Record<string, string | boolean> = {};
  for (const t of tokens) {
    if (t.value === undefined) {
      values[t.name] = true;
      continue;
    }
    const before = seen.get(t.name);
    if (before !== undefined) {
      throw usageError(
        `Flag --${t.name} was given twice ("${before}" and "${t.value}"); give it once`,
      );
    }
    seen.set(t.name, t.value);
    if (t.value === "") throw usageError(`Flag --${t.name} needs a value, not an empty string`);
    values[t.name] = t.value;
  }
  if (stray !== undefined) {
    throw usageError(
      `Unexpected argument "${stray}"; put the command to trace after --, as in trace.ts -- ${stray}`,
    );
  }
  return { values: values as FlagValues<S>, command };
}
