/**
 * A report file opened before tracing starts, so a bad path fails at once instead of after a
 * long trace, and written whole at the end.
 *
 * @module
 */

import { FaultlineError } from "../common/faultline_error.ts";

/** A file opened (created, truncated) up front and written once. */
export class OutputFile {
  /** The path as given. */
  readonly path: string;
  #file: Deno.FsFile;

  private constructor(path: string, file: Deno.FsFile) {
    this.path = path;
    this.#file = file;
  }

  /** Opens `path` for `what` (say "the JSON report"), failing with one clear sentence. */
  static open(path: string, what: string): OutputFile {
    try {
      return new OutputFile(
        path,
        Deno.openSync(path, { write: true, create: true, truncate: true }),
      );
    } catch (e) {
      throw new FaultlineError(
        `Cannot write ${what} to ${path}: ${
          (e as Error).message
        }; check the directory exists and is writable`,
      );
    }
  }

  /** Writes all of `text` and closes the file. */
  writeAndClose(text: string): void {
    const bytes = new TextEncoder().encode(text);
    try {
      let off = 0;
      while (off < bytes.length) off += this.#file.writeSync(bytes.subarray(off));
    } finally {
      this.#file.close();
    }
  }

  /** Closes the file without writing (when tracing failed). */
  close(): void {
    try {
      this.#file.close();
    } catch { /* closed already */ }
  }
}
