/**
 * The bpftrace engine's capture: one bpftrace process running probes/faultline.bt, its lines
 * parsed into the sink, drained through a per-CPU barrier and stopped with SIGINT.
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { findExecutable } from "../../common/find_executable.ts";
import type { EventKindTable } from "../../events/event_kinds.ts";
import type { Capture, EventSink } from "../engine.ts";
import { onlineCpus } from "../online_cpus.ts";
import { parseBpftraceLine } from "./bpftrace_line_parser.ts";

/** bpftrace's harmless complaint under memcg accounting, which is not an error here. */
const NOISE = /couldn't set RLIMIT_MEMLOCK/;
const STDERR_LIMIT = 16 * 1024;
const BARRIER_TIMEOUT_MS = 5_000;
/** How long a window or barrier line is waited for before its signal is sent again. */
const RESEND_MS = 250;
const KILL_AFTER_MS = 10_000;

/** What a {@link BpftraceCapture} runs. */
export interface BpftraceCaptureOptions {
  /** The bpftrace binary. */
  bpftrace: string;
  /** The probe script. */
  script: string;
  /** The process traced. */
  pid: number;
  /** Count from the process's execve. */
  armOnExec: boolean;
  /** Trace what traced processes fork. */
  children: boolean;
  /** MODE 1: trace the processes of this cgroup id. */
  cgroupId?: number;
  /** MODE 2: trace every process but faultline. */
  all?: boolean;
  /** Pages per CPU of bpftrace's perf buffer. */
  perfBufferPages: number;
  /** The kinds its lines parse as. */
  kinds: EventKindTable;
  /** Where events go. */
  sink: EventSink;
}

/** A running bpftrace and the reading of its output. */
export class BpftraceCapture implements Capture {
  /** Always `"bpftrace"`. */
  readonly engine = "bpftrace";
  /** Resolves when bpftrace has exited and its output is read; rejects if it failed alone. */
  readonly ended: Promise<void>;
  readonly #child: Deno.ChildProcess;
  readonly #pid: number;
  readonly #barrierPath: string;
  readonly #barriersSeen = new Set<number>();
  /** The barrier helpers running (taskset): their own events are faultline's, not the trace's. */
  readonly #helpers = new Set<number>();
  #window: boolean | null = null;
  #stderr = "";
  #ready!: () => void;
  readonly #readyPromise = new Promise<void>((r) => this.#ready = r);
  #running = true;
  #stopping = false;
  #stopped: Promise<void> | null = null;

