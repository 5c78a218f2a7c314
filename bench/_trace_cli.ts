/** How the benches run trace.ts: quiet, no live view, then their own flags. */
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** `deno run -A trace.ts -q --no-live ...flags` as arguments to Deno.execPath(). */
export function traceCli(...flags: string[]): string[] {
  return ["run", "-A", `${root}trace.ts`, "-q", "--no-live", ...flags];
}

/** The JSON report at `path`, read and removed, with its total of events. */
export function takeReport(path: string): { report: Record<string, unknown>; events: number } {
  const report = JSON.parse(Deno.readTextFileSync(path));
  Deno.removeSync(path);
  const events = Object.values(report.counts as Record<string, number>).reduce((a, b) => a + b, 0);
  return { report, events };
}
