/**
 * Launches a command stopped just before its exec, so probes can attach to its pid first and
 * count from the exec on, the way `perf stat CMD` does.
 *
 * @module
 */

import { FaultlineError } from "../common/faultline_error.ts";
import { findExecutable } from "../common/find_executable.ts";
import { execProblem } from "./exec_check.ts";
import { ChildProcess, isStopStatus } from "../common/child_process.ts";
import { exitStatusOf } from "../events/faultline_event.ts";

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

/** A command started with its stdin, stdout and stderr, held stopped before its exec. */
export class LaunchedCommand {
  /** Its pid, the same before and after the exec. */
  readonly pid: number;
  /** The command line as given. */
  readonly argv: string[];
  #child: ChildProcess;
  /**
   * Resolves once the launcher has stopped itself before the exec; rejects with a
   * FaultlineError if it exited instead.
   */
  readonly stopped: Promise<void>;
  /** Resolves with the exit status (code, or 128 + signal) once the command has ended. */
  readonly exited: Promise<number>;

  private constructor(argv: string[], child: ChildProcess) {
    this.argv = argv;
    this.#child = child;
    this.pid = child.pid;
    // One wait at a time on the child: its stop first (or its end, if it ends first).
    const first = child.wait({ stopped: true });
    this.stopped = first.then((status) => {
      if (isStopStatus(status)) return;
      throw new FaultlineError(
        `Cannot start command "${argv[0]}": its launcher exited (${exitStatusOf(status)})`,
      );
    });
    // Told by whoever awaits it; never an unhandled rejection when no one does.
    this.stopped.catch(() => {});
    this.exited = first.then((status) =>
      isStopStatus(status) ? child.wait().then(exitStatusOf) : exitStatusOf(status)
    );
  }

  /**
   * Starts `argv` and resolves once it is stopped before its exec. Fails with a FaultlineError
   * if the program cannot be found or is not executable, or the launcher exits.
   */
  static async start(argv: string[], options: LaunchOptions = {}): Promise<LaunchedCommand> {
    const launched = LaunchedCommand.spawn(argv, options);
    await launched.stopped;
    return launched;
  }

  /**
   * Starts `argv` to stop before its exec, and returns at once: {@link LaunchedCommand.stopped}
   * tells when it has. Fails with a FaultlineError if the program cannot be found or is not
   * executable.
   */
  static spawn(argv: string[], options: LaunchOptions = {}): LaunchedCommand {
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
    const child = ChildProcess.spawn(
      argv0,
      setpriv ? [argv0, "--pdeathsig", "SIGKILL", "--", ...launcher] : launcher,
    );
    return new LaunchedCommand(argv, child);
  }

  /** Lets the command run: the launcher execs it. */
  resume(): void {
    this.kill("SIGCONT");
  }

  /** Sends the command a signal; does nothing if it has already ended. */
  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }
}
