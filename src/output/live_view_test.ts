import assert from "node:assert/strict";
import { Aggregator } from "../aggregate/aggregator.ts";
import { Timeline } from "../aggregate/timeline.ts";
import { type LiveViewState, renderLiveView } from "./live_view.ts";

function state(overrides: Partial<LiveViewState> = {}): LiveViewState {
  const agg = new Aggregator();
  const timeline = new Timeline(agg);
  let sample = timeline.tick(0);
  for (let t = 1; t <= 30; t++) {
    // Faults only in the last interval, and slow ones only in the 10th.
    const n = t === 30 ? 500 : 0;
    for (let i = 0; i < n; i++) {
      agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: t, latencyNs: 1000 + i });
    }
    if (t === 10) {
      agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: t, latencyNs: 5_000_000 });
    }
    sample = timeline.tick(t * 1e9);
  }
  return {
    target: { pid: 77, name: "w" },
    engine: "ringbuf",
    elapsedNs: 30e9,
    mode: "cumulative",
    frozen: false,
    help: false,
    lost: 0,
    ringSize: 1 << 26,
    ringFill: 0.5,
    commandOutput: null,
    cumulative: agg.histogramReports(),
    interval: sample.histograms,
    history: timeline.intervals,
    ...overrides,
  };
}

Deno.test("renderLiveView() fits every terminal size from the minimum up", () => {
  const s = state({ target: { pid: 77, name: "a-very-long-process-name" }, lost: 5 });
  for (let columns = 64; columns <= 220; columns += 13) {
    for (let rows = 20; rows <= 80; rows += 7) {
      const lines = renderLiveView(s, columns, rows);
      assert.ok(lines.length <= rows, `${lines.length} lines in ${columns}x${rows}`);
      for (const l of lines) assert.ok([...l.text].length <= columns, `${columns}: ${l.text}`);
    }
  }
});

Deno.test("renderLiveView() says what it needs in a terminal too small", () => {
  const lines = renderLiveView(state(), 40, 10);
  assert.match(lines.map((l) => l.text).join(" "), /at least 64x20; this one is 40x10/);
  assert.ok(lines.every((l) => [...l.text].length <= 40));
  assert.ok(renderLiveView(state(), 10, 2).length <= 2);
});

Deno.test("The heatmap puts the newest interval on the right, the slowest slot on top", () => {
  const tall = renderLiveView(state(), 100, 80).map((l) => l.text);
  const title = tall.findIndex((l) => l.startsWith("fault latency heatmap"));
  assert.match(tall[title + 1]!, /^\[4M, 8M\) +│/, "one row per slot when they fit");
  const row = tall.find((l) => l.startsWith("[1K, 2K)"))!;
  assert.ok(row, tall.join("\n"));
  assert.equal(row.trimEnd().at(-1), "█", "the last interval's faults in the last column");
  assert.equal(row.trimEnd().at(-2), " ", "none the interval before");
  // Fewer rows than slots: rows take neighbouring slots, and the slow fault stays in view.
  const lines = renderLiveView(state(), 100, 40).map((l) => l.text);
  const slow = lines[lines.findIndex((l) => l.startsWith("fault latency heatmap")) + 1]!;
  assert.match(slow, /^\[\d+M, 8M\) +│/, "the top row ends at the slow fault's slot");
  const cells = slow.slice(slow.indexOf("│") + 1, slow.indexOf("│") + 1 + (100 - 13 - 1));
  assert.equal(cells.length - 1 - cells.lastIndexOf("░"), 20, "20 intervals from the right");
  assert.match(lines.join("\n"), /faults per interval: ░ 1/);
});

Deno.test("Lost events get a red line with the ring-size hint; the header has the ring fill", () => {
  const lines = renderLiveView(state({ lost: 1234 }), 120, 40);
  assert.match(lines[0]!.text, /lost 1\.23k │ ring 50%/);
  assert.equal(lines[2]!.style, "1;31");
  assert.match(lines[2]!.text, /^LOST 1234 events: .*larger --ring-size \(now 64 MiB\)/);
  const bpftrace = renderLiveView(state({ lost: 3, ringSize: null, ringFill: null }), 120, 40);
  assert.doesNotMatch(bpftrace[0]!.text, /ring \d/);
  assert.match(bpftrace[2]!.text, /the engine's buffer overflowed/);
});

Deno.test("The histograms show the mode the header names; help replaces them", () => {
  const cumulative = renderLiveView(state(), 120, 40).map((l) => l.text).join("\n");
  assert.match(cumulative, /^histograms: cumulative/m);
  assert.match(cumulative, /fault latency {2}n 501 /);
  const interval = renderLiveView(state({ mode: "interval" }), 120, 40).map((l) => l.text);
  assert.match(interval[1]!, /^histograms: last interval/);
  assert.match(interval.join("\n"), /fault latency {2}n 500 /);
  const help = renderLiveView(state({ help: true }), 120, 40).map((l) => l.text).join("\n");
  assert.match(help, /space {7}freeze the display/);
  assert.doesNotMatch(help, /fault latency {2}n/);
  const frozen = renderLiveView(state({ frozen: true }), 120, 40);
  assert.match(frozen[1]!.text, /FROZEN/);
});

Deno.test("A process name with control characters is drawn escaped", () => {
  const lines = renderLiveView(state({ target: { pid: 9, name: "x\x1b]0;t\x07y" } }), 120, 40);
  assert.match(lines[0]!.text, /pid 9 \(x\\e\]0;t\\x07y\)/);
  // deno-lint-ignore no-control-regex
  assert.ok(lines.every((l) => !/[\x00-\x08\x0b-\x1f\x7f]/.test(l.text)));
});

Deno.test("A rate's sparkline shows the last intervals it has room for, scaled among them", () => {
  // 600 intervals: a large burst long ago, then 1, 2, 3... faults in the last few.
  const agg = new Aggregator();
  const timeline = new Timeline(agg);
  for (let t = 1; t <= 600; t++) {
    const n = t === 50 ? 10_000 : t > 590 ? t - 590 : 0;
    for (let i = 0; i < n; i++) {
      agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: t, latencyNs: 1000 });
    }
    timeline.tick(t * 1e9);
  }
  const s = state({ history: timeline.intervals, cumulative: agg.histogramReports() });
  const line = renderLiveView(s, 120, 40).map((l) => l.text).find((l) => l.startsWith("minor"))!;
  // 120 columns: three cells of 40, a sparkline of 23; the burst is out of it, so the last
  // interval (10 faults) is the full bar and the nine before rise to it.
  const spark = /^minor +10 (.{23})/u.exec(line)?.[1];
  assert.equal(spark, `${" ".repeat(13)}▁▂▃▄▄▅▆▇██`);
});
