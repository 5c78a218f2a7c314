/** How fast the bpftrace engine turns probe lines into events (bpftrace itself tops out near 150k/s). */
import { parseBpftraceLine } from "../src/capture/bpftrace/bpftrace_line_parser.ts";

const lines = [
  "U 6855 6855 851845779261 140002676183040 94094297421520 6",
  "n 6855 6855 851845797871 851845779261",
  "m 6855 6855 851845768941 2299 0 5918720 3 34 -1 0 140002676183040",
  "u 6855 6855 851845864934 3522 140002676183040 5918720 0",
];

Deno.bench("parseBpftraceLine() x 100k lines", () => {
  for (let i = 0; i < 100_000; i++) parseBpftraceLine(lines[i & 3]!);
});
