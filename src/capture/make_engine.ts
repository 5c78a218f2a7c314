/**
 * Engine choice: the ringbuf engine by default, falling back to bpftrace when libbpf or the
 * compiled probes cannot load here.
 *
 * @module
 */

import { BpftraceEngine } from "./bpftrace/bpftrace_engine.ts";
import type { Engine } from "./engine.ts";
import { FallbackEngine } from "./fallback_engine.ts";
import { RingbufEngine } from "./ringbuf/ringbuf_engine.ts";

/**
 * The engine names `--engine` takes.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENGINE_NAMES } from "./make_engine.ts";
 * assert.deepEqual(ENGINE_NAMES, ["ringbuf", "bpftrace"]);
 * ```
 */
export const ENGINE_NAMES = ["ringbuf", "bpftrace"] as const;
/**
 * An engine name.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { ENGINE_NAMES, type EngineName } from "./make_engine.ts";
 * const name: EngineName = "bpftrace";
 * assert.ok(ENGINE_NAMES.includes(name));
 * ```
 */
export type EngineName = typeof ENGINE_NAMES[number];

/**
 * Options for {@link makeEngine}.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeEngine, type MakeEngineOptions } from "./make_engine.ts";
 * const told: string[] = [];
 * const options: MakeEngineOptions = { ringSize: 1 << 20, onFallback: (reason) => void told.push(reason) };
 * assert.equal(makeEngine(undefined, options).name, "ringbuf");
 * ```
 */
export interface MakeEngineOptions {
  /** Ring size for the ringbuf engine, in bytes. */
  ringSize?: number;
  /** Told why the default engine fell back, and to which engine. */
  onFallback?: (reason: string, fallback: string) => void;
}

/**
 * The engine named, or, with no name, the ringbuf engine falling back to bpftrace when it
 * cannot run here. Nothing is loaded until the engine attaches.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { makeEngine } from "./make_engine.ts";
 * assert.equal(makeEngine("bpftrace").name, "bpftrace");
 * assert.equal(makeEngine(undefined).name, "ringbuf");
 * ```
 *
 * @throws {FaultlineError} (usage) when the ring size is not a power of two from 4096 to 1 GiB.
 */
export function makeEngine(name: EngineName | undefined, options: MakeEngineOptions = {}): Engine {
  if (name === "bpftrace") return new BpftraceEngine();
  const ringbuf = new RingbufEngine({ ringSize: options.ringSize });
  if (name === "ringbuf") return ringbuf;
  return new FallbackEngine(ringbuf, new BpftraceEngine(), options.onFallback ?? (() => {}));
}
