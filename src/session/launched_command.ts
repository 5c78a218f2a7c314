/**
 * Launches a command stopped just before its exec, so probes can attach to its pid first and
 * count from the exec on, the way `perf stat CMD` does.
 *
 * @module
 */

import { constants } from "node:os";
import { FaultlineError } from "../common/faultline_error.ts";
import { findExecutable } from "../common/find_executable.ts";
import { execProblem } from "./exec_check.ts";
import { processState } from "../common/process_state.ts";

/**
 * The launcher: `sh` stops itself, then execs the command. The script is fixed; the command and
 * its arguments reach exec as positional parameters ("$@"), never parsed by the shell.
 */
const LAUNCHER = 'kill -STOP "$$" && exec "$@"';
/** The launcher when the command's output goes to a file: $1 is the file. */
const LAUNCHER_TO_FILE = 'exec </dev/null >>"$1" 2>&1 && shift && kill -STOP "$$" && exec "$@"';

/** Options for {@link LaunchedCommand.start}. */
export interface LaunchOptions {
  /** A file the command's stdout and stderr are appended to (its stdin is then /dev/null). */
  output?: string;
}

/**
 * The shell-style exit status of a finished process: its code, or 128 + signal number (the
 * numbers from node:os, every signal).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitStatusOf } from "./launched_command.ts";
 * assert.equal(exitStatusOf({ success: false, code: 1, signal: "SIGTERM" }), 143);
 * assert.equal(exitStatusOf({ success: false, code: 1, signal: "SIGSYS" }), 159);
 * assert.equal(exitStatusOf({ success: false, code: 3, signal: null }), 3);
 * ```
 */
export function exitStatusOf(status: Deno.CommandStatus): number {
  if (status.signal !== null) {
    return 128 + ((constants.signals as Record<string, number>)[status.signal] ?? 0);
  }
  return status.code;
}

/** A command started with its stdin, stdout and stderr, held stopped before its exec. */
export class LaunchedCommand {
  /** Its pid, the same before and after the exec. */
  readonly pid: number;
  /** The command line as given. */
  readonly argv: string[];
  #child: Deno.ChildProcess;
  /** Resolves with the exit status (code, or 128 + signal) once the command has ended. */
  readonly exited: Promise<number>;

  private constructor(argv: string[], child: Deno.ChildProcess) {
    this.argv = argv;
    this.#child = child;
    this.pid = child.pid;
    this.exited = child.status.then(exitStatusOf);
  }

  /**
   * Starts `argv` stopped before its exec. Fails with a FaultlineError if the program cannot be
   * found or is not executable.
   */
  static async start(argv: string[], options: LaunchOptions = {}): Promise<LaunchedCommand> {
    const program = argv[0];
    if (program === undefined || program === "") {
      throw new FaultlineError("Cannot start the command: it is empty; give one after --");
    }
    const path = findExecutable(program);
    if (path === null) {
      throw new FaultlineError(
        `Cannot start command "${program}": ${
          program.includes("/") ? "no executable file at that path" : "not found on PATH"
        }; check its spelling and that it is installed and executable`,
      );
    }
    const problem = execProblem(path);
    if (problem !== null) {
      throw new FaultlineError(`Cannot start command "${program}": ${problem}`);
    }
    const launcher = options.output === undefined
      ? ["/bin/sh", "-c", LAUNCHER, "faultline", ...argv]
      : ["/bin/sh", "-c", LAUNCHER_TO_FILE, "faultline", options.output, ...argv];
    // The kernel kills the launcher, stopped or not, and the command it becomes (the setting
    // survives exec), if faultline dies: nothing it launched outlives it, even after SIGKILL.
    const setpriv = findExecutable("setpriv");
    const argv0 = setpriv ?? launcher[0]!;
    const child = new Deno.Command(argv0, {
      args: setpriv ? ["--pdeathsig", "SIGKILL", "--", ...launcher] : launcher.slice(1),
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const launched = new LaunchedCommand(argv, child);
    // Wait until the launcher has stopped itself, so the exec cannot have happened yet.
    for (let i = 0; i < 5000; i++) {
      const state = processState(child.pid);
      if (state === "T") return launched;
      if (state === null || state === "Z") break;
      await new Promise((r) => setTimeout(r, 1));
    }
    launched.kill("SIGKILL");
    const status = await launched.exited;
    throw new FaultlineError(
      `Cannot start command "${program}": its launcher exited (${status})`,
    );
  }

  /** Lets the command run: the launcher execs it. */
  resume(): void {
    this.kill("SIGCONT");
  }

  /** Sends the command a signal; does nothing if it has already ended. */
  kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
  }
}
