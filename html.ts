/**
 * `deno task html report.json > page.html`: the HTML report of a saved JSON report, the same
 * page `trace.ts --html FILE` writes.
 *
 * @module
 */

import { EXIT_RUNTIME, EXIT_USAGE, type Report, REPORT_VERSION } from "./mod.ts";
import { escapeText } from "./src/common/escape_text.ts";
import { reportToHtml } from "./src/output/html_report.ts";

if (import.meta.main) {
  const [path, ...rest] = Deno.args;
  if (path === undefined || rest.length > 0) {
    console.error("faultline: Give one JSON report, as in deno task html report.json > page.html");
    Deno.exit(EXIT_USAGE);
  }
  let report: Report;
  try {
    report = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    console.error(
      `faultline: Cannot read the JSON report ${escapeText(path)}: ${
        escapeText((e as Error).message)
      }; give a file trace.ts --json wrote`,
    );
    Deno.exit(EXIT_RUNTIME);
  }
  if (report?.version !== REPORT_VERSION || typeof report.histograms !== "object") {
    console.error(
      `faultline: Cannot draw ${
        escapeText(path)
      }: it is not a faultline JSON report of version ${REPORT_VERSION}`,
    );
    Deno.exit(EXIT_RUNTIME);
  }
  const bytes = new TextEncoder().encode(reportToHtml(report));
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}
