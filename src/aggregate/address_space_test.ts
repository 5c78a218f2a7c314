import assert from "node:assert/strict";
import { AddressSpace } from "./address_space.ts";

const P = 4096;

/** The regions in pages, neighbouring pieces of one mapping (offsets continuing) as one. */
function layout(space: AddressSpace<string>): [number, number, number, string][] {
  const out: [number, number, number, string][] = [];
  for (const r of space.regions()) {
    const last = out.at(-1);
    if (
      last && last[1] === r.start / P && last[3] === r.mapping &&
      last[2] + last[1] - last[0] === r.offset / P
    ) {
      last[1] = r.end / P;
    } else out.push([r.start / P, r.end / P, r.offset / P, r.mapping]);
  }
  return out;
}

Deno.test("AddressSpace.map() replaces what it covers, as MAP_FIXED does", () => {
  const s = new AddressSpace<string>();
  s.map(10 * P, 10 * P, 0, "a");
  s.map(30 * P, 5 * P, 0, "b");
  s.map(15 * P, 20 * P, 100 * P, "c");
  assert.deepEqual(layout(s), [[10, 15, 0, "a"], [15, 35, 100, "c"]]);
  assert.equal(s.find(14 * P + 5), "a");
  assert.equal(s.find(15 * P), "c");
  assert.equal(s.find(35 * P), undefined);
  assert.equal(s.find(9 * P), undefined);
});

Deno.test("AddressSpace.unmap() trims and splits, keeping file offsets right", () => {
  const s = new AddressSpace<string>();
  s.map(10 * P, 10 * P, 4 * P, "f");
  s.unmap(12 * P, 3 * P);
  assert.deepEqual(layout(s), [[10, 12, 4, "f"], [15, 20, 9, "f"]]);
  s.unmap(0, 11 * P);
  s.unmap(19 * P, 10 * P);
  assert.deepEqual(layout(s), [[11, 12, 5, "f"], [15, 19, 9, "f"]]);
  s.unmap(0, 100 * P);
  assert.equal(s.size, 0);
});

Deno.test("AddressSpace.remap() moves, grows and shrinks a mapping as mremap does", () => {
  const s = new AddressSpace<string>();
  s.map(10 * P, 4 * P, 0, "a");
  s.map(20 * P, 4 * P, 0, "b");
  // Grown in place: the growth is its own.
  s.remap(10 * P, 4 * P, 10 * P, 6 * P);
  assert.deepEqual(layout(s), [[10, 16, 0, "a"], [20, 24, 0, "b"]]);
  assert.equal(s.find(15 * P), "a");
  // Part of b moved elsewhere and grown: that part of the old range is gone.
  s.remap(22 * P, 2 * P, 50 * P, 8 * P);
  assert.deepEqual(layout(s), [[10, 16, 0, "a"], [20, 22, 0, "b"], [50, 58, 2, "b"]]);
  s.unmap(20 * P, 2 * P);
  // Shrunk in place.
  s.remap(50 * P, 8 * P, 50 * P, 3 * P);
  assert.deepEqual(layout(s), [[10, 16, 0, "a"], [50, 53, 2, "b"]]);
  // Nothing known there: nothing to move.
  s.remap(90 * P, P, 95 * P, P);
  assert.equal(s.find(95 * P), undefined);
});

Deno.test("AddressSpace.fork() copies every region onto a copy of its mapping, shared pieces shared", () => {
  const s = new AddressSpace<{ name: string }>();
  const m = { name: "lib" };
  s.map(10 * P, 10 * P, 0, m);
  s.unmap(12 * P, P);
  s.brkBase = 99;
  const copies: { name: string }[] = [];
  const child = s.fork((x) => {
    const c = { name: `${x.name}'` };
    copies.push(c);
    return c;
  });
  assert.equal(copies.length, 1, "the two pieces of one mapping stay one mapping");
  assert.equal(child.find(10 * P), child.find(15 * P));
  assert.equal(child.find(10 * P)!.name, "lib'");
  assert.equal(child.brkBase, 99);
  s.clear();
  assert.equal(s.size, 0);
  assert.equal(child.size, 2, "the copy does not follow the original");
});

Deno.test("AddressSpace agrees with a page-by-page model over random maps, unmaps (some keeping mappings) and remaps", () => {
  // Every page of a small window, modelled one by one: what find() must say after any mix of
  // mmaps over holes and over other mappings, munmaps cutting heads, tails and middles, and
  // mremaps moving and resizing.
  const PAGES = 64;
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  for (let round = 0; round < 200; round++) {
    const space = new AddressSpace<string>();
    const model: (string | undefined)[] = new Array(PAGES).fill(undefined);
    for (let op = 0; op < 30; op++) {
      const start = random(PAGES);
      const length = 1 + random(Math.min(16, PAGES - start));
      const what = random(3);
      if (what === 0) {
        const name = `m${round}.${op}`;
        space.map(start * P, length * P, 0, name);
        for (let p = start; p < start + length; p++) model[p] = name;
      } else if (what === 1) {
        // Half the unmaps keep the mappings made at an odd op (whole, wherever they lie).
        const keep = random(2) === 0 ? (m: string) => Number(m.split(".")[1]) % 2 === 1 : undefined;
        space.unmap(start * P, length * P, keep);
        for (let p = start; p < start + length; p++) {
          if (!(model[p] !== undefined && keep?.(model[p]!))) model[p] = undefined;
        }
      } else {
        const to = random(PAGES);
        const newLength = 1 + random(Math.min(16, PAGES - to));
        const moved = model.slice(start, start + length);
        space.remap(start * P, length * P, to * P, newLength * P);
        for (let p = start; p < start + length; p++) model[p] = undefined;
        // Only what was mapped moves; growth belongs to the mapping that ended the old range.
        if (moved.some((m) => m !== undefined)) {
          for (let p = to; p < to + newLength; p++) model[p] = undefined;
          let lastIndex = -1;
          moved.forEach((m, k) => {
            if (m !== undefined) lastIndex = k;
          });
          for (let k = 0; k < newLength; k++) {
            if (k < moved.length && k <= lastIndex) model[to + k] = moved[k];
            else if (k > lastIndex) model[to + k] = moved[lastIndex];
          }
        }
      }
      for (let p = 0; p < PAGES; p++) {
        assert.equal(space.find(p * P + 8), model[p], `round ${round} op ${op} page ${p}`);
      }
      const regions = space.regions();
      for (let k = 1; k < regions.length; k++) {
        assert.ok(regions[k - 1]!.end <= regions[k]!.start, "regions in order, not overlapping");
      }
    }
  }
});
