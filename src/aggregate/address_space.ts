/**
 * One process's address space as faultline models it: the mappings it holds, by address,
 * kept current from the traced mmap, munmap, mremap and brk calls (and a /proc/PID/maps
 * snapshot where the calls were not seen). It answers "which mapping holds this address".
 *
 * @module
 */

/**
 * What a mapping is: where it came from, not where it sits now.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MappingIdentity } from "./address_space.ts";
 * const id: MappingIdentity = { path: "/usr/lib/libc.so.6", deleted: false, start: 0x7f0000, end: 0x7f8000, offset: 0 };
 * assert.equal(id.offset, 0);
 * ```
 */
export interface MappingIdentity {
  /** The file's path, or a pseudo-name: `[anon]`, `[heap]`, `[stack]`, `[vdso]`... */
  readonly path: string;
  /** The file was deleted (it is still mapped; /proc says "(deleted)"). */
  readonly deleted: boolean;
  /** Where the mapping began when it was made. */
  start: number;
  /** Where it ended (exclusive); a heap that grows moves it. */
  end: number;
  /** The file offset mapped at `start` (0 for anonymous memory). */
  readonly offset: number;
}

/** A piece of the address space: [start, end) of one mapping, with its file offset there. */
interface Region<T> {
  start: number;
  end: number;
  /** File offset at `start`. */
  offset: number;
  /** The mapping it belongs to (pieces of a split mapping share it). */
  mapping: T;
}

/** A region, always made with its fields in this order (one object shape for the JIT). */
function region<T>(start: number, end: number, offset: number, mapping: T): Region<T> {
  return { start, end, offset, mapping };
}

/**
 * An address space: non-overlapping regions in address order, each belonging to a mapping of
 * type `T` (whatever the caller keeps per mapping). Mapping over a range replaces what was
 * there, as mmap(MAP_FIXED) does; unmapping part of a mapping splits it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { AddressSpace } from "./address_space.ts";
 * const space = new AddressSpace<string>();
 * space.map(0x1000, 0x4000, 0, "a");
 * space.unmap(0x2000, 0x1000);
 * assert.equal(space.find(0x1800), "a");
 * assert.equal(space.find(0x2800), undefined);
 * assert.equal(space.find(0x3800), "a");
 * ```
 */
export class AddressSpace<T> {
  #regions: Region<T>[] = [];
  /** The region the last find() hit (faults come in runs on one mapping); null after a change. */
  #last: Region<T> | null = null;
  /** The program break when the process first asked for it (the heap's start), if seen. */
  brkBase: number | null = null;

  /** How many regions it holds. */
  get size(): number {
    return this.#regions.length;
  }

  /** The index of the first region ending after `address`. */
  #firstEndingAfter(address: number): number {
    let lo = 0;
    let hi = this.#regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#regions[mid]!.end <= address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The mapping holding `address`, if any. */
  find(address: number): T | undefined {
    const last = this.#last;
    if (last !== null && last.start <= address && address < last.end) return last.mapping;
    const r = this.#regions[this.#firstEndingAfter(address)];
    if (r !== undefined && r.start <= address) this.#last = r;
    return r !== undefined && r.start <= address ? r.mapping : undefined;
  }

  /** The region holding `address`, if any. */
  regionAt(address: number): Readonly<Region<T>> | undefined {
    const r = this.#regions[this.#firstEndingAfter(address)];
    return r !== undefined && r.start <= address ? r : undefined;
  }

  /** Maps [start, start + length) to `mapping` (file offset `offset` at start), replacing. */
  map(start: number, length: number, offset: number, mapping: T): void {
    if (!(length > 0)) return;
    this.#last = null;
    let at = this.#firstEndingAfter(start);
    const next = this.#regions[at];
    // Most mmaps land where nothing is mapped: only an overlap needs cutting first.
    if (next !== undefined && next.start < start + length) {
      this.unmap(start, length);
      at = this.#firstEndingAfter(start);
    }
    this.#regions.splice(at, 0, region(start, start + length, offset, mapping));
  }

