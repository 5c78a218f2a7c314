/**
 * The ringbuf engine's reader against the live kernel: bench/ring_flood.bpf.o offers records at
 * a set rate (fault and done records, as a page-fault storm writes them) and faultline's
 * RingbufReader drains them, decodes every one into an event and aggregates it, as the engine
 * does. Reports the offered and drained rates and the reserve failures (lost), per rate.
 *
 *   deno run -A bench/ringbuf_live.ts [--ring-size BYTES] [--seconds S]      (as root, clang)
 *
 * Goal (issue 3): no lost events at 5 M events/s offered with the default ring size.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Aggregator, DEFAULT_RING_SIZE, EVENT_KINDS } from "../mod.ts";
import { BpfObjectSpec } from "../src/capture/ringbuf/bpf_object.ts";
import { openLibbpf } from "../src/capture/ringbuf/libbpf.ts";
import { FL_CONFIG } from "../src/capture/ringbuf/ringbuf_engine.ts";
import { RingbufReader } from "../src/capture/ringbuf/ringbuf_reader.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "ring-size": { type: "string", default: String(DEFAULT_RING_SIZE) },
    seconds: { type: "string", default: "2" },
  },
});
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

async function run(recordsPerSecond: number) {
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
  const agg = new Aggregator();
  let decoded = 0;
  const deliver = (view: DataView, at: number) => {
    const e = EVENT_KINDS.decodeRecord(view, at, child.pid);
    if (e !== null) {
      agg.add(e);
      decoded++;
    }
  };
  let done = false;
  let busyMs = 0;
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
  obj.detach();
  while (reader.read(deliver) > 0);
  const lost = obj.sumPerCpu("dropped");
  reader.close();
  obj.close();
  const [, calls, secs] = /calls (\d+) in ([\d.]+) s/.exec(out)!;
  const offered = Number(calls) * BATCH;
  return {
    offeredRate: offered / Number(secs),
    offered,
    decoded,
    lost,
    drainRate: decoded / (busyMs / 1000),
  };
}

console.log(
  `ring ${ringSize} bytes, ${seconds} s per rate; records: fl_fault and fl_done alternately\n`,
);
console.log("| offered rate | offered | decoded + aggregated | lost | reader's rate while busy |");
console.log("| ---: | ---: | ---: | ---: | ---: |");
for (const rate of [1e6, 5e6, 10e6, 20e6]) {
  const r = await run(rate);
  const m = (x: number) => `${(x / 1e6).toFixed(2)} M`;
  console.log(
    `| ${m(r.offeredRate)}/s | ${r.offered} | ${r.decoded} | ${r.lost} | ${m(r.drainRate)}/s |`,
  );
}
