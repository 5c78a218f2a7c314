import assert from "node:assert/strict";
import { stringify } from "csv-stringify/sync";
import { csvTable, type CsvTableCell } from "./csv_table.ts";

// The report and mappings CSVs were written by csv-stringify before csvTable: the same bytes
// for any cells, quoting included, keep the files' contract.
Deno.test("csvTable writes what csv-stringify wrote, for random cells", () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pieces = ["a", ",", '"', "\n", "\r", " ", "/usr/lib/x.so", "é", "", "-1", "=1", "\t"];
  const cell = (): CsvTableCell => {
    const r = random();
    if (r < 0.1) return null;
    if (r < 0.15) return undefined;
    if (r < 0.2) return random() < 0.5;
    if (r < 0.45) return Math.floor(random() * 2 ** 53) * (random() < 0.1 ? -1 : 1);
    if (r < 0.5) return random() * 1e6;
    let s = "";
    const n = Math.floor(random() * 5);
    for (let i = 0; i < n; i++) s += pieces[Math.floor(random() * pieces.length)];
    return s;
  };
  for (let round = 0; round < 300; round++) {
    const width = 1 + Math.floor(random() * 6);
    const columns = Array.from({ length: width }, (_, i) => (i === 2 ? "a,b" : `c${i}`));
    const rows = Array.from(
      { length: Math.floor(random() * 6) },
      () => Array.from({ length: width + (random() < 0.1 ? 1 : 0) }, cell),
    );
    assert.equal(
      csvTable(columns, rows),
      stringify(rows as unknown[][], { header: true, columns }),
      JSON.stringify({ columns, rows }),
    );
  }
});
