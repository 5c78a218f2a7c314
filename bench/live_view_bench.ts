/**
 * What one frame of the live view costs: building the state from the aggregation, and
 * rendering it, for a busy trace (512 intervals of history, every histogram wide).
 */
import { Aggregator } from "../mod.ts";
import { Timeline } from "../src/aggregate/timeline.ts";
import { LiveDisplay } from "../src/output/live_display.ts";
import { renderLiveView } from "../src/output/live_view.ts";

const agg = new Aggregator();
const timeline = new Timeline(agg);
let seed = 1;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
let sample = timeline.tick(0);
for (let t = 1; t <= 512; t++) {
  for (let i = 0; i < 2000; i++) {
    agg.add({
      kind: "minor_fault",
      pid: 1,
      tid: 1,
      timestampNs: t,
      latencyNs: Math.round(500 * 2 ** (rand() * 12)),
    });
  }
  for (let i = 0; i < 50; i++) {
    agg.add({
      kind: "mmap",
      pid: 1,
      tid: 1,
      timestampNs: t,
      addr: 0n,
      length: Math.round(4096 * 2 ** (rand() * 12)),
      prot: 3,
      flags: 34,
      fd: -1,
      offset: 0,
      ret: 1n << 40n,
      latencyNs: Math.round(600 * 2 ** (rand() * 6)),
    });
    agg.add({
      kind: "munmap",
      pid: 1,
      tid: 1,
      timestampNs: t,
      addr: 0n,
      length: 4096,
      ret: 0,
      latencyNs: Math.round(9000 * 2 ** (rand() * 5)),
    });
  }
  sample = timeline.tick(t * 1e9);
}
const state = {
  target: { pid: 1, name: "bench" },
  engine: "ringbuf",
  elapsedNs: 512e9,
  mode: "cumulative" as const,
  frozen: false,
  help: false,
  lost: 0,
  ringSize: 1 << 26,
  ringFill: 0.01,
  commandOutput: null,
  cumulative: agg.histogramReports(),
  interval: sample.histograms,
  history: timeline.intervals,
};

for (const [columns, rows] of [[120, 40], [250, 70]] as const) {
  Deno.bench(`renderLiveView() of a ${columns}x${rows} frame`, { group: "frame" }, () => {
    renderLiveView(state, columns, rows);
  });
}

Deno.bench("LiveDisplay.update(): one interval taken, state built and drawn (120x40)", {
  group: "frame",
}, () => {
  const display = new LiveDisplay({ size: () => ({ columns: 120, rows: 40 }), draw() {} }, {
    pid: 1,
    engine: "ringbuf",
    ringSize: 1 << 26,
    commandOutput: null,
    onQuit() {},
  });
  display.update(sample, agg, 0.01);
});

Deno.bench("Timeline.tick(): one interval measured (snapshot and difference)", () => {
  // Something happened in it (one fault): the snapshot copies what changed.
  agg.add({ kind: "minor_fault", pid: 1, tid: 1, timestampNs: 1, latencyNs: 1500 });
  timeline.tick(1e12);
});

Deno.bench("Timeline.tick(): a quiet interval (nothing happened: nothing copied)", () => {
  timeline.tick(1e12);
});
