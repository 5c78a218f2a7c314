import assert from "node:assert/strict";
import { FdWaiter } from "./fd_waiter.ts";

const libc = Deno.dlopen("libc.so.6", {
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
});

/** How long waiting on `waiter` for up to `ms` took. */
async function waited(waiter: FdWaiter, ms: number): Promise<number> {
  const t0 = performance.now();
  await waiter.wait(ms);
  return performance.now() - t0;
}

for (const edge of [false, true]) {
  Deno.test(`FdWaiter (${edge ? "edge" : "level"}): a descriptor made ready, and left so`, async () => {
    const fd = libc.symbols.eventfd(0, 0o4000 /* EFD_NONBLOCK */);
    assert.ok(fd >= 0);
    const waiter = new FdWaiter([fd], { edge });
    try {
      assert.ok(await waited(waiter, 200) >= 150, "nothing ready: the wait times out");
      libc.symbols.write(fd, new BigUint64Array([1n]), 8n);
      assert.ok(await waited(waiter, 2000) < 500, "made ready: the wait ends");
      // Still readable (never read): level-triggered waits end at once, edge-triggered ones
      // wait for the next change.
      const again = await waited(waiter, 200);
      if (edge) assert.ok(again >= 150, `waited ${again} ms`);
      else assert.ok(again < 100, `waited ${again} ms`);
      libc.symbols.write(fd, new BigUint64Array([1n]), 8n);
      assert.ok(await waited(waiter, 2000) < 500, "written again: ready again");
    } finally {
      await waiter.close();
      libc.symbols.close(fd);
    }
  });
}
