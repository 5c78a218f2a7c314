/**
 * What the overhead benches share: their two workloads, and paired rounds (every row run once
 * after an untraced run, each ratio set against the untraced run made beside it).
 */
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** A workload that times itself: its argv, its name for a table, and what to remove after. */
export interface BenchWorkload {
  argv: string[];
  name: string;
  /** The argv with the temporary file and the repository path taken out, for JSON. */
  shown: string[];
  cleanup(): void;
}

/**
 * `mmap_touch MAPS PAGES` (one pattern: first touches of anonymous memory), or `mixed_load`
 * with 4 threads x 200 rounds (small anonymous maps, a 64-page shared file, mprotect, madvise).
 */
export function benchWorkload(mixed: boolean, maps = "2000", pages = "64"): BenchWorkload {
  if (!mixed) {
    const argv = [`${root}build/mmap_touch`, maps, pages];
    return {
      argv,
      name: `mmap_touch ${maps} ${pages} (${Number(maps) * Number(pages)} first-touch faults)`,
      shown: ["build/mmap_touch", maps, pages],
      cleanup() {},
    };
  }
  const file = Deno.makeTempFileSync({ dir: "/var/tmp", prefix: "faultline-mixed-" });
  return {
    argv: [`${root}build/mixed_load`, file, "4", "200", "64"],
    name:
      "mixed_load 4 threads x 200 rounds (small anonymous maps, a 64-page shared file, mprotect, madvise)",
    shown: ["build/mixed_load", "FILE", "4", "200", "64"],
    cleanup() {
      try {
        Deno.removeSync(file);
      } catch { /* mixed_load unlinks it itself */ }
    },
  };
}

/** The workload's own time, from the ", N ms" ending its output. */
export function workloadMs(text: string): number {
  const m = /, ([\d.]+) ms$/m.exec(text);
  if (!m) throw new Error(`the workload printed no time: ${text}`);
  return Number(m[1]);
}

/**
 * Runs `rows` (the first one untraced) `rounds` times, round by round; each row's times, and
 * each time over that round's untraced time.
 */
export async function pairedRounds(
  rows: readonly (() => Promise<number>)[],
  rounds: number,
): Promise<{ times: number[][]; ratios: number[][] }> {
  const times = rows.map(() => [] as number[]);
  const ratios = rows.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    let base = 0;
    for (const [i, run] of rows.entries()) {
      const ms = await run();
      if (i === 0) base = ms;
      times[i]!.push(ms);
      ratios[i]!.push(ms / base);
    }
  }
  return { times, ratios };
}

/** The median (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
