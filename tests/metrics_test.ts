/**
 * --metrics against the real thing: Debian's Prometheus, started here on a free loopback port
 * with its own config and data directory, scrapes a live trace of the bundled workload; its
 * HTTP API then gives back the counters, which must equal the final JSON report's, and every
 * query of every panel of the Grafana dashboard (its variables substituted) must return data.
 * promtool checks a scrape.
 */
import assert from "node:assert/strict";
import type { Report } from "../mod.ts";
import { findExecutable } from "../src/common/find_executable.ts";
import { probeTest, repoPath } from "./_capability.ts";

const WORKLOAD = repoPath("build/mmap_touch");
const TRACE = repoPath("trace.ts");
const DASHBOARD = repoPath("dashboards/grafana/faultline.json");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(prometheus: string, expr: string, time?: number): Promise<Sample[]> {
  const url = new URL(`${prometheus}/api/v1/query`);
  url.searchParams.set("query", expr);
  if (time !== undefined) url.searchParams.set("time", String(time));
  const body = await (await fetch(url)).json();
  assert.equal(body.status, "success", `${expr}: ${JSON.stringify(body)}`);
  return body.data.result as Sample[];
}

probeTest(
  "Prometheus scrapes --metrics: counters equal the JSON report; every dashboard query has data",
  async () => {
    for (const tool of ["prometheus", "promtool"]) {
      assert.ok(findExecutable(tool), `${tool} is not on PATH (run bash setup.sh)`);
    }
    const dir = Deno.makeTempDirSync();
    const metricsPort = freePort();
    const promPort = freePort();
    Deno.writeTextFileSync(
      `${dir}/prometheus.yml`,
      `global:\n  scrape_interval: 500ms\nscrape_configs:\n  - job_name: faultline\n` +
        `    static_configs:\n      - targets: ["127.0.0.1:${metricsPort}"]\n`,
    );
    const prometheus = new Deno.Command("prometheus", {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=error",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const prom = `http://127.0.0.1:${promPort}`;
    // The workload waits for a byte on stdin, works, then lingers 60 s doing nothing.
    const workload = new Deno.Command(WORKLOAD, {
      args: ["20000", "8", String(0x5a5000), "1", "1", "60"],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const trace = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        TRACE,
        "--no-live",
        "--metrics",
        `127.0.0.1:${metricsPort}`,
        "--json",
        `${dir}/r.json`,
        "--pid",
        String(workload.pid),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      const stderr = trace.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let said = "";
      while (!said.includes("tracing pid")) said += (await stderr.read()).value ?? "";
      assert.match(
        said,
        new RegExp(`serving metrics at http://127\\.0\\.0\\.1:${metricsPort}/metrics`),
      );
      for (let i = 0; i < 100; i++) {
        try {
          if ((await fetch(`${prom}/-/ready`)).ok) break;
        } catch { /* starting */ }
        await sleep(100);
      }
      // Prometheus scrapes the quiet process a few times before the work starts.
      for (let i = 0; i < 200; i++) {
        const seen = await query(
          prom,
          `count_over_time(faultline_lost_events_total{pid="${workload.pid}"}[10s])`,
        );
        if (seen.length > 0 && Number(seen[0]!.value[1]) >= 3) break;
        await sleep(100);
      }
      const w = workload.stdin.getWriter();
      await w.write(new Uint8Array([1]));
      await w.close();
      const out = workload.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let line = "";
      while (!line.includes("\n")) line += (await out.read()).value ?? "";
      const workDone = Date.now() / 1000;
      await sleep(2500); // the last counts scraped

      // promtool on a scrape of our own.
      const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      const check = new Deno.Command("promtool", {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const cw = check.stdin.getWriter();
      await cw.write(new TextEncoder().encode(scrape));
      await cw.close();
      const checked = await check.output();
      assert.equal(checked.code, 0, decode(checked.stdout) + decode(checked.stderr));
      assert.equal(decode(checked.stdout) + decode(checked.stderr), "", "no lint problem either");

      const scraped = new Map<string, number>();
      for (const s of await query(prom, `faultline_events_total{pid="${workload.pid}"}`)) {
        assert.equal(s.metric.command, "mmap_touch");
        scraped.set(s.metric.kind!, Number(s.value[1]));
      }
      const lost = await query(prom, `faultline_lost_events_total{pid="${workload.pid}"}`);
      const faults = await query(
        prom,
        `faultline_fault_latency_seconds_count{pid="${workload.pid}"}`,
      );
      const kinds = await query(prom, `faultline_fault_kinds_total{pid="${workload.pid}"}`);

      // Every panel's queries, as Grafana would send them (its variables substituted).
      const dashboard = JSON.parse(Deno.readTextFileSync(DASHBOARD));
      const names = dashboard.templating.list.map((v: { name: string }) => v.name);
      assert.deepEqual(names, ["datasource", "command", "pid"]);
      for (const v of dashboard.templating.list.slice(1)) {
        const expr = v.query.query.replaceAll("$command", "mmap_touch");
        assert.ok(
          (await query(prom, expr.replace(/^label_values\((.*), \w+\)$/, "$1"))).length > 0,
          expr,
        );
      }
      let queries = 0;
      for (const panel of dashboard.panels) {
        assert.equal(
          panel.datasource.uid,
          "${datasource}",
          `${panel.title} uses the datasource variable`,
        );
        for (const target of panel.targets) {
          const expr = target.expr.replaceAll("$__rate_interval", "4s").replaceAll(
            "$command",
            "mmap_touch",
          )
            .replaceAll("$pid", String(workload.pid));
          const result = await query(prom, expr, workDone);
          assert.ok(result.length > 0, `"${panel.title}" returns data: ${expr}`);
          queries++;
        }
      }
      assert.ok(queries >= 10, `${queries} queries`);

      trace.kill("SIGINT");
      assert.equal((await trace.status).code, 0);
      const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
      assert.ok(report.counts.mmap >= 20000);
      assert.deepEqual(
        Object.fromEntries(scraped),
        report.counts,
        "scraped counters = the JSON report's",
      );
      assert.equal(Number(lost[0]!.value[1]), report.lost);
      assert.equal(Number(faults[0]!.value[1]), report.histograms.fault_latency_ns.count);
      assert.deepEqual(
        Object.fromEntries(kinds.map((s) => [s.metric.kind, Number(s.value[1])])),
        report.fault_kinds,
      );
    } finally {
      for (const p of [trace, workload, prometheus]) {
        try {
          p.kill("SIGKILL");
        } catch { /* gone */ }
        await p.status;
      }
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

probeTest(
  "--metrics on a taken port or a bad address is one sentence before tracing starts",
  async () => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (taken.addr as Deno.NetAddr).port;
    const run = async (value: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", TRACE, "--metrics", value, "--", "/bin/true"],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: decode(out.stderr) };
    };
    try {
      const inUse = await run(String(port));
      assert.equal(inUse.code, 1);
      assert.equal(
        inUse.stderr,
        `faultline: Cannot serve metrics on 127.0.0.1:${port}: the port is in use; pick another with --metrics\n`,
      );
      const bad = await run("localhost:http");
      assert.equal(bad.code, 2);
      assert.match(
        bad.stderr,
        /^faultline: Cannot serve metrics on "localhost:http": --metrics takes \[HOST:\]PORT/,
      );
      const notHere = await run("192.0.2.1:9464");
      assert.equal(notHere.code, 1);
      assert.match(notHere.stderr, /^faultline: Cannot serve metrics on 192\.0\.2\.1:9464: /);
      assert.doesNotMatch(notHere.stderr + inUse.stderr, /tracing pid/, "refused before tracing");
    } finally {
      taken.close();
    }
  },
);
