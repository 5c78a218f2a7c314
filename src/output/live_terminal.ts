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

/** Writes all of `bytes` to stdout. */
function writeAll(bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** A terminal taken over for the live view. */
export class LiveTerminal {
  readonly #handlers: LiveTerminalHandlers;
  readonly #encoder = new TextEncoder();
  readonly #onWinch = () => this.#handlers.onResize();
  readonly #onUnload = () => this.close();
  #raw = false;
  #open = true;
  #keys: ReadableStreamDefaultReader<Uint8Array> | null = null;

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
      for (const key of text) this.#handlers.onKey(key);
    }
  }

  /** Draws a frame over the last one: each line cleared to its end, the rest below cleared. */
  draw(lines: readonly FrameLine[]): void {
    if (!this.#open) return;
    const body = lines.map((l) =>
      (l.style ? `\x1b[${l.style}m${l.text}\x1b[0m` : l.text) + "\x1b[K"
    ).join("\r\n");
    writeAll(this.#encoder.encode(`\x1b[H${body}\x1b[J`));
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
