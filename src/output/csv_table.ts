/**
 * A whole CSV table as text: a header row, then a row per array of cells, each row ended by a
 * newline. Text cells are quoted as the events CSV quotes them (one rule, {@link csvText});
 * numbers are written as JavaScript prints them; null and undefined are empty cells.
 *
 * @module
 */

import { csvText } from "../events/event_kind.ts";

/** One cell of a {@link csvTable} row. */
export type CsvTableCell = string | number | bigint | boolean | null | undefined;

/**
 * `columns` as the header, then each of `rows`, as CSV text. A row longer than the header is
 * cut to its width; a boolean is `1` or empty.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { csvTable } from "./csv_table.ts";
 * assert.equal(
 *   csvTable(["path", "faults", "pid"], [["/tmp/a,b", 3, null], ['say "hi"', 0, 7]]),
 *   'path,faults,pid\n"/tmp/a,b",3,\n"say ""hi""",0,7\n',
 * );
 * assert.equal(csvTable(["a"], []), "a\n");
 * ```
 */
export function csvTable(
  columns: readonly string[],
  rows: readonly (readonly CsvTableCell[])[],
): string {
  const lines = [columns.map(csvText).join(",")];
  for (const row of rows) {
    let line = "";
    const width = Math.min(row.length, columns.length);
    for (let i = 0; i < width; i++) {
      if (i > 0) line += ",";
      const cell = row[i];
      if (typeof cell === "string") line += csvText(cell);
      else if (typeof cell === "boolean") line += cell ? "1" : "";
      else if (cell !== null && cell !== undefined) line += String(cell);
    }
    lines.push(line);
  }
  return lines.join("\n") + "\n";
}
