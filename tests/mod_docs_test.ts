/**
 * mod.ts is the library's front door: every symbol it exports (function, class, constant,
 * interface, type) carries an example that asserts, and `deno test --doc` (the test task) runs
 * them all.
 */
import assert from "node:assert/strict";
import { repoPath } from "./_capability.ts";

interface DocSymbol {
  name: string;
  declarations: { kind: string; jsDoc?: { tags?: { kind: string; doc?: string }[] } }[];
}

Deno.test("Every symbol mod.ts exports has an @example that asserts", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", repoPath("mod.ts")],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success, "deno doc --json mod.ts ran");
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  const symbols: DocSymbol[] = Object.values(
    doc.nodes as Record<string, { symbols: DocSymbol[] }>,
  )[0]!.symbols;
  const values = symbols;
  assert.ok(values.length >= 60, `mod.ts exports ${values.length} symbols`);
  const missing = values.filter((s) =>
    !s.declarations.some((d) =>
      d.jsDoc?.tags?.some((t) =>
        t.kind === "example" && /```ts\n/.test(t.doc ?? "") && /\bassert\.\w+\(/.test(t.doc ?? "")
      )
    )
  ).map((s) => s.name);
  assert.deepEqual(missing, [], "symbols without an asserting example");
});
