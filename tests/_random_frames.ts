/**
 * Random frames for the live view's terminal tests: seeded, each next one keeping most lines of
 * the last, changing some (text or style), sometimes with fewer or more lines.
 *
 * @module
 */
import type { FrameLine } from "../src/output/live_view.ts";

/** A seeded generator (mulberry32), so a failure names the seed that reproduces it. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = [..."ab z09│░▒▓█▁▄…@|"];
const STYLES = [undefined, undefined, "1", "7", "1;31"];

function randomLine(rand: () => number, columns: number): FrameLine {
  const length = Math.floor(rand() * (columns + 1));
  const text = Array.from({ length }, () => CHARS[Math.floor(rand() * CHARS.length)]).join("");
  const style = STYLES[Math.floor(rand() * STYLES.length)];
  return style ? { text, style } : { text };
}

/** A next frame: most lines kept, some changed (text or style), sometimes fewer or more. */
export function nextFrame(
  rand: () => number,
  last: readonly FrameLine[],
  columns: number,
  rows: number,
): FrameLine[] {
  const count = last.length === 0 || rand() < 0.1
    ? rows - Math.floor(rand() * 3)
    : Math.min(last.length, rows);
  return Array.from({ length: count }, (_, i) => {
    const was = last[i];
    if (was === undefined || rand() < 0.2) return randomLine(rand, columns);
    const text = was.text.slice(0, columns);
    if (rand() < 0.05) return { text, style: was.style === "1" ? "7" : "1" };
    return { ...was, text };
  });
}
