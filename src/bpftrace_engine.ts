/**
 * The bpftrace engine: runs `probes/faultline.bt` in a bpftrace child process and parses the
 * lines it prints into events.
 *
 * @module
 */

import { parseBpftraceLine } from "./bpftrace_line_parser.ts";
import type { AttachOptions, Capture, Engine, EventSink } from "./engine.ts";
import { FaultlineError } from "./faultline_error.ts";
import { findExecutable } from "./find_executable.ts";
import { onlineCpus } from "./online_cpus.ts";

/** The probe script this engine runs. */
export const BPFTRACE_SCRIPT: URL = new URL("../probes/faultline.bt", import.meta.url);

/** bpftrace's harmless complaint under memcg accounting, which is not an error here. */
const NOISE = /couldn't set RLIMIT_MEMLOCK/;
const STDERR_LIMIT = 16 * 1024;

/** Options for {@link BpftraceEngine}. */
export interface BpftraceEngineOptions {
  /** The bpftrace binary; found on PATH when not given. */
  bpftrace?: string;
  /** Pages per CPU of bpftrace's perf output buffer (BPFTRACE_PERF_RB_PAGES); default 1024. */
  perfBufferPages?: number;
  /** How long to wait for the probes to attach, in ms; default 60000. */
  attachTimeoutMs?: number;
}

const BARRIER_TIMEOUT_MS = 5_000;

/**
 * Execs the barrier path once on every online CPU (pinned with taskset) and waits until
 * bpftrace has printed each CPU's S line, so every event queued before it has been read.
 */
