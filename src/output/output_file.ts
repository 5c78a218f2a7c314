/**
 * A report file: checked before tracing starts (so a bad path fails at once, and nothing is
 * truncated), and written whole at the end through a temporary file in the same directory,
 * renamed over the path only when complete: a reader never sees half a report, and a run that
 * fails leaves the old file as it was. Paths that are not regular files (`/dev/null`, a FIFO,
 * `/dev/stdout`) are written in place.
 *
 * @module
 */

import { FaultlineError } from "../common/faultline_error.ts";

/** The directory of `path` and its last component. */
function splitPath(path: string): [string, string] {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return [".", path];
  return [slash === 0 ? "/" : path.slice(0, slash), path.slice(slash + 1)];
}

/** The OS's reason, without Deno's ", open '/x'" tail (the message names the file already). */
export function ioReason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(
    /[:,] (open|rename|write|stat)[^]*$/,
    "",
  );
}

/**
 * What `path` resolves to, links followed, for telling two outputs apart: the real path when
 * it exists, else its directory's real path joined with its name.
 */
export function resolvedPath(path: string, depth = 0): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    const [dir, name] = splitPath(path);
    // A link to a file not made yet: where it points is where the file will be.
    try {
      if (depth < 40 && Deno.lstatSync(path).isSymlink) {
        const target = Deno.readLinkSync(path);
        return resolvedPath(target.startsWith("/") ? target : `${dir}/${target}`, depth + 1);
      }
    } catch { /* not there at all */ }
    try {
      return `${Deno.realPathSync(dir)}/${name}`;
    } catch {
      return path;
    }
  }
}

/** A report file, checked up front and written once, whole. */
export class OutputFile {
  /** The path as given. */
  readonly path: string;
  /** What it holds, for messages ("the JSON report"). */
  readonly what: string;
  readonly #inPlace: boolean;

  private constructor(path: string, what: string, inPlace: boolean) {
    this.path = path;
    this.what = what;
    this.#inPlace = inPlace;
  }

  /**
   * Checks that `path` can be written for `what` (say "the JSON report") without changing it:
   * an existing regular file must be writable and its directory must take a new file; a
   * device or FIFO must open for writing; a new file's directory must take it.
   *
   * @throws {FaultlineError} one sentence naming the file, the reason and the fix.
   */
  static check(path: string, what: string): OutputFile {
    const fail = (reason: string) =>
      new FaultlineError(
        `Cannot write ${what} to ${path}: ${reason}; check the directory exists and is writable`,
      );
    let info: Deno.FileInfo | null = null;
    try {
      info = Deno.statSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw fail(ioReason(e));
    }
    if (info?.isDirectory) throw fail("it is a directory");
    if (info !== null && !info.isFile) {
      // A device or a FIFO: written in place, opened now only to check (never truncated).
      try {
        Deno.openSync(path, { write: true }).close();
      } catch (e) {
        throw fail(ioReason(e));
      }
      return new OutputFile(path, what, true);
    }
    if (info !== null) {
      try {
        Deno.openSync(path, { write: true }).close(); // no truncate: the file stays as it is
      } catch (e) {
        throw fail(ioReason(e));
      }
    }
    const [dir] = splitPath(path);
    try {
      Deno.removeSync(Deno.makeTempFileSync({ dir, prefix: ".faultline-check-" }));
    } catch (e) {
      throw fail(ioReason(e));
    }
    return new OutputFile(path, what, false);
  }

  /**
   * Writes all of `text`: into a temporary file beside the path, renamed over it once whole.
   *
   * @throws {FaultlineError} one sentence naming the file and why, the old file left as it was.
   */
  write(text: string): void {
    const bytes = new TextEncoder().encode(text);
    if (this.#inPlace) {
      try {
        writeAllTo(this.path, bytes, { write: true, truncate: true });
      } catch (e) {
        throw this.#error(e);
      }
      return;
    }
    const [dir, name] = splitPath(this.path);
    let temp: string | null = null;
    try {
      temp = Deno.makeTempFileSync({ dir, prefix: `.${name}.`, suffix: ".faultline-tmp" });
      writeAllTo(temp, bytes, { write: true, truncate: true });
      try {
        Deno.chmodSync(temp, Deno.statSync(this.path).mode! & 0o7777);
      } catch {
        Deno.chmodSync(temp, 0o644); // a new file: what a plain create would give
      }
      Deno.renameSync(temp, this.path);
      temp = null;
    } catch (e) {
      throw this.#error(e);
    } finally {
      if (temp !== null) {
        try {
          Deno.removeSync(temp);
        } catch { /* never made */ }
      }
    }
  }

  #error(e: unknown): FaultlineError {
    return new FaultlineError(
      `Cannot write ${this.what} to ${this.path}: ${ioReason(e)}`,
    );
  }
}

function writeAllTo(path: string, bytes: Uint8Array, options: Deno.OpenOptions): void {
  const file = Deno.openSync(path, options);
  try {
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
    if (Deno.statSync(path).isFile) file.syncSync();
  } finally {
    file.close();
  }
}
