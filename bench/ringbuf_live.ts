/**
 * The ringbuf engine's reader against the live kernel: bench/ring_flood.bpf.o offers records at
 * a set rate (fl_fault_pair records, a fault and its completion each, as a page-fault storm
 * writes them) and faultline's RingbufReader drains them, folding every record into the
 * histograms and the process and mapping tables, as the engine does. Then the same reader
 * reading only each record's kind and timestamp (the C consumer's work), and libbpf's
 * ring_buffer__consume in C. Reports the offered and drained rates and the reserve failures
 * (lost), per rate.
 *
 *   deno run -A bench/ringbuf_live.ts [--ring-size BYTES] [--seconds S] [--rates R,R...]
 *                                     [--live-view [--interval S] --out FILE]   (as root, clang)
 *
 * Goals: no lost events at 5 M events/s offered with the default ring size (issue 3); the
 * same with the live view drawing into a real terminal beside the reader (--live-view, run in
 * a terminal; bench/live_view_tmux.ts runs it in tmux), the table then going to FILE.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Aggregator, attributionTables, DEFAULT_RING_SIZE, EVENT_KINDS } from "../mod.ts";
import { recordKind, recordTimestamp } from "../src/events/event_kind.ts";
import { BpfObjectSpec } from "../src/capture/ringbuf/bpf_object.ts";
import { openLibbpf } from "../src/capture/ringbuf/libbpf.ts";
import { FL_CONFIG } from "../src/capture/ringbuf/ringbuf_engine.ts";
import { RingbufReader } from "../src/capture/ringbuf/ringbuf_reader.ts";
import { Timeline } from "../src/aggregate/timeline.ts";
import { LiveDisplay } from "../src/output/live_display.ts";
import { LiveTerminal } from "../src/output/live_terminal.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "ring-size": { type: "string", default: String(DEFAULT_RING_SIZE) },
    seconds: { type: "string", default: "2" },
    rates: { type: "string", default: "1e6,5e6,10e6,20e6" },
    "live-view": { type: "boolean", default: false },
    interval: { type: "string", default: "0.1" },
    out: { type: "string" },
    json: { type: "string" },
  },
});
const liveView = values["live-view"];
const intervalMs = Number(values.interval) * 1000;
const lines: string[] = [];
const print = (line: string) => values.out === undefined ? console.log(line) : lines.push(line);
const ringSize = Number(values["ring-size"]);
const seconds = Number(values.seconds);
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);
const BATCH = 64;

async function sh(cmd: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, { args, cwd: root, stderr: "inherit" }).output();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
}

await Deno.mkdir(`${root}build`, { recursive: true });
await sh("clang", ["-O2", "-o", "build/ring_flood", "bench/ring_flood.c"]);
await sh("clang", ["-O2", "-o", "build/ring_consumer", "bench/ring_consumer.c", "-lbpf"]);
await sh("clang", [
  "-O2",
  "-g",
  "-target",
  "bpf",
  "-I/usr/include/x86_64-linux-gnu",
  "-c",
  "bench/ring_flood.bpf.c",
  "-o",
  "build/ring_flood.bpf.o",
]);

const lib = openLibbpf();

/** libbpf's ring_buffer__consume in C on the same probes and rate: the native reference. */
async function native(recordsPerSecond: number) {
  const out = await new Deno.Command(`${root}build/ring_consumer`, {
    args: [
      `${root}build/ring_flood.bpf.o`,
      String(ringSize),
      String(recordsPerSecond / BATCH),
      String(seconds),
    ],
    cwd: root,
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /consumed (\d+) lost (\d+) busy_ms ([\d.]+)/.exec(text);
  if (!out.success || !m) throw new Error(`ring_consumer failed: ${text}`);
  return { consumed: Number(m[1]), lost: Number(m[2]), rate: Number(m[1]) / (Number(m[3]) / 1000) };
}

/**
 * One run at `recordsPerSecond`: faultline's reader folding every record as a trace does, or
 * (`headersOnly`) reading each record's kind and timestamp, what the C consumer does.
 */
async function run(recordsPerSecond: number, headersOnly = false) {
  const child = new Deno.Command(`${root}build/ring_flood`, {
    args: [String(recordsPerSecond / BATCH), String(seconds)],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const spec = BpfObjectSpec.open(`${root}build/ring_flood.bpf.o`);
  const config = new Uint8Array(FL_CONFIG.size);
  new DataView(config.buffer).setUint32(FL_CONFIG.target_tgid, child.pid, true);
  spec.setInitialValue(".rodata", config);
  spec.setMaxEntries("events", ringSize);
  const obj = spec.load();
  const reader = new RingbufReader(lib, obj.mapFd("events"));
  obj.attach("flood");
  // As a trace folds them: into the histograms and the process and mapping tables, from the
  // records themselves (bench/ringbuf_decode_bench.ts measures decoding into event objects).
  const agg = new Aggregator(EVENT_KINDS, attributionTables());
  const fold = EVENT_KINDS.recordFolder(agg, agg.recordTap()!);
  let decoded = 0;
  let tally = 0;
  const deliver = headersOnly
    ? (view: DataView, at: number) => {
      tally += recordKind(view, at) + (recordTimestamp(view, at) & 1);
      decoded++;
    }
    : (view: DataView, at: number) => {
      if (fold(view, at)) decoded++;
    };
  let done = false;
  let busyMs = 0;
  // The live view, as trace.ts runs it: every interval a Timeline tick and a frame, in the
  // same thread as the reader.
  const timeline = new Timeline(agg);
  const t0 = performance.now();
  let terminal: LiveTerminal | null = null;
  let display: LiveDisplay | null = null;
  let frames = 0;
  let frameMs = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  if (liveView) {
    terminal = new LiveTerminal({ onKey() {}, onResize: () => display?.redraw() });
    display = new LiveDisplay(terminal, {
      pid: child.pid,
      engine: "ringbuf",
      ringSize,
      commandOutput: null,
      onQuit() {},
    });
    ticker = setInterval(() => {
      const f0 = performance.now();
      display!.update(
        timeline.tick((performance.now() - t0) * 1e6),
        agg,
        reader.pending() / reader.size,
      );
      frameMs += performance.now() - f0;
      frames++;
    }, intervalMs);
  }
  const loop = (async () => {
    while (!done) {
      const t = performance.now();
      reader.read(deliver);
      busyMs += performance.now() - t;
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const w = child.stdin.getWriter();
  await w.write(new Uint8Array([1]));
  await w.close();
  const out = new TextDecoder().decode((await child.output()).stdout);
  done = true;
  await loop;
  clearInterval(ticker);
  terminal?.close();
  obj.detach();
  while (reader.read(deliver) > 0);
  const lost = obj.sumPerCpu("dropped");
  reader.close();
  obj.close();
  if (headersOnly && tally === 0 && decoded > 0) throw new Error("no record was read");
  const [, calls, secs] = /calls (\d+) in ([\d.]+) s/.exec(out)!;
  const offered = Number(calls) * BATCH;
  return {
    offeredRate: offered / Number(secs),
    offered,
    decoded,
    lost,
    drainRate: decoded / (busyMs / 1000),
    frames,
    frameMs: frames ? frameMs / frames : 0,
  };
}

print(
  `ring ${ringSize} bytes, ${seconds} s per rate; records: fl_fault_pair (a fault and its completion: two events each)` +
    (liveView ? `; the live view drawing every ${intervalMs} ms into a terminal` : "") + "\n",
);
print(
  "| offered rate (records) | offered | read and folded | lost | folding: rate while busy | reading headers only: lost, rate while busy | libbpf ring_buffer__consume (C): lost, rate while busy | folding / C | headers only / C |" +
    (liveView ? " frames | ms per frame (tick + state + draw) |" : ""),
);
print(
  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" +
    (liveView ? " ---: | ---: |" : ""),
);
const results: Record<string, number>[] = [];
for (const rate of values.rates.split(",").map(Number)) {
  const r = await run(rate);
  const h = liveView ? null : await run(rate, true);
  const c = await native(rate);
  results.push({
    ...r,
    headersRate: h?.drainRate ?? 0,
    headersLost: h?.lost ?? 0,
    nativeRate: c.rate,
    nativeLost: c.lost,
  });
  const m = (x: number) => `${(x / 1e6).toFixed(2)} M`;
  print(
    `| ${m(r.offeredRate)}/s | ${r.offered} | ${r.decoded} | ${r.lost} | ${m(r.drainRate)}/s |` +
      ` ${h ? `${h.lost}, ${m(h.drainRate)}/s` : "-"} | ${c.lost}, ${m(c.rate)}/s |` +
      ` ${(r.drainRate / c.rate).toFixed(2)}x | ${
        h ? `${(h.drainRate / c.rate).toFixed(2)}x` : "-"
      } |` +
      (liveView ? ` ${r.frames} | ${r.frameMs.toFixed(2)} |` : ""),
  );
}
if (values.out !== undefined) Deno.writeTextFileSync(values.out, lines.join("\n") + "\n");
if (values.json !== undefined) {
  Deno.writeTextFileSync(values.json, JSON.stringify(results, null, 2));
}
