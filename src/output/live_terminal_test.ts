// deno-lint-ignore-file no-control-regex -- the terminal's escapes are what these tests read
import assert from "node:assert/strict";
import { frameUpdate, type ShownFrame } from "./live_terminal.ts";
import type { FrameLine } from "./live_view.ts";
import { nextFrame, random } from "../../tests/_random_frames.ts";

/**
 * A terminal screen as far as the live view drives it: cursor moves (`ESC[H`, `ESC[R;1H`),
 * `\r\n`, clear to end of line (`ESC[K`), clear below (`ESC[J`), SGR styles (kept with the text
 * they colour, so a style change shows), and printable characters, one cell each.
 */
class Screen {
  cells: string[][];
  #row = 0;
  #col = 0;
  #style = "";

  constructor(readonly columns: number, readonly rows: number, from?: Screen) {
    // What a real terminal keeps across a resize is up to it: here, whatever fits, as garbage
    // the next frame must overwrite.
    this.cells = Array.from(
      { length: rows },
      (_, r) => Array.from({ length: columns }, (_, c) => from?.cells[r]?.[c] ?? "?"),
    );
  }

  write(text: string): void {
    const token = /\x1b\[([\d;]*)([HKJm])|\r\n|[^]/gu;
    for (const m of text.matchAll(token)) {
      if (m[0] === "\r\n") [this.#row, this.#col] = [this.#row + 1, 0];
      else if (m[2] === "H") {
        const [r = 1, c = 1] = (m[1] || "1;1").split(";").map(Number);
        [this.#row, this.#col] = [r - 1, c - 1];
      } else if (m[2] === "K") this.#clear(this.#row, this.#col);
      else if (m[2] === "J") {
        this.#clear(this.#row, this.#col);
        for (let r = this.#row + 1; r < this.rows; r++) this.#clear(r, 0);
      } else if (m[2] === "m") this.#style = m[1] === "0" || m[1] === "" ? "" : m[1]!;
      else {
        assert.ok(
          this.#row < this.rows && this.#col < this.columns,
          `writes inside the screen: ${
            JSON.stringify(m[0])
          } at ${this.#row},${this.#col} of ${this.rows}x${this.columns}`,
        );
        this.cells[this.#row]![this.#col++] = this.#style ? `${this.#style}:${m[0]}` : m[0];
      }
    }
  }

  #clear(row: number, from: number): void {
    for (let c = from; c < this.columns; c++) this.cells[row]![c] = " ";
  }

  /** What a frame of `lines` looks like on a cleared screen of this size. */
  static of(lines: readonly FrameLine[], columns: number, rows: number): string[][] {
    const s = new Screen(columns, rows);
    s.write(`\x1b[H\x1b[J`);
    s.write(lines.map((l) => l.style ? `\x1b[${l.style}m${l.text}\x1b[0m` : l.text).join("\r\n"));
    return s.cells;
  }
}

Deno.test("frameUpdate leaves the screen showing each frame, whatever came before", () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rand = random(seed);
    let [columns, rows] = [20, 8];
    let screen = new Screen(columns, rows);
    let shown: ShownFrame | null = null;
    let frame: FrameLine[] = [];
    for (let step = 0; step < 30; step++) {
      if (rand() < 0.1) {
        // A resize: the terminal's content is then the terminal's business.
        [columns, rows] = [10 + Math.floor(rand() * 20), 4 + Math.floor(rand() * 8)];
        screen = new Screen(columns, rows, screen);
        shown = null;
      }
      frame = nextFrame(rand, frame, columns, rows);
      const update = frameUpdate(shown, frame, { columns, rows });
      screen.write(update.text);
      shown = update.shown;
      assert.deepEqual(screen.cells, Screen.of(frame, columns, rows), `seed ${seed}, step ${step}`);
    }
  }
});

Deno.test("frameUpdate rewrites only the lines that changed", () => {
  const size = { columns: 40, rows: 5 };
  const lines = ["one", "two", "three", "four", "five"].map((text) => ({ text }));
  const first = frameUpdate(null, lines, size);
  assert.match(first.text, /^\x1b\[H/, "the first frame is drawn whole");
  const same = frameUpdate(first.shown, lines.map((l) => ({ ...l })), size);
  assert.equal(same.text, "", "an equal frame writes nothing");
  const changed = lines.map((l, i) => i === 3 ? { text: "FOUR" } : l);
  assert.equal(frameUpdate(same.shown, changed, size).text, "\x1b[4;1HFOUR\x1b[K");
  const restyled = lines.map((l, i) => i === 0 ? { text: "one", style: "7" } : l);
  assert.equal(frameUpdate(same.shown, restyled, size).text, "\x1b[1;1H\x1b[7mone\x1b[0m\x1b[K");
  assert.match(
    frameUpdate(same.shown, lines, { columns: 41, rows: 5 }).text,
    /^\x1b\[H.*\x1b\[J$/s,
    "a new size draws it whole",
  );
  assert.match(
    frameUpdate(same.shown, lines.slice(0, 4), size).text,
    /^\x1b\[H.*\x1b\[J$/s,
    "fewer lines: whole, the rest cleared",
  );
});