async function drainBarrier(
  path: string,
  seen: Set<number>,
  running: () => boolean,
): Promise<void> {
  const taskset = findExecutable("taskset");
  if (taskset === null) return;
  const cpus = onlineCpus();
  await Promise.all(cpus.map((cpu) =>
    new Deno.Command(taskset, {
      args: ["-c", String(cpu), path],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output()
  ));
  const deadline = performance.now() + BARRIER_TIMEOUT_MS;
  while (running() && cpus.some((c) => !seen.has(c))) {
    if (performance.now() > deadline) {
      throw new FaultlineError(
        `Cannot drain bpftrace's buffers: its barrier lines from CPUs ${
          cpus.filter((c) => !seen.has(c)).join(",")
        } never came`,
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Where tracefs must be for the tracepoints to be found. */
const TRACEFS_EVENTS = "/sys/kernel/tracing/events/syscalls";

/**
 * The bpftrace capture engine.
 *
 * @example Usage
 * ```ts ignore
 * import { BpftraceEngine } from "./bpftrace_engine.ts";
 * const engine = new BpftraceEngine();
 * await engine.preflight();
 * const capture = await engine.attach({ pid: 1234, armOnExec: false }, {
 *   event: (e) => console.log(e.kind),
 *   lost: (n) => console.error(`lost ${n}`),
 * });
 * await capture.stop();
 * ```
 */
export class BpftraceEngine implements Engine {
  /** Always `"bpftrace"`. */
  readonly name = "bpftrace";
  #options: BpftraceEngineOptions;

  /** Makes the engine; nothing runs until {@link BpftraceEngine.attach}. */
  constructor(options: BpftraceEngineOptions = {}) {
    this.#options = options;
  }

  #binary(): string {
    const name = this.#options.bpftrace ?? "bpftrace";
    const found = findExecutable(name);
    if (found === null) {
      throw new FaultlineError(
        `Cannot attach probes: bpftrace not found ${
          name.includes("/") ? `at ${name}` : "on PATH"
        }; install it with apt-get install bpftrace`,
      );
    }
    return found;
  }

  /** Checks for root, bpftrace and tracefs. */
  preflight(): Promise<void> {
    const uid = Deno.uid();
    if (uid !== 0) {
      throw new FaultlineError(
        `Cannot attach probes: bpftrace needs root and faultline runs as uid ${uid}; run it as root (sudo)`,
      );
    }
    this.#binary();
    try {
      Deno.statSync(TRACEFS_EVENTS);
    } catch {
      throw new FaultlineError(
        `Cannot attach probes: ${TRACEFS_EVENTS} is missing because tracefs is not mounted; ` +
          `mount it with mount -t tracefs nodev /sys/kernel/tracing`,
      );
    }
    return Promise.resolve();
  }

  /** Starts bpftrace and resolves when its BEGIN probe has run (all probes attached). */
  async attach(options: AttachOptions, sink: EventSink): Promise<Capture> {
    const bpftrace = this.#binary();
    const script = decodeURIComponent(BPFTRACE_SCRIPT.pathname);
    // Short enough for bpftrace's 64-byte strings; unique per trace.
    const barrierPath = `/dev/null/faultline-${crypto.randomUUID().slice(0, 13)}`;
    const args = [script, String(options.pid), options.armOnExec ? "1" : "0", barrierPath];
    // setsid: a Ctrl-C at the terminal reaches faultline, not bpftrace, which faultline stops
    // only once its buffers are drained. setpriv: the kernel sends bpftrace SIGTERM if
    // faultline dies, even by SIGKILL. Both are util-linux, on every Debian system.
    const wrappers = [
      ...(findExecutable("setsid") ? ["setsid"] : []),
      ...(findExecutable("setpriv") ? ["setpriv", "--pdeathsig", "SIGTERM"] : []),
    ];
    const argv = [...wrappers, ...(wrappers.length ? ["--"] : []), bpftrace, ...args];
    const child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { BPFTRACE_PERF_RB_PAGES: String(this.#options.perfBufferPages ?? 1024) },
    }).spawn();

    let stderr = "";
    const stderrDone = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        if (stderr.length < STDERR_LIMIT) stderr += chunk;
      }
    })();
    const errorText = () =>
      stderr.split("\n").filter((l) => l.trim() !== "" && !NOISE.test(l)).join("; ");

    const barriersSeen = new Set<number>();
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => markReady = resolve);
    const pid = options.pid;
    const stdoutDone = (async () => {
      const decoder = new TextDecoder();
      let rest = "";
      for await (const chunk of child.stdout) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          const parsed = parseBpftraceLine(line, pid);
          if (parsed.type === "event") sink.event(parsed.event);
          else if (parsed.type === "lost") sink.lost(parsed.count);
          else if (parsed.type === "ready") markReady();
          else if (parsed.type === "barrier") barriersSeen.add(parsed.cpu);
        }
      }
    })();

    let stopping = false;
    const ended = (async () => {
      const [status] = await Promise.all([child.status, stdoutDone, stderrDone]);
      if (!status.success && !stopping) {
        throw new FaultlineError(
          `Cannot trace pid ${pid}: bpftrace exited with status ${status.code}` +
            (errorText() ? `: ${errorText()}` : ""),
        );
      }
    })();

    const timeoutMs = this.#options.attachTimeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([
      ready.then(() => "ready" as const),
      ended.then(() => "ended" as const, (e: unknown) => e),
      timedOut,
    ]);
    clearTimeout(timer);
    if (outcome !== "ready") {
      stopping = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await ended.catch(() => {});
      if (outcome instanceof Error) throw outcome;
      throw new FaultlineError(
        outcome === "timeout"
          ? `Cannot attach probes: bpftrace did not attach within ${timeoutMs} ms`
          : `Cannot attach probes: bpftrace exited before attaching` +
            (errorText() ? `: ${errorText()}` : ""),
      );
    }

    let running = true;
    ended.finally(() => running = false).catch(() => {});
    const stop = async () => {
      if (!stopping) {
        stopping = true;
        let barrierError: unknown = null;
        if (running) {
          try {
            await drainBarrier(barrierPath, barriersSeen, () => running);
          } catch (e) {
            barrierError = e;
          }
        }
        try {
          // SIGINT makes bpftrace detach, run END and exit.
          child.kill("SIGINT");
        } catch { /* already exited */ }
        const killer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* gone */ }
        }, 10_000);
        await ended.catch(() => {}).finally(() => clearTimeout(killer));
        if (barrierError) throw barrierError;
      }
      await ended.catch(() => {});
    };
    return { engine: this.name, stop, ended };
  }
}