  /**
   * Removes [start, start + length), trimming or splitting what it cuts through; with `keep`,
   * the regions whose mapping it says to keep stay whole (a munmap that began before another
   * thread's mmap reused its addresses, read after that mmap).
   */
  unmap(start: number, length: number, keep?: (mapping: T) => boolean): void {
    if (!(length > 0)) return;
    this.#last = null;
    const end = start + length;
    const regions = this.#regions;
    const first = this.#firstEndingAfter(start);
    let i = first;
    // What is left of the regions cut: at most a piece before start (of the first) and a
    // piece after end (of the last).
    let before: Region<T> | null = null;
    let after: Region<T> | null = null;
    let kept: Region<T>[] | null = null;
    for (; i < regions.length && regions[i]!.start < end; i++) {
      const r = regions[i]!;
      if (keep !== undefined && keep(r.mapping)) {
        (kept ??= []).push(r);
        continue;
      }
      if (r.start < start) before = region(r.start, start, r.offset, r.mapping);
      if (r.end > end) after = region(end, r.end, r.offset + (end - r.start), r.mapping);
    }
    if (kept !== null) {
      const left = before === null ? kept : [before, ...kept];
      regions.splice(first, i - first, ...(after === null ? left : [...left, after]));
    } else if (before !== null && after !== null) regions.splice(first, i - first, before, after);
    else if (before !== null) regions.splice(first, i - first, before);
    else if (after !== null) regions.splice(first, i - first, after);
    else if (i > first) regions.splice(first, i - first);
  }

  /** The regions overlapping [start, start + length), cut to it, in order. */
  #take(start: number, length: number): Region<T>[] {
    const end = start + length;
    const out: Region<T>[] = [];
    for (
      let i = this.#firstEndingAfter(start);
      i < this.#regions.length && this.#regions[i]!.start < end;
      i++
    ) {
      const r = this.#regions[i]!;
      const s = Math.max(r.start, start);
      out.push(region(s, Math.min(r.end, end), r.offset + (s - r.start), r.mapping));
    }
    return out;
  }

  /**
   * An mremap that returned `newStart`: [oldStart, oldStart + oldLength) moves there (its
   * mappings go along) and is cut or grown to `newLength`, growth belonging to the mapping
   * that ended the old range.
   */
  remap(oldStart: number, oldLength: number, newStart: number, newLength: number): void {
    const moved = this.#take(oldStart, oldLength);
    this.unmap(oldStart, oldLength);
    if (moved.length === 0) return;
    const newEnd = newStart + newLength;
    this.unmap(newStart, newLength);
    for (const r of moved) {
      const s = r.start - oldStart + newStart;
      if (s >= newEnd) break;
      const e = Math.min(r.end - oldStart + newStart, newEnd);
      this.map(s, e - s, r.offset, r.mapping);
    }
    const last = moved[moved.length - 1]!;
    const lastEnd = last.end - oldStart + newStart;
    if (lastEnd < newEnd) {
      this.map(lastEnd, newEnd - lastEnd, last.offset + (last.end - last.start), last.mapping);
    }
  }

  /** A copy, as a fork gives the child, each region mapping to `copyOf(its mapping)`. */
  fork<U>(copyOf: (mapping: T) => U): AddressSpace<U> {
    const copy = new AddressSpace<U>();
    const copies = new Map<T, U>();
    copy.#regions = this.#regions.map((r) => {
      let u = copies.get(r.mapping);
      if (u === undefined) copies.set(r.mapping, u = copyOf(r.mapping));
      return region(r.start, r.end, r.offset, u);
    });
    copy.brkBase = this.brkBase;
    return copy;
  }

  /** Forgets every region (an exec replaces the address space). */
  clear(): void {
    this.#last = null;
    this.#regions = [];
    this.brkBase = null;
  }

  /** Every region, in address order. */
  regions(): readonly Readonly<Region<T>>[] {
    return this.#regions;
  }
}
