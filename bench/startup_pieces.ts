/**
 * One trace of /bin/true through the library, timed in pieces: prints one JSON line
 * `{ load, attach, exit }` in ms (module load; probes loaded and attached; the target's exit to
 * the report). Run by bench/quiet_and_quick.ts in a fresh process each time.
 */
const t0 = performance.now();
const { trace, makeEngine } = await import("../mod.ts");
const t1 = performance.now();
let attached = 0;
const report = await trace({
  command: ["/bin/true"],
  engine: makeEngine("ringbuf"),
  onAttached: () => attached = performance.now(),
});
const t2 = performance.now();
console.log(JSON.stringify({
  load: t1 - t0,
  attach: attached - t1,
  exit: t2 - attached - report.duration_ns / 1e6,
}));
