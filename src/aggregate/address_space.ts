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
    this.unmap(start, length);
    const at = this.#firstEndingAfter(start);
    this.#regions.splice(at, 0, { start, end: start + length, offset, mapping });
  }

  /** Removes [start, start + length), trimming or splitting what it cuts through. */
  unmap(start: number, length: number): void {
    if (!(length > 0)) return;
    this.#last = null;
    const end = start + length;
    const out: Region<T>[] = [];
    let i = this.#firstEndingAfter(start);
    const first = i;
    for (; i < this.#regions.length && this.#regions[i]!.start < end; i++) {
      const r = this.#regions[i]!;
      if (r.start < start) out.push({ ...r, end: start });
      if (r.end > end) out.push({ ...r, start: end, offset: r.offset + (end - r.start) });
    }
    this.#regions.splice(first, i - first, ...out);
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
      out.push({
        start: s,
        end: Math.min(r.end, end),
        offset: r.offset + (s - r.start),
        mapping: r.mapping,
      });
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
      return { start: r.start, end: r.end, offset: r.offset, mapping: u };
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
