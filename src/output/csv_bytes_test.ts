import assert from "node:assert/strict";
import { CsvBytes } from "./csv_bytes.ts";

Deno.test("CsvBytes.int() writes every integer as String() does, by digit count and sign", () => {
  const out = new CsvBytes(64);
  const decoder = new TextDecoder();
  const check = (n: number) => {
    out.clear();
    out.int(n);
    assert.equal(decoder.decode(out.view()), String(n));
  };
  // Each power of ten and its neighbours, both signs: every digit count and both int32 paths.
  for (let p = 1; p <= 2 ** 53; p *= 10) {
    for (const n of [p - 1, p, p + 1]) if (Number.isSafeInteger(n)) [n, -n].forEach(check);
  }
  for (const n of [2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 100_000_000, 1_000_000_007]) {
    check(n);
  }
  // Random ones of every size, and values with inner zeros (the low part's padding).
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 100_000; i++) {
    check(Math.floor(random() * 10 ** Math.floor(random() * 16)));
    check(Math.floor(random() * 2 ** 20) * 100_000_000 + Math.floor(random() * 1000));
  }
  // Not integers, or past 2^53: as String() has them.
  for (const n of [1.5, -0.25, 2 ** 60, NaN]) check(n);
});
