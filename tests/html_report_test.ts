/**
 * The HTML report in a real browser: headless Chromium, driven over the DevTools protocol, loads
 * the page with networking off. No console errors, every chart drawn, the hostile process name
 * shown as text and never as markup, no network request, screenshots at 1280x800 and at a
 * phone's width without sideways scrolling.
 */
import assert from "node:assert/strict";
import type { Report } from "../mod.ts";
import { findExecutable } from "../src/common/find_executable.ts";
import { probeTest, repoPath } from "./_capability.ts";

const WORKLOAD = repoPath("build/mmap_touch");
const TRACE = repoPath("trace.ts");
const HOSTILE = "<img src=x onerror=alert(1)>";

/** A page of a headless Chromium, spoken to over the DevTools protocol. */
class Browser {
  readonly events: { method: string; params: Record<string, unknown> }[] = [];
  #ws!: WebSocket;
  #next = 1;
  #waiting = new Map<number, (m: { result?: unknown; error?: unknown }) => void>();
  #child!: Deno.ChildProcess;
  #profile = Deno.makeTempDirSync();

  async open(): Promise<void> {
    const chromium = findExecutable("chromium");
    if (chromium === null) throw new Error("chromium is not on PATH (run bash setup.sh)");
    this.#child = new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        // Networking off: every name resolves to nothing.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--remote-debugging-port=0",
        `--user-data-dir=${this.#profile}`,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let port = 0;
    for (let i = 0; i < 300 && port === 0; i++) {
      try {
        port = Number(Deno.readTextFileSync(`${this.#profile}/DevToolsActivePort`).split("\n")[0]);
      } catch { /* starting */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(port > 0, "Chromium opened its DevTools port");
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === "page");
    assert.ok(page, "a page target");
    this.#ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      this.#ws.onopen = resolve;
      this.#ws.onerror = reject;
    });
    this.#ws.onmessage = (m) => {
      const message = JSON.parse(m.data);
      if (message.id !== undefined) this.#waiting.get(message.id)?.(message);
      else this.events.push(message);
    };
    for (const domain of ["Page", "Runtime", "Log", "Network"]) await this.send(`${domain}.enable`);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      this.#waiting.set(
        id,
        (m) =>
          m.error
            ? reject(new Error(JSON.stringify(m.error)))
            : resolve(m.result as Record<string, unknown>),
      );
    });
  }

  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
    return (r.result as { value: T }).value;
  }

  /** A PNG of the whole page, beyond the viewport. */
  async screenshot(path: string): Promise<void> {
    const metrics = await this.send("Page.getLayoutMetrics");
    const { width, height } = metrics.cssContentSize as { width: number; height: number };
    const shot = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width, height, scale: 1 },
    });
    Deno.writeFileSync(path, Uint8Array.from(atob(shot.data as string), (c) => c.charCodeAt(0)));
  }

  async close(): Promise<void> {
    try {
      this.#ws.close();
    } catch { /* closed */ }
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#child.status;
    // Chromium's helpers may still be writing the profile for a moment after it goes.
    for (let i = 0; i < 50; i++) {
      try {
        Deno.removeSync(this.#profile, { recursive: true });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/** What the page says about itself once drawn. */
interface PageFacts {
  ready: string | undefined;
  canvases: number[];
  uplots: number;
  imgs: number;
  hostileAsText: boolean;
  overflow: number;
  lost: string | null;
  tables: string[];
}

const FACTS = `(() => {
  const canvases = [...document.querySelectorAll("canvas")].map((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) inked++;
    return inked;
  });
  return {
    ready: document.body.dataset.ready,
    canvases,
    uplots: document.querySelectorAll(".uplot").length,
    imgs: document.querySelectorAll("img").length,
    hostileAsText: document.body.innerText.includes(${JSON.stringify(HOSTILE)}),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    lost: document.getElementById("lost")?.textContent ?? null,
    tables: [...document.querySelectorAll("[data-table]")].map((e) => e.dataset.table),
  };
})()`;

async function load(
  browser: Browser,
  url: string,
  width: number,
  height: number,
  mobile: boolean,
): Promise<PageFacts> {
  await browser.send("Emulation.setDeviceMetricsOverride", {
    width,
    height,
    deviceScaleFactor: 1,
    mobile,
  });
  await browser.send("Page.navigate", { url });
  for (let i = 0; i < 200; i++) {
    const ready = await browser.evaluate<string | undefined>(
      "document.body && document.body.dataset.ready",
    );
    if (ready === "1") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await browser.evaluate<PageFacts>(FACTS);
}

probeTest(
  "The HTML report draws every chart in headless Chromium, offline, with hostile names as text",
  async () => {
    const dir = Deno.makeTempDirSync();
    const html = `${dir}/report.html`;
    // A traced command whose name is markup, and a 4 KiB ring that loses events.
    const hostile = `${dir}/${HOSTILE}`;
    Deno.copyFileSync(WORKLOAD, hostile);
    Deno.chmodSync(hostile, 0o755);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        TRACE,
        "-q",
        "--interval",
        "0.1",
        "--ring-size",
        "4096",
        "--html",
        html,
        "--json",
        `${dir}/r.json`,
        "--",
        hostile,
        "3000",
        "32",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const report: Report = JSON.parse(Deno.readTextFileSync(`${dir}/r.json`));
    const page = Deno.readTextFileSync(html);
    assert.ok(!page.includes(HOSTILE), "the name is never in the page as markup");
    const browser = new Browser();
    try {
      await browser.open();
      const desktop = await load(browser, `file://${html}`, 1280, 800, false);
      const errors = browser.events.filter((e) =>
        e.method === "Runtime.exceptionThrown" ||
        (e.method === "Runtime.consoleAPICalled" && e.params.type === "error") ||
        (e.method === "Log.entryAdded" && (e.params.entry as { level: string }).level === "error")
      );
      assert.deepEqual(errors, [], "no console errors");
      assert.equal(desktop.ready, "1", "the page's script ran to its end");
      const drawn = Object.values(report.histograms).filter((h) => h.count > 0).length;
      assert.equal(desktop.uplots, drawn + 1, "a chart per histogram with values, and the rates");
      assert.ok(desktop.canvases.length >= drawn + 2, `${desktop.canvases.length} canvases`);
      for (const [i, inked] of desktop.canvases.entries()) {
        assert.ok(inked > 50, `canvas ${i} drew (${inked} px)`);
      }
      assert.equal(desktop.imgs, 0, "no element came from the trace's text");
      assert.ok(desktop.hostileAsText, "the command shows as text");
      assert.ok(desktop.overflow <= 0, `no sideways scrolling at 1280: ${desktop.overflow}`);
      assert.ok(report.lost > 0);
      assert.match(
        desktop.lost ?? "",
        new RegExp(`^LOST ${report.lost.toLocaleString("en-US")} events`),
      );
      assert.deepEqual(
        desktop.tables,
        ["processes", "mappings", "intervals"],
        "every table the report carries",
      );
      await browser.screenshot(`${dir}/desktop.png`);
      const phone = await load(browser, `file://${html}`, 390, 844, true);
      assert.ok(phone.overflow <= 0, `no sideways scrolling on a phone: ${phone.overflow}`);
      for (const [i, inked] of phone.canvases.entries()) {
        assert.ok(inked > 50, `phone canvas ${i} drew`);
      }
      await browser.screenshot(`${dir}/phone.png`);
      console.log(`screenshots: ${dir}/desktop.png, ${dir}/phone.png`);

      const requests = browser.events.filter((e) => e.method === "Network.requestWillBeSent")
        .map((e) => (e.params.request as { url: string }).url)
        .filter((url) =>
          !url.startsWith("file:") && !url.startsWith("data:") && url !== "about:blank"
        );
      assert.deepEqual(requests, [], "no network request");
      assert.ok(
        !browser.events.some((e) => e.method === "Page.javascriptDialogOpening"),
        "no alert ran",
      );
      assert.ok(Deno.statSync(`${dir}/desktop.png`).size > 10_000);
    } finally {
      await browser.close();
    }
    const fromJson = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "html", `${dir}/r.json`],
      cwd: repoPath("."),
      stdout: "piped",
      stderr: "null",
    }).output();
    assert.equal(
      new TextDecoder().decode(fromJson.stdout),
      page,
      "deno task html makes the same page",
    );
  },
);
