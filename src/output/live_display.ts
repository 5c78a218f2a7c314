/**
 * The live view as it runs: it takes each interval from the trace, keeps the state a frame
 * shows (live_view.ts draws it), answers the keys and redraws on every interval, key and
 * resize, on a terminal (live_terminal.ts) or any other screen given to it.
 *
 * @module
 */

import type { SummaryBy } from "./attribution_tables.ts";
import type { Aggregator } from "../aggregate/aggregator.ts";
import type { IntervalReport, IntervalSample } from "../aggregate/timeline.ts";
import type { FrameLine, LiveViewState } from "./live_view.ts";
import { renderLiveView } from "./live_view.ts";
import { processName } from "../common/process_state.ts";

/** Where frames go: a {@link LiveTerminal}, or a test's stand-in. */
export interface LiveScreen {
  /** The screen's size now. */
  size(): { columns: number; rows: number };
  /** Shows a frame. */
  draw(lines: readonly FrameLine[]): void;
}

/** What the display shows that the intervals do not carry. */
export interface LiveDisplayOptions {
  /** The traced process. */
  pid: number;
  /** What is traced when it is not one process (pid 0): `cgroup /sys/...`, `all processes`. */
  title?: string;
  /** Show the busiest processes or the mappings with the most faults first (`--by`). */
  by?: SummaryBy;
  /** The capture engine's name. */
  engine: string;
  /** The ringbuf engine's ring size, for the lost-events hint; null for bpftrace. */
  ringSize: number | null;
  /** Where a launched command's output goes, shown in the header. */
  commandOutput: string | null;
  /** Asked to stop tracing (q or Ctrl-C). */
  onQuit(): void;
}

/** Intervals kept for the sparklines and the heatmap: wider than any terminal. */
const HISTORY = 512;

/**
 * The running live view.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { Aggregator } from "../aggregate/aggregator.ts";
 * import { Timeline } from "../aggregate/timeline.ts";
 * import { LiveDisplay } from "./live_display.ts";
 * const frames: string[][] = [];
 * const screen = { size: () => ({ columns: 100, rows: 30 }), draw: (l: readonly { text: string }[]) => frames.push(l.map((x) => x.text)) };
 * let quit = false;
 * const display = new LiveDisplay(screen, {
 *   pid: Deno.pid, engine: "ringbuf", ringSize: 1 << 26, commandOutput: null, onQuit: () => quit = true,
 * });
 * const agg = new Aggregator();
 * const timeline = new Timeline(agg);
 * agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 900 });
 * display.update(timeline.tick(1e9), agg);
 * assert.match(frames.at(-1)!.join("\n"), /fault latency {2}n 1 /);
 * display.key("c");
 * assert.match(frames.at(-1)![1]!, /histograms: last interval/);
 * display.key("q");
 * assert.ok(quit);
 * ```
 */
export class LiveDisplay {
  readonly #screen: LiveScreen;
  readonly #options: LiveDisplayOptions;
  readonly #state: LiveViewState;
  readonly #history: IntervalReport[] = [];
  #lastFrameMs = 0;
  #aggregator: Aggregator | null = null;

  /** Starts showing on `screen`, with an empty frame until the first interval. */
  constructor(screen: LiveScreen, options: LiveDisplayOptions) {
    this.#screen = screen;
    this.#options = options;
    this.#state = {
      target: {
        pid: options.pid,
        name: options.pid > 0 ? processName(options.pid) ?? "?" : options.title ?? "?",
      },
      engine: options.engine,
      elapsedNs: 0,
      mode: "cumulative",
      frozen: false,
      help: false,
      table: options.by ?? "histograms",
      lost: 0,
      ringSize: options.ringSize,
      ringFill: null,
      commandOutput: options.commandOutput,
      cumulative: {},
      interval: {},
      history: this.#history,
    };
    this.redraw();
  }

  /** How long the last frame took to build and write, in ms. */
  get lastFrameMs(): number {
    return this.#lastFrameMs;
  }

  /** Takes one interval; redraws unless frozen. `fill` is the engine's buffer fill, if known. */
  update(sample: IntervalSample, aggregator: Aggregator, fill: number | null = null): void {
    this.#history.push(sample.interval);
    if (this.#history.length > HISTORY) this.#history.splice(0, this.#history.length - HISTORY);
    if (this.#state.frozen) return;
    const s = this.#state;
    if (this.#options.pid > 0) s.target.name = processName(this.#options.pid) ?? s.target.name;
    s.elapsedNs = sample.interval.start_ns + sample.interval.duration_ns;
    s.lost = aggregator.lost;
    s.ringFill = fill;
    s.cumulative = aggregator.histogramReports(s.cumulative);
    s.interval = sample.histograms;
    s.history = [...this.#history];
    this.#aggregator = aggregator;
    this.#refreshTable();
    this.redraw();
  }

  /** Shows `message` (an output that failed while tracing goes on) on the third line. */
  warn(message: string): void {
    this.#state.warning = message;
    this.redraw();
  }

  /**
   * Answers a key: q or Ctrl-C stop, space freezes, c toggles, p and m show a table, h or ?
   * shows the help, Ctrl-L draws the frame again (whole, when the screen forgot it).
   */
  key(key: string): void {
    const s = this.#state;
    if (key === "q" || key === "\x03") {
      this.#options.onQuit();
      return;
    }
    if (s.help) s.help = false;
    else if (key === " ") {
      s.frozen = !s.frozen;
      if (!s.frozen) s.history = [...this.#history];
    } else if (key === "c") s.mode = s.mode === "cumulative" ? "interval" : "cumulative";
    else if (key === "p" || key === "m") {
      const table = key === "p" ? "process" : "mapping";
      s.table = s.table === table ? "histograms" : table;
      this.#refreshTable();
    } else if (key === "h" || key === "?") s.help = true;
    else if (key !== "\x0c") return;
    this.redraw();
  }

  /** Reads the shown table (processes or mappings) from the aggregation, its top rows only. */
  #refreshTable(): void {
    const s = this.#state;
    const agg = this.#aggregator;
    if (agg === null || s.table === "histograms" || s.table === undefined) return;
    const top = Math.max(1, this.#screen.size().rows);
    s.who = s.table === "process"
      ? { processes: agg.processes?.report(top) }
      : { mappings: agg.mappings?.report(top, (pid) => agg.processes?.commandOf(pid) ?? null) };
  }

  /** Draws the current state for the screen's current size. */
  redraw(): void {
    const t0 = performance.now();
    const { columns, rows } = this.#screen.size();
    this.#screen.draw(renderLiveView(this.#state, columns, rows));
    this.#lastFrameMs = performance.now() - t0;
  }
}
