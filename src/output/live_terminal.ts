/**
 * The terminal the live view owns while it is open: the alternate screen with the cursor
 * hidden, stdin in raw mode for single keys, redrawn on SIGWINCH, and on every way out
 * (close(), an exception that unwinds past the caller, Deno.exit) given back exactly as it
 * was: main screen, cursor shown, raw mode off (Deno restores the saved termios, so `stty -a`
 * reads as before).
 *
 * @module
 */

import type { FrameLine } from "./live_view.ts";

const ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const LEAVE = "\x1b[0m\x1b[?25h\x1b[?1049l";

/** What the terminal tells its owner. */
export interface LiveTerminalHandlers {
  /** A key (one character, or a control character such as "\x03" for Ctrl-C). */
  onKey(key: string): void;
  /** The terminal changed size. */
  onResize(): void;
}

/** What a terminal shows: each line as written (styles included), for a size. */
export interface ShownFrame {
  /** Each line's text with its style's escapes, top to bottom. */
  readonly lines: readonly string[];
  /** The terminal's width it was drawn for. */
  readonly columns: number;
  /** The terminal's height it was drawn for. */
  readonly rows: number;
}

/**
 * What to write to a terminal showing `shown` (null: unknown, as at first or after a resize)
 * so that it shows `lines` at `size`, and what it shows then. Whole when the size or the
 * number of lines changed; else only the lines that differ, each rewritten in place; empty
 * when none does.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { frameUpdate } from "./live_terminal.ts";
 * const size = { columns: 80, rows: 24 };
 * const first = frameUpdate(null, [{ text: "a" }, { text: "b", style: "1" }], size);
 * assert.equal(first.text, "\x1b[Ha\x1b[K\r\n\x1b[1mb\x1b[0m\x1b[K\x1b[J");
 * const next = frameUpdate(first.shown, [{ text: "a" }, { text: "c" }], size);
 * assert.equal(next.text, "\x1b[2;1Hc\x1b[K");
 * assert.equal(frameUpdate(next.shown, [{ text: "a" }, { text: "c" }], size).text, "");
 * ```
 */
export function frameUpdate(
  shown: ShownFrame | null,
  lines: readonly FrameLine[],
  size: { columns: number; rows: number },
): { text: string; shown: ShownFrame } {
  const styled = lines.map((l) => l.style ? `\x1b[${l.style}m${l.text}\x1b[0m` : l.text);
  const now: ShownFrame = { lines: styled, columns: size.columns, rows: size.rows };
  if (
    shown === null || shown.columns !== size.columns || shown.rows !== size.rows ||
    shown.lines.length !== styled.length
  ) {
    return { text: `\x1b[H${styled.map((l) => l + "\x1b[K").join("\r\n")}\x1b[J`, shown: now };
  }
  let text = "";
  for (let i = 0; i < styled.length; i++) {
    if (styled[i] !== shown.lines[i]) text += `\x1b[${i + 1};1H${styled[i]}\x1b[K`;
  }
  return { text, shown: now };
}

/** Writes all of `bytes` to stdout. */
function writeAll(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** A terminal taken over for the live view. */
export class LiveTerminal {
  readonly #handlers: LiveTerminalHandlers;
  readonly #encoder = new TextEncoder();
  readonly #onWinch = () => {
    // The terminal may have reflowed what it showed: the next frame is drawn whole.
    this.#shown = null;
    this.#handlers.onResize();
  };
  readonly #onUnload = () => this.close();
  #raw = false;
  #open = true;
  #keys: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** The lines on screen as written (styles included) and the size they were drawn for. */
  #shown: ShownFrame | null = null;

  /** Whether stdout is a terminal the view can own. */
  static available(): boolean {
    return Deno.stdout.isTerminal();
  }

  /** Takes the terminal: alternate screen, no cursor, raw keys (when stdin is the terminal). */
  constructor(handlers: LiveTerminalHandlers) {
    this.#handlers = handlers;
    writeAll(this.#encoder.encode(ENTER));
    if (Deno.stdin.isTerminal()) {
      Deno.stdin.setRaw(true);
      this.#raw = true;
      this.#readKeys();
    }
    Deno.addSignalListener("SIGWINCH", this.#onWinch);
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /** The terminal's size now. */
  size(): { columns: number; rows: number } {
    return Deno.consoleSize();
  }

  async #readKeys(): Promise<void> {
    // A stream reader, so close() can cancel the read that is waiting: a pending read would
    // keep the process alive after the view is gone.
    this.#keys = Deno.stdin.readable.getReader();
    const decoder = new TextDecoder();
    while (this.#open) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await this.#keys.read();
      } catch {
        return;
      }
      if (chunk.done || !this.#open) return;
      const text = decoder.decode(chunk.value);
      // An escape sequence (an arrow key) is one key; its parts are not q or c.
      if (text.startsWith("\x1b")) continue;
      for (const key of text) {
        // Ctrl-L: what the terminal shows is not known any more (something else wrote to it);
        // the next frame is drawn whole.
        if (key === "\x0c") this.#shown = null;
        this.#handlers.onKey(key);
      }
    }
  }

  /**
   * Draws a frame over the last one. The first frame, and any after a change of size or of
   * line count, is written whole (each line cleared to its end, the rest below cleared); after
   * that only the lines that differ from what is on screen are rewritten, in place, and a
   * frame like the last writes nothing.
   */
  draw(lines: readonly FrameLine[]): void {
    if (!this.#open) return;
    const update = frameUpdate(this.#shown, lines, this.size());
    this.#shown = update.shown;
    if (update.text !== "") writeAll(this.#encoder.encode(update.text));
  }

  /** Gives the terminal back as it was. Safe to call twice. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      Deno.removeSignalListener("SIGWINCH", this.#onWinch);
    } catch { /* not added */ }
    globalThis.removeEventListener("unload", this.#onUnload);
    if (this.#raw) {
      try {
        Deno.stdin.setRaw(false);
      } catch { /* stdin gone */ }
    }
    this.#keys?.cancel().catch(() => {});
    try {
      writeAll(this.#encoder.encode(LEAVE));
    } catch { /* stdout gone */ }
  }
}
