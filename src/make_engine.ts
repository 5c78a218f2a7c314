/**
 * Engine choice: the ringbuf engine by default, falling back to bpftrace when libbpf or the
 * compiled probes cannot load here.
 *
 * @module
 */

import { BpftraceEngine } from "./bpftrace_engine.ts";
import { type Engine, FallbackEngine } from "./engine.ts";
import { RingbufEngine } from "./ringbuf_engine.ts";

/** The engine names `--engine` takes. */
export const ENGINE_NAMES = ["ringbuf", "bpftrace"] as const;
/** An engine name. */
export type EngineName = typeof ENGINE_NAMES[number];

/** Options for {@link makeEngine}. */
export interface MakeEngineOptions {
  /** Ring size for the ringbuf engine, in bytes. */
  ringSize?: number;
  /** Told why the default engine fell back, and to which engine. */
  onFallback?: (reason: string, fallback: string) => void;
}

/**
 * The engine named, or, with no name, the ringbuf engine falling back to bpftrace when it
 * cannot run here.
 */
export function makeEngine(name: EngineName | undefined, options: MakeEngineOptions = {}): Engine {
  if (name === "bpftrace") return new BpftraceEngine();
  const ringbuf = new RingbufEngine({ ringSize: options.ringSize });
  if (name === "ringbuf") return ringbuf;
  return new FallbackEngine(ringbuf, new BpftraceEngine(), options.onFallback ?? (() => {}));
}
