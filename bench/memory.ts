/**
 * Issue 11's memory goal: faultline's own memory over a trace of about 10 million events, with
 * and without --events-csv, sampled every 0.5 s: its resident set minus the ring's mapping (the
 * ring's pages count in RSS but are the kernel's buffer, sized by --ring-size).
 *
 * Run: deno run -A bench/memory.ts [MAPS PAGES]   (default mmap_touch 40000 128: ~10.3 M events)
 */
import { takeReport, traceCli } from "./_trace_cli.ts";

const [maps = "40000", pages = "128"] = Deno.args;
const root = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** faultline's RSS without the ring's mappings (the BPF map's, shared with the kernel), in KiB. */
function ownKb(pid: number): number | null {
  let smaps: string;
  try {
    smaps = Deno.readTextFileSync(`/proc/${pid}/smaps`);
  } catch {
    return null;
  }
  let total = 0;
  let ring = false;
  for (const line of smaps.split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      ring = line.endsWith("anon_inode:bpf-map");
      continue;
    }
    const m = /^Rss:\s+(\d+) kB$/.exec(line);
    if (m && !ring) total += Number(m[1]);
  }
  return total;
}

async function sample(extra: string[]): Promise<{ kb: number[]; events: number; lost: number }> {
  const json = Deno.makeTempFileSync({ suffix: ".json" });
  const child = new Deno.Command(Deno.execPath(), {
    args: traceCli("--json", json, ...extra, "--", `${root}build/mmap_touch`, maps, pages),
    stdout: "null",
    stderr: "null",
  }).spawn();
  const kb: number[] = [];
  let done = false;
  child.status.then(() => done = true);
  while (!done) {
    await new Promise((r) => setTimeout(r, 500));
    // The trace.ts process is deno itself (no wrapper).
    // (0 once it has exited and not yet been reaped: a zombie has no memory to read.)
    const k = ownKb(child.pid);
    if (k !== null && k > 0) kb.push(k);
  }
  const { report, events } = takeReport(json);
  return { kb, events, lost: report.lost as number };
}

console.log(
  `workload: mmap_touch ${maps} ${pages}; faultline's RSS without the ring, every 0.5 s\n`,
);
console.log("| run | events | lost | samples | first | median | last | peak |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (
  const [name, extra] of [["default", []], ["--events-csv /dev/null", [
    "--events-csv",
    "/dev/null",
  ]]] as const
) {
  const r = await sample([...extra]);
  const mb = (k: number) => `${(k / 1024).toFixed(1)} MiB`;
  const sorted = [...r.kb].sort((a, b) => a - b);
  console.log(
    `| ${name} | ${r.events} | ${r.lost} | ${r.kb.length} | ${mb(r.kb[0] ?? 0)} | ${
      mb(sorted[Math.floor(sorted.length / 2)] ?? 0)
    } | ${mb(r.kb.at(-1) ?? 0)} | ${mb(sorted.at(-1) ?? 0)} |`,
  );
}
