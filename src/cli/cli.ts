/**
 * The faultline CLI behind trace.ts: it parses flags, calls {@link trace}, prints and writes
 * the report. Each value's rule lives with the code it is for (checkPid, checkDuration,
 * checkRingSize); the CLI only turns text into values and errors into exit statuses.
 *
 * @module
 */

import {
  ENGINE_NAMES,
  type EngineName,
  EXIT_RUNTIME,
  FaultlineError,
  formatSummary,
  makeEngine,
  reportToCsv,
  trace,
  usageError,
} from "../../mod.ts";
import { checkRingSize } from "../capture/ringbuf/ringbuf_engine.ts";
import { ioReason, OutputFile, resolvedPath } from "../output/output_file.ts";
import { DEFAULT_RING_SIZE } from "../capture/ringbuf/ringbuf_engine.ts";
import { formatIntervalSnapshot } from "../output/interval_snapshot.ts";
import type { LiveDisplay } from "../output/live_display.ts";
import { LiveTerminal } from "../output/live_terminal.ts";
import { type ListenAddress, MetricsServer, parseListenAddress } from "../output/metrics_server.ts";
import type { MetricsTarget } from "../output/prometheus_metrics.ts";
import { Aggregator } from "../aggregate/aggregator.ts";
import { EVENT_KINDS } from "../events/event_kinds.ts";
import { BY_NAMES, mappingsToCsv, type SummaryBy } from "../output/attribution_tables.ts";
import { processName } from "../common/process_state.ts";
import { intervalsToCsv } from "../output/intervals_csv.ts";
import {
  attributionTables,
  checkDuration,
  checkInterval,
  checkPid,
} from "../session/trace_session.ts";
import { escapeText } from "../common/escape_text.ts";
import { type FlagSpec, parseFlags } from "./parse_flags.ts";

/** faultline's version. */
export const VERSION = "0.1.0";

/** The --help text. */
export const HELP = `faultline ${VERSION}: trace a process's mmap, munmap and page faults with eBPF

Usage:
  deno run -A trace.ts [OPTIONS] --pid PID
  deno run -A trace.ts [OPTIONS] -- CMD [ARGS...]
  deno run -A trace.ts [OPTIONS] --cgroup PATH | --all

Target (exactly one):
  -p, --pid PID           trace a running process, all of its threads, and every process it
                          forks while traced, until it exits
  -- CMD [ARGS...]        launch CMD and trace it from its exec with every process it forks,
                          at any depth, like perf stat CMD and strace -f; it keeps stdin and
                          stdout, and faultline exits with its exit status
      --cgroup PATH       trace every process in a cgroup v2 directory and below it (a path,
                          or one under the cgroup2 mount: --cgroup system.slice/x.service);
                          the bpftrace engine takes a cgroup with none below it
      --all               trace every process on the system but faultline
      --no-children       with --pid or a command: trace that process alone, not what it
                          forks (like perf stat --no-inherit)

Options:
  -d, --duration SECONDS  stop after SECONDS (a launched command is then sent SIGTERM)
  -e, --engine NAME       capture engine: ringbuf (libbpf, zero-copy ring buffer) or bpftrace;
                          by default ringbuf, falling back to bpftrace (saying why) when it
                          cannot load here
      --ring-size BYTES   ringbuf engine's ring size, a power of two (default 64 MiB)
      --json FILE         write the JSON report (version 1) to FILE
      --csv FILE          write every histogram bucket to FILE: histogram,low,high,count
      --events-csv FILE   stream one CSV row per event to FILE
  -i, --interval SECONDS  print a snapshot of each interval (its counts and histograms, like
                          bpftrace's interval probe); the JSON report's "intervals" and
                          --intervals-csv use it too (default 1; from 0.1)
      --intervals-csv FILE  write the intervals, one CSV row each
      --mappings-csv FILE write the faults by mapping (file, [anon], [heap], [stack]...), one
                          row per mapping of each process: counts, access, latency percentiles
      --by process|mapping  rank the traced processes, or the mappings, by faults in the
                          summary (top 20; the top 5 processes are shown whenever there are
                          several)
      --html FILE         write the HTML report (one self-contained page: charts, heatmap, tables)
      --metrics [HOST:]PORT  serve /metrics in the Prometheus text format while tracing
                          (host 127.0.0.1 unless given)
      --live              a full-screen view, redrawn every interval: histograms, a fault-latency
                          heatmap, rates (keys: q quit, space freeze, c cumulative/interval,
                          p processes, m mappings, h help, Ctrl-L redraw); the default for
                          --pid, --cgroup and --all when stdout is a terminal. A command's
                          stdout and stderr then go to --command-output (a temp file by default)
      --no-live           no live view; with --interval, plain snapshots instead
      --command-output FILE  append a launched command's stdout and stderr to FILE (its stdin
                          is then /dev/null)
  -q, --quiet             print no summary
  -h, --help              print this help
  -V, --version           print the version

Tracing ends when the target exits (a command: when it exits, as perf stat ends; --cgroup and
--all: never), the duration passes, or on Ctrl-C, SIGTERM or SIGHUP;
the probes are detached and the reports written whole either way (a second Ctrl-C kills a
command that does not exit). The summary goes to stdout, or to stderr when a command is
traced (its stdout stays its own). Needs root.
Exit status: the command's, or 0; 1 on a runtime error or when an output could not be
written; 2 on a usage error.
`;

