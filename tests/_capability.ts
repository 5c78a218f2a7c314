/**
 * Whether this machine can run the real-probe tests, and a Deno.test wrapper that skips them
 * with one line saying why, except under CI=true, where a missing capability fails the test.
 *
 * @module
 */

import { findExecutable } from "../src/common/find_executable.ts";

const ROOT = new URL("../", import.meta.url);

/** A path inside the repository. */
export function repoPath(relative: string): string {
  return decodeURIComponent(new URL(relative, ROOT).pathname);
}

/** Why the real-probe tests cannot run here, or null when they can. */
export function missingCapability(): string | null {
  if (Deno.build.os !== "linux") return `they need Linux, this is ${Deno.build.os}`;
  if (Deno.uid() !== 0) return `they need root, this is uid ${Deno.uid()}`;
  for (const tool of ["bpftrace", "perf", "strace", "taskset", "setpriv", "tmux"]) {
    if (findExecutable(tool) === null) return `${tool} is not on PATH (run bash setup.sh)`;
  }
  try {
    Deno.statSync("/sys/kernel/tracing/events/exceptions/page_fault_user");
  } catch {
    return "tracefs is not mounted or lacks exceptions:page_fault_user (run bash setup.sh)";
  }
  try {
    Deno.statSync(repoPath("build/mmap_touch"));
  } catch {
    return "build/mmap_touch is not built (run bash scripts/build.sh)";
  }
  return null;
}

const IN_CI = Deno.env.get("CI") === "true";
let told = false;

/** Registers a test that needs real probes: skipped with one line here, failing under CI. */
export function probeTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  const missing = missingCapability();
  if (missing !== null && !IN_CI && !told) {
    told = true;
    console.log(`Skipping the real-probe tests: ${missing}`);
  }
  Deno.test({
    name,
    ignore: missing !== null && !IN_CI,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      if (missing !== null) {
        throw new Error(`CI=true but the real-probe tests cannot run: ${missing}`);
      }
      await fn(t);
    },
  });
}

/** Why BPF objects cannot be built here, or null when they can. */
export function missingBpfToolchain(): string | null {
  if (findExecutable("clang") === null) return "clang is not on PATH (run bash setup.sh)";
  try {
    Deno.statSync("/usr/include/bpf/bpf_helpers.h");
  } catch {
    return "libbpf-dev's headers are missing (run bash setup.sh)";
  }
  return null;
}

/** Registers a test that needs clang and libbpf-dev: skipped with one line here, failing in CI. */
export function toolchainTest(name: string, fn: () => Promise<void>): void {
  const missing = missingBpfToolchain();
  if (missing !== null && !IN_CI) console.log(`Skipping "${name}": ${missing}`);
  Deno.test({
    name,
    ignore: missing !== null && !IN_CI,
    async fn() {
      if (missing !== null) throw new Error(`CI=true but BPF objects cannot be built: ${missing}`);
      await fn();
    },
  });
}

/** Runs trace.ts as nobody (uid 65534), which cannot read root's Deno cache: it gets a copy. */
export async function runAsNobody(args: string[]): Promise<{ code: number; stderr: string }> {
  const denoDir = Deno.makeTempDirSync();
  const home = Deno.env.get("DENO_DIR") ??
    `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`}/deno`;
  await new Deno.Command("cp", { args: ["-r", `${home}/npm`, denoDir] }).output();
  await new Deno.Command("chmod", { args: ["-R", "a+rX", denoDir] }).output();
  const out = await new Deno.Command("setpriv", {
    args: [
      "--reuid",
      "65534",
      "--regid",
      "65534",
      "--clear-groups",
      "--",
      Deno.execPath(),
      "run",
      "-A",
      "--cached-only",
      repoPath("trace.ts"),
      ...args,
    ],
    env: { DENO_DIR: denoDir, HOME: denoDir },
    stdin: "null",
  }).output();
  Deno.removeSync(denoDir, { recursive: true });
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}