  /** Starts bpftrace; {@link BpftraceCapture.attached} waits for its probes. */
  constructor(options: BpftraceCaptureOptions) {
    this.#pid = options.pid;
    // Short enough for bpftrace's 64-byte strings; unique per trace.
    this.#barrierPath = `/dev/null/faultline-${crypto.randomUUID().slice(0, 13)}`;
    const args = [
      options.script,
      String(options.pid),
      options.armOnExec ? "1" : "0",
      this.#barrierPath,
      `${this.#barrierPath}-open`,
      `${this.#barrierPath}-close`,
      options.all ? "2" : options.cgroupId !== undefined ? "1" : "0",
      options.children ? "1" : "0",
      String(options.cgroupId ?? 0),
      String(options.all ? Deno.pid : 0),
    ];
    // setsid: a Ctrl-C at the terminal reaches faultline, not bpftrace, which faultline stops
    // only once its buffers are drained. setpriv: the kernel sends bpftrace SIGTERM if
    // faultline dies, even by SIGKILL. Both are util-linux, on every Debian system.
    const wrappers = [
      ...(findExecutable("setsid") ? ["setsid"] : []),
      ...(findExecutable("setpriv") ? ["setpriv", "--pdeathsig", "SIGTERM"] : []),
    ];
    const argv = [...wrappers, ...(wrappers.length ? ["--"] : []), options.bpftrace, ...args];
    this.#child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { BPFTRACE_PERF_RB_PAGES: String(options.perfBufferPages) },
    }).spawn();
    this.ended = this.#run(options.kinds, options.sink);
    this.ended.finally(() => this.#running = false).catch(() => {});
  }

  async #run(kinds: EventKindTable, sink: EventSink): Promise<void> {
    const [status] = await Promise.all([
      this.#child.status,
      this.#readStdout(kinds, sink),
      this.#readStderr(),
    ]);
    if (!status.success && !this.#stopping) {
      throw new FaultlineError(
        `Cannot trace pid ${this.#pid}: bpftrace exited with status ${status.code}` +
          (this.#errorText() ? `: ${this.#errorText()}` : ""),
      );
    }
  }

  async #readStdout(kinds: EventKindTable, sink: EventSink): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of this.#child.stdout) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const parsed = parseBpftraceLine(line, kinds);
        if (parsed.type === "event") {
          const e = parsed.event;
          if (!this.#helpers.has(e.pid)) sink.event(e);
          else if (e.kind === "process_exit") this.#helpers.delete(e.pid);
        } else if (parsed.type === "lost") sink.lost(parsed.count);
        else if (parsed.type === "ready") this.#ready();
        else if (parsed.type === "barrier") this.#barriersSeen.add(parsed.cpu);
        else if (parsed.type === "window") this.#window = parsed.open;
        // A line the contract does not allow stood for an event that cannot be read: lost.
        else if (parsed.type === "bad") sink.lost(1);
      }
    }
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.#child.stderr.pipeThrough(new TextDecoderStream())) {
      if (this.#stderr.length < STDERR_LIMIT) this.#stderr += chunk;
    }
  }

  #errorText(): string {
    return this.#stderr.split("\n").filter((l) => l.trim() !== "" && !NOISE.test(l)).join("; ");
  }

  #kill(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch { /* already exited */ }
  }

  /**
   * Resolves once bpftrace's BEGIN has run (every probe attached); otherwise kills it and
   * throws why (it exited, with its error, or did not attach within `timeoutMs`).
   */
  async attached(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([
      this.#readyPromise.then(() => "ready" as const),
      this.ended.then(() => "ended" as const, (e: unknown) => e),
      timedOut,
    ]);
    clearTimeout(timer);
    if (outcome === "ready") {
      // Every probe is attached: open the window, at one instant for all of them.
      try {
        await this.#setWindow(true);
        return;
      } catch (e) {
        this.#stopping = true;
        this.#kill("SIGKILL");
        await this.ended.catch(() => {});
        throw e;
      }
    }
    this.#stopping = true;
    this.#kill("SIGKILL");
    await this.ended.catch(() => {});
    if (outcome instanceof Error) throw outcome;
    throw new FaultlineError(
      outcome === "timeout"
        ? `Cannot attach probes: bpftrace did not attach within ${timeoutMs} ms`
        : `Cannot attach probes: bpftrace exited before attaching` +
          (this.#errorText() ? `: ${this.#errorText()}` : ""),
    );
  }

  /** Execs the window's open or close path and waits for bpftrace to say it is done. */
  async #setWindow(open: boolean): Promise<void> {
    if (!this.#running) return;
    const path = `${this.#barrierPath}-${open ? "open" : "close"}`;
    await this.#untilSeen(
      async () => {
        try {
          await new Deno.Command(path, { stdin: "null", stdout: "null", stderr: "null" })
            .output();
        } catch { /* the path does not exist: the execve that fails is the signal */ }
      },
      () => this.#window === open,
      () => `Cannot ${open ? "open" : "close"} bpftrace's tracing window: its W line never came`,
    );
  }

  /**
   * Execs the barrier path once on every online CPU (pinned with taskset) and waits until
   * bpftrace has printed each CPU's S line, so every event queued before it has been read.
   */
  async drain(): Promise<void> {
    if (!this.#running) return;
    const taskset = findExecutable("taskset");
    if (taskset === null) return;
    const cpus = onlineCpus();
    const missing = () => cpus.filter((c) => !this.#barriersSeen.has(c));
    this.#barriersSeen.clear();
    await this.#untilSeen(
      () =>
        Promise.all(
          missing().map((cpu) => {
            const helper = new Deno.Command(taskset, {
              args: ["-c", String(cpu), this.#barrierPath],
              stdin: "null",
              stdout: "null",
              stderr: "null",
            }).spawn();
            // Known before any of its lines can be read (they come through this same event loop).
            this.#helpers.add(helper.pid);
            // One whose exit line never came (the window was closed) is not kept for ever.
            if (this.#helpers.size > 1024) {
              this.#helpers.delete(this.#helpers.values().next().value!);
            }
            return helper.status;
          }),
        ).then(() => {}),
      () => missing().length === 0,
      () =>
        `Cannot drain bpftrace's buffers: its barrier lines from CPUs ${
          missing().join(",")
        } never came`,
    );
  }

  /**
   * Runs `signal` until `seen` holds, waiting for bpftrace's line between tries. The line
   * travels through the same per-CPU buffers as the events, so a full buffer can lose it
   * (bpftrace then says "Lost N events"): the signal is sent again after RESEND_MS, which is
   * harmless, since every signal sets a state or marks a CPU seen.
   */
  async #untilSeen(
    signal: () => Promise<void>,
    seen: () => boolean,
    failure: () => string,
  ): Promise<void> {
    const deadline = performance.now() + BARRIER_TIMEOUT_MS;
    while (this.#running && !seen()) {
      await signal();
      const resend = performance.now() + RESEND_MS;
      while (this.#running && !seen() && performance.now() < resend) {
        if (performance.now() > deadline) throw new FaultlineError(failure());
        await new Promise((r) => setTimeout(r, 2));
      }
      if (performance.now() > deadline && !seen()) throw new FaultlineError(failure());
    }
  }

  /** Drains, then stops bpftrace with SIGINT (SIGKILL if it hangs) and waits for it. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      let drainError: unknown = null;
      try {
        // Close the window before anything goes, so no kind is counted longer than another.
        await this.#setWindow(false);
        await this.drain();
      } catch (e) {
        drainError = e;
      }
      this.#stopping = true;
      // SIGINT makes bpftrace detach, run END and exit.
      this.#kill("SIGINT");
      const killer = setTimeout(() => this.#kill("SIGKILL"), KILL_AFTER_MS);
      await this.ended.catch(() => {}).finally(() => clearTimeout(killer));
      if (drainError) throw drainError;
    })();
    return this.#stopped;
  }
}