/** What the command line asked for. */
export interface CliOptions {
  /** Print help and exit. */
  help: boolean;
  /** Print the version and exit. */
  version: boolean;
  /** --pid. */
  pid?: number;
  /** The command after `--`. */
  command?: string[];
  /** --cgroup. */
  cgroup?: string;
  /** --all. */
  all?: boolean;
  /** --no-children: false; else true. */
  children: boolean;
  /** --by. */
  by?: SummaryBy;
  /** --mappings-csv. */
  mappingsCsv?: string;
  /** --duration in seconds. */
  durationSeconds?: number;
  /** --engine, or undefined for the default. */
  engine?: EngineName;
  /** --ring-size. */
  ringSize?: number;
  /** --json. */
  json?: string;
  /** --csv. */
  csv?: string;
  /** --events-csv. */
  eventsCsv?: string;
  /** --interval in seconds, when given. */
  intervalSeconds?: number;
  /** --intervals-csv. */
  intervalsCsv?: string;
  /** --html. */
  html?: string;
  /** --metrics, read. */
  metrics?: ListenAddress;
  /** --live (true), --no-live (false), or neither. */
  live?: boolean;
  /** --command-output. */
  commandOutput?: string;
  /** --quiet. */
  quiet: boolean;
}

/**
 * Parses the command line (without the program name). Throws a usage FaultlineError naming
 * the bad flag or value.
 */
export function parseCli(argv: string[]): CliOptions {
  const { values, command } = parseFlags(argv, OPTIONS);
  const options: CliOptions = {
    help: values.help === true,
    version: values.version === true,
    quiet: values.quiet === true,
    json: values.json,
    csv: values.csv,
    eventsCsv: values["events-csv"],
    intervalsCsv: values["intervals-csv"],
    html: values.html,
    mappingsCsv: values["mappings-csv"],
    commandOutput: values["command-output"],
    children: !values["no-children"],
  };
  if (options.help || options.version) return options;
  if (values.live && values["no-live"]) {
    throw usageError("Cannot use both --live and --no-live; give one of them");
  }
  if (values.live || values["no-live"]) options.live = values.live === true;
  if (command) options.command = command;
  if (values.pid !== undefined) {
    options.pid = integer(values.pid);
    checkPid(options.pid, `"${values.pid}"`);
  }
  if (values.cgroup !== undefined) options.cgroup = values.cgroup;
  if (values.all) options.all = true;
  const targets = [
    options.pid !== undefined && "--pid",
    options.cgroup !== undefined && "--cgroup",
    options.all && "--all",
    options.command !== undefined && "a command",
  ].filter((t): t is string => typeof t === "string");
  if (targets.length > 1) {
    throw usageError(`Cannot trace both ${targets.join(" and ")}; give one of them`);
  }
  if (targets.length === 0) {
    throw usageError(
      "Nothing to trace: give --pid PID, --cgroup PATH, --all or -- CMD ARGS...; run trace.ts --help",
    );
  }
  if (!options.children && options.pid === undefined && options.command === undefined) {
    throw usageError(
      `Flag --no-children applies to --pid or a command; ${targets[0]} traces every process in it`,
    );
  }
  if (values.by !== undefined) {
    if (!(BY_NAMES as readonly string[]).includes(values.by)) {
      throw usageError(`Unknown --by "${values.by}"; --by takes ${BY_NAMES.join(" or ")}`);
    }
    options.by = values.by as SummaryBy;
  }
  if (options.command !== undefined && options.command.length === 0) {
    throw usageError("Nothing to trace: the command after -- is empty");
  }
  if (values.duration !== undefined) {
    options.durationSeconds = decimal(values.duration);
    checkDuration(options.durationSeconds, `"${values.duration}"`);
  }
  if (values.interval !== undefined) {
    options.intervalSeconds = decimal(values.interval);
    checkInterval(options.intervalSeconds, `"${values.interval}"`);
  }
  if (values.metrics !== undefined) options.metrics = parseListenAddress(values.metrics);
  if (values.engine !== undefined) {
    if (!(ENGINE_NAMES as readonly string[]).includes(values.engine)) {
      throw usageError(
        `Unknown engine "${values.engine}"; --engine takes ${ENGINE_NAMES.join(" or ")}`,
      );
    }
    options.engine = values.engine as EngineName;
  }
  const ring = values["ring-size"];
  if (ring !== undefined) {
    if (options.engine === "bpftrace") {
      throw usageError(
        "Flag --ring-size sizes the ringbuf engine's ring; drop it or use --engine ringbuf",
      );
    }
    options.ringSize = integer(ring);
    checkRingSize(options.ringSize, `"${ring}"`);
  }
  return options;
}

