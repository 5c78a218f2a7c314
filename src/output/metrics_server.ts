/**
 * `--metrics [HOST:]PORT`: an HTTP server answering `GET /metrics` with the Prometheus text
 * exposition of the trace so far. A scrape reads the aggregation as it stands, in the same
 * thread as the ring reader, between two of its drains: it takes well under a millisecond and
 * never waits on anything, so it cannot hold the reader up.
 *
 * @module
 */

import { FaultlineError, usageError } from "../common/faultline_error.ts";
import { METRICS_CONTENT_TYPE } from "./prometheus_metrics.ts";

/** Where to listen. */
export interface ListenAddress {
  /** The host (an address or a name); 127.0.0.1 unless given. */
  hostname: string;
  /** The TCP port; 0 picks a free one. */
  port: number;
}

/**
 * Reads `[HOST:]PORT` (`9464`, `0.0.0.0:9464`, `[::1]:9464`, `localhost:9464`).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseListenAddress } from "./metrics_server.ts";
 * assert.deepEqual(parseListenAddress("9464"), { hostname: "127.0.0.1", port: 9464 });
 * assert.deepEqual(parseListenAddress("[::1]:80"), { hostname: "::1", port: 80 });
 * assert.throws(() => parseListenAddress("host:port"), /--metrics takes \[HOST:\]PORT/);
 * ```
 *
 * @throws {FaultlineError} (usage) naming the bad value.
 */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw usageError(
      `Cannot serve metrics on "${text}": --metrics takes [HOST:]PORT, a port from 0 to 65535 ` +
        `(as in 9464, 0.0.0.0:9464 or [::1]:9464)`,
    );
  }
  const host = m[1] ?? "127.0.0.1";
  return { hostname: host.startsWith("[") ? host.slice(1, -1) : host, port };
}

/** The metrics endpoint, serving until closed. */
export class MetricsServer {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** Where it listens, as a URL of its /metrics. */
  readonly url: string;

  private constructor(server: Deno.HttpServer<Deno.NetAddr>) {
    this.#server = server;
    const { hostname, port } = server.addr;
    this.url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/metrics`;
  }

  /**
   * Listens on `address` and answers each scrape with `text()`.
   *
   * @throws {FaultlineError} one sentence when the address cannot be listened on (in use, not
   * an address of this machine, a name that does not resolve).
   */
  static start(address: ListenAddress, text: () => string): MetricsServer {
    const shown = `${
      address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname
    }:${address.port}`;
    try {
      const server = Deno.serve({
        hostname: address.hostname,
        port: address.port,
        onListen() {},
      }, (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/metrics") {
          return new Response(text(), { headers: { "content-type": METRICS_CONTENT_TYPE } });
        }
        if (path === "/") {
          return new Response("faultline: the trace's metrics are at /metrics\n");
        }
        return new Response("not found: faultline serves /metrics\n", { status: 404 });
      });
      return new MetricsServer(server);
    } catch (e) {
      const reason = e instanceof Deno.errors.AddrInUse
        ? "the port is in use; pick another with --metrics"
        : e instanceof Deno.errors.AddrNotAvailable
        ? "that address is not one of this machine's"
        : `${(e as Error).message}`;
      throw new FaultlineError(`Cannot serve metrics on ${shown}: ${reason}`);
    }
  }

  /** Stops listening. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}
