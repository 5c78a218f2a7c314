import assert from "node:assert/strict";
import type { AttachOptions, Capture, Engine, EventSink } from "./engine.ts";
import { FallbackEngine } from "./fallback_engine.ts";
import { FaultlineError } from "../common/faultline_error.ts";

class FakeEngine implements Engine {
  readonly name: string;
  readonly #preflightError: string | null;
  readonly #attachError: string | null;
  attached = 0;

  constructor(name: string, preflightError: string | null, attachError: string | null) {
    this.name = name;
    this.#preflightError = preflightError;
    this.#attachError = attachError;
  }

  preflight(): Promise<void> {
    if (this.#preflightError) return Promise.reject(new FaultlineError(this.#preflightError));
    return Promise.resolve();
  }

  async attach(options: AttachOptions, _sink: EventSink): Promise<Capture> {
    await options.ready;
    if (this.#attachError) throw new FaultlineError(this.#attachError);
    this.attached++;
    return await Promise.resolve({
      engine: this.name,
      drain: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      ended: new Promise<void>(() => {}),
    });
  }
}

const sink: EventSink = { event() {}, lost() {} };
const options: AttachOptions = { pid: 1, armOnExec: false };

Deno.test("FallbackEngine uses the primary engine when it can run", async () => {
  const told: string[] = [];
  const primary = new FakeEngine("ringbuf", null, null);
  const engine = new FallbackEngine(
    primary,
    new FakeEngine("bpftrace", null, null),
    (r) => told.push(r),
  );
  await engine.preflight();
  const capture = await engine.attach(options, sink);
  assert.equal(capture.engine, "ringbuf");
  assert.equal(engine.name, "ringbuf");
  assert.deepEqual(told, []);
});

Deno.test("FallbackEngine says why once and falls back when the primary's preflight fails", async () => {
  const told: string[] = [];
  const fallback = new FakeEngine("bpftrace", null, null);
  const engine = new FallbackEngine(
    new FakeEngine("ringbuf", "Cannot load libbpf.so.1: not found", null),
    fallback,
    (reason, to) => told.push(`${reason} -> ${to}`),
  );
  await engine.preflight();
  assert.equal(engine.name, "bpftrace");
  const capture = await engine.attach(options, sink);
  assert.equal(capture.engine, "bpftrace");
  assert.deepEqual(told, ["Cannot load libbpf.so.1: not found -> bpftrace"]);
});

Deno.test("FallbackEngine falls back when the primary fails to load at attach", async () => {
  const told: string[] = [];
  const engine = new FallbackEngine(
    new FakeEngine("ringbuf", null, "Cannot load BPF object x: the verifier said: no"),
    new FakeEngine("bpftrace", null, null),
    (reason) => told.push(reason),
  );
  await engine.preflight();
  const capture = await engine.attach(options, sink);
  assert.equal(capture.engine, "bpftrace");
  assert.deepEqual(told, ["Cannot load BPF object x: the verifier said: no"]);
});

Deno.test("FallbackEngine throws the primary's error, alone, when neither can run", async () => {
  const told: string[] = [];
  const engine = new FallbackEngine(
    new FakeEngine("ringbuf", "Cannot load probes: needs CAP_BPF; run it as root", null),
    new FakeEngine("bpftrace", "Cannot attach probes: bpftrace not found on PATH", null),
    (reason) => told.push(reason),
  );
  await assert.rejects(engine.preflight(), /^FaultlineError: Cannot load probes: needs CAP_BPF/);
  assert.deepEqual(told, []);
});

Deno.test("FallbackEngine does not fall back when what the caller waited on failed", async () => {
  const told: string[] = [];
  const fallback = new FakeEngine("bpftrace", null, null);
  const engine = new FallbackEngine(
    new FakeEngine("ringbuf", null, null),
    fallback,
    (r) => told.push(r),
  );
  const launcher = new FaultlineError('Cannot start command "x": its launcher exited (1)');
  const ready = Promise.reject(launcher);
  await assert.rejects(engine.attach({ ...options, ready }, sink), (e) => e === launcher);
  assert.equal(fallback.attached, 0, "the fallback engine was not tried");
  assert.deepEqual(told, []);
  assert.equal(engine.name, "ringbuf");
});