/** A decimal number (`2`, `0.5`, `1e3`), or NaN (which every check refuses) for anything else. */
function decimal(text: string): number {
  return /^[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?$/i.test(text.trim()) ? Number(text) : NaN;
}

/** A decimal integer, or NaN (which every check refuses) for anything else. */
function integer(text: string): number {
  return /^[0-9]+$/.test(text) ? Number(text) : NaN;
}

const OPTIONS = {
  pid: { type: "string", short: "p" },
  duration: { type: "string", short: "d" },
  engine: { type: "string", short: "e" },
  "ring-size": { type: "string" },
  json: { type: "string" },
  csv: { type: "string" },
  "events-csv": { type: "string" },
  interval: { type: "string", short: "i" },
  "intervals-csv": { type: "string" },
  html: { type: "string" },
  metrics: { type: "string" },
  live: { type: "boolean" },
  "no-live": { type: "boolean" },
  "command-output": { type: "string" },
  cgroup: { type: "string" },
  all: { type: "boolean" },
  "no-children": { type: "boolean" },
  by: { type: "string" },
  "mappings-csv": { type: "string" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const satisfies Record<string, FlagSpec>;

/** The sentence for running without Deno's permissions. */
const PERMISSIONS_MESSAGE =
  "Cannot run without Deno's permissions: it reads /proc, loads libbpf and runs bpftrace; " +
  "run it as deno run -A trace.ts";

/** Throws the permissions sentence unless every permission faultline uses is granted. */
function requirePermissions(): void {
  const names = ["read", "write", "run", "ffi", "env", "sys"] as const;
  if (names.some((name) => Deno.permissions.querySync({ name }).state !== "granted")) {
    throw new FaultlineError(PERMISSIONS_MESSAGE);
  }
}

/** The last component of a path. */
function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Whether `e` is Deno refusing an operation for want of a permission flag. */
function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied &&
      /--allow-|permission/i.test((e as Error).message);
}

/** The files a run writes, checked before tracing: each writable, no two the same. */
function checkOutputs(cli: CliOptions): Map<string, OutputFile> {
  const named: [string, string | undefined, string][] = [
    ["--json", cli.json, "the JSON report"],
    ["--csv", cli.csv, "the histogram CSV"],
    ["--intervals-csv", cli.intervalsCsv, "the intervals CSV"],
    ["--html", cli.html, "the HTML report"],
    ["--mappings-csv", cli.mappingsCsv, "the mappings CSV"],
    ["--events-csv", cli.eventsCsv, "the events CSV"],
    ["--command-output", cli.commandOutput, "the command's output"],
  ];
  const given = named.filter(([, path]) => path !== undefined) as [string, string, string][];
  const byPath = new Map<string, string>();
  for (const [flag, path] of given) {
    const real = resolvedPath(path);
    const other = byPath.get(real);
    if (other !== undefined && !real.startsWith("/dev/")) {
      throw usageError(
        `Cannot write ${other} and ${flag} to the same file ${path}; give each its own`,
      );
    }
    byPath.set(real, flag);
  }
  const files = new Map<string, OutputFile>();
  for (const [flag, path, what] of given) {
    if (flag !== "--command-output") files.set(flag, OutputFile.check(path, what));
  }
  return files;
}

/**
 * Prints to stdout or stderr, never throwing: the first failure (stdout closed, a full disk)
 * is said once on stderr and remembered, so the reports are still written and the exit status
 * says something failed.
 */
class Printer {
  failed: string | null = null;
  readonly #encoder = new TextEncoder();

  print(text: string, toStderr: boolean): void {
    const out = toStderr ? Deno.stderr : Deno.stdout;
    try {
      const bytes = this.#encoder.encode(text.endsWith("\n") ? text : text + "\n");
      let off = 0;
      while (off < bytes.length) off += out.writeSync(bytes.subarray(off));
    } catch (e) {
      if (this.failed !== null) return;
      this.failed = `Cannot write to ${toStderr ? "stderr" : "stdout"}: ${ioReason(e)}`;
      if (!toStderr) this.print(`faultline: ${this.failed}; the reports are still written`, true);
    }
  }
}

/** Runs the CLI and returns its exit status. */
export async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const force = new AbortController();
  // SIGINT, SIGTERM and SIGHUP (a closed terminal) all stop the trace, reports written; a
  // second one kills a command that does not exit.
  const onSignal = () => controller.signal.aborted ? force.abort() : controller.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const out = new Printer();
  const failures: string[] = [];
  // The view, once open, is closed (the terminal given back) before anything else is printed.
  let closeView = () => {};
  let closeServer: () => Promise<void> | undefined = () => undefined;
  try {
    const cli = parseCli(argv);
    if (!cli.help && !cli.version) requirePermissions();
    if (cli.help) {
      out.print(HELP, false);
      return 0;
    }
    if (cli.version) {
      out.print(`faultline ${VERSION}`, false);
      return 0;
    }
    const files = checkOutputs(cli);
    const attached = cli.command === undefined;
    const live = cli.live ?? (attached && !cli.quiet && LiveTerminal.available());
    if (live && !LiveTerminal.available()) {
      throw usageError(
        "Cannot show the live view: stdout is not a terminal; drop --live, or use --interval SECONDS for plain snapshots",
      );
    }
    const commandOutput = cli.command && live
      ? cli.commandOutput ??
        Deno.makeTempFileSync({ prefix: "faultline-command-", suffix: ".log" })
      : cli.commandOutput;
    const toStderr = cli.command !== undefined;
    let terminal: LiveTerminal | null = null;
    let display: LiveDisplay | null = null;
    closeView = () => {
      (terminal as LiveTerminal | null)?.close();
      display = null;
    };
    const engine = makeEngine(cli.engine, {
      ringSize: cli.ringSize,
      onFallback: (reason, fallback) =>
        out.print(
          `faultline: ringbuf engine unavailable (${escapeText(reason)}); using ${fallback}`,
          true,
        ),
    });
    // The metrics endpoint reads the aggregation as tracing goes on; it listens before
    // tracing starts, so a taken port is said at once.
    const aggregator = new Aggregator(EVENT_KINDS, attributionTables());
    let metricsTarget: MetricsTarget | null = null;
    // Modules only some runs use are loaded by those runs (each costs every start otherwise).
    const { metricsText } = cli.metrics === undefined
      ? { metricsText: null }
      : await import("../output/prometheus_metrics.ts");
    const { LiveDisplay } = live
      ? await import("../output/live_display.ts")
      : { LiveDisplay: null };
    const { reportToHtml } = files.has("--html")
      ? await import("../output/html_report.ts")
      : { reportToHtml: null };
    const server = cli.metrics === undefined ? null : MetricsServer.start(
      cli.metrics,
      () => metricsTarget === null ? "" : metricsText!(aggregator, metricsTarget),
    );
    closeServer = () => server?.close();
    if (server && !cli.quiet) out.print(`faultline: serving metrics at ${server.url}`, true);
    let lostShownAt = -Infinity;
    let intervals = 0;
    let startedAt = new Date();
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    const report = await trace({
      pid: cli.pid,
      command: cli.command,
      cgroup: cli.cgroup,
      all: cli.all,
      children: cli.children,
      durationSeconds: cli.durationSeconds,
      intervalSeconds: cli.intervalSeconds,
      commandOutput,
      onInterval: live
        ? (sample, aggregator, capture) =>
          (display as LiveDisplay | null)?.update(sample, aggregator, capture.fill?.() ?? null)
        : cli.intervalSeconds !== undefined && !cli.quiet
        ? (sample) => out.print(formatIntervalSnapshot(sample, ++intervals, startedAt), toStderr)
        : undefined,
      engine,
      aggregator,
      eventsCsv: cli.eventsCsv,
      signal: controller.signal,
      forceStop: force.signal,
      onNotice: (message) => {
        closeView();
        out.print(message, true);
      },
      onOutputError: (error) => {
        failures.push(error.message);
        if (display) (display as LiveDisplay).warn(error.message);
        else out.print(`faultline: ${escapeText(error.message)}`, true);
      },
      onLost: (total) => {
        if (live) return; // the view shows it
        const now = performance.now();
        if (now - lostShownAt >= 1000) {
          lostShownAt = now;
          out.print(`faultline: LOST ${total} events so far`, true);
        }
      },
      onAttached: (pid) => {
        startedAt = new Date();
        const name = cli.command
          ? basename(cli.command[0]!)
          : pid > 0
          ? processName(pid) ?? String(pid)
          : cli.all
          ? "all"
          : cli.cgroup!;
        metricsTarget = { pid, command: name };
        const what = pid > 0 ? `pid ${pid}` : cli.all ? "every process" : `cgroup ${cli.cgroup}`;
        if (live) {
          terminal = new LiveTerminal({
            onKey: (key) => (display as LiveDisplay | null)?.key(key),
            onResize: () => (display as LiveDisplay | null)?.redraw(),
          });
          display = new LiveDisplay!(terminal, {
            pid,
            title: what,
            by: cli.by,
            engine: engine.name,
            ringSize: engine.name === "ringbuf" ? cli.ringSize ?? DEFAULT_RING_SIZE : null,
            commandOutput: commandOutput ?? null,
            onQuit: () => controller.abort(),
          });
          // An output that failed before the view opened (the events CSV at its first write).
          if (failures.length > 0) (display as LiveDisplay).warn(failures.at(-1)!);
        } else if (!cli.quiet) {
          out.print(
            `faultline: tracing ${escapeText(what)} with ${engine.name}` +
              (cli.durationSeconds ? ` for ${cli.durationSeconds}s` : "") + "; Ctrl-C to end",
            true,
          );
        }
      },
    });
    closeView();
    // Each report on its own: one that cannot be written does not keep the others from disk.
    const written: string[] = [];
    const contents: [string, () => string][] = [
      ["--json", () => JSON.stringify(report, null, 2) + "\n"],
      ["--csv", () => reportToCsv(report)],
      ["--intervals-csv", () => intervalsToCsv(report)],
      ["--html", () => reportToHtml!(report)],
      ["--mappings-csv", () => mappingsToCsv(report)],
    ];
    for (const [flag, text] of contents) {
      const file = files.get(flag);
      if (file === undefined) continue;
      try {
        file.write(text());
        written.push(file.path);
      } catch (e) {
        if (!(e instanceof FaultlineError)) throw e;
        failures.push(e.message);
        out.print(`faultline: ${escapeText(e.message)}`, true);
      }
    }
    if (cli.eventsCsv !== undefined && !failures.some((f) => f.includes("the events CSV"))) {
      written.push(cli.eventsCsv);
    }
    if (!cli.quiet) {
      out.print(
        formatSummary(report, { by: cli.by }) +
          (written.length ? `\nfaultline: wrote ${written.map(escapeText).join(", ")}` : ""),
        toStderr,
      );
    }
    if (live && commandOutput !== undefined) {
      out.print(`faultline: the command's output is in ${escapeText(commandOutput)}`, true);
    }
    if (failures.length > 0 || out.failed !== null) return EXIT_RUNTIME;
    return report.exit_status ?? 0;
  } catch (e) {
    closeView();
    if (e instanceof FaultlineError) {
      out.print(`faultline: ${escapeText(e.message)}`, true);
      return e.exitCode;
    }
    if (isPermissionError(e)) {
      out.print(`faultline: ${PERMISSIONS_MESSAGE}`, true);
      return EXIT_RUNTIME;
    }
    out.print(`faultline: unexpected error: ${(e as Error).stack ?? e}`, true);
    return EXIT_RUNTIME;
  } finally {
    closeView();
    await closeServer();
    for (const s of signals) {
      try {
        Deno.removeSignalListener(s, onSignal);
      } catch { /* not added */ }
    }
  }
}
