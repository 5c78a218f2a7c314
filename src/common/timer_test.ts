import assert from "node:assert/strict";
import { sleep, Timer } from "./timer.ts";

Deno.test("Timer: once, after its time; cancelled, never", async () => {
  const t0 = performance.now();
  let at = 0;
  await new Promise<void>((resolve) => new Timer(() => (at = performance.now(), resolve()), 40));
  assert.ok(at - t0 >= 39, `called after ${at - t0} ms`);

  let called = false;
  const never = new Timer(() => called = true, 30);
  await never.cancel();
  await sleep(60);
  assert.equal(called, false);
});

Deno.test("Timer: a wait longer than epoll's 2^31 ms is not cut short (setTimeout's was)", async () => {
  let called = false;
  const long = new Timer(() => called = true, 2 ** 32);
  await sleep(50);
  assert.equal(called, false);
  await long.cancel();
});

Deno.test("Timer: repeats at its period, skips (never bunches) calls a busy thread missed", async () => {
  const calls: number[] = [];
  const t0 = performance.now();
  const timer = new Timer(
    () => {
      calls.push(performance.now() - t0);
      // The second call keeps the thread 75 ms: three periods go by.
      if (calls.length === 2) { while (performance.now() - t0 < calls[1]! + 75); }
    },
    25,
    { repeat: true },
  );
  await sleep(240);
  await timer.cancel();
  const count = calls.length;
  await sleep(60);
  assert.equal(calls.length, count, "no call after cancel()");
  const gaps = calls.slice(1).map((t, i) => t - calls[i]!);
  assert.ok(gaps.every((g) => g >= 20), `no bunched calls: ${gaps.map(Math.round)}`);
  assert.ok(count >= 4 && count <= 8, `${count} calls in 240 ms, one busy for 75`);
  assert.throws(() => new Timer(() => {}, 0, { repeat: true }), /every 0 ms; give 1 ms or more/);
});

Deno.test("Timer: the error a callback throws ends the timer and rejects done", async () => {
  const timer = new Timer(
    () => {
      throw new Error("boom");
    },
    5,
    { repeat: true },
  );
  await assert.rejects(timer.done, /boom/);
});

Deno.test("Timer: a repeating timer's first call after firstMs, then every ms", async () => {
  const calls: number[] = [];
  const t0 = performance.now();
  const timer = new Timer(() => calls.push(performance.now() - t0), 60, {
    repeat: true,
    firstMs: 5,
  });
  await sleep(100);
  await timer.cancel();
  assert.ok(calls[0]! >= 4 && calls[0]! < 50, `first call at ${calls[0]} ms`);
  // In phase: the second is due at firstMs + ms (65 ms) however late the first ran.
  assert.ok(calls.length === 2 && calls[1]! >= 64, `calls at ${calls}`);
});
