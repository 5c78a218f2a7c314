import assert from "node:assert/strict";
import { decodeErrorCode } from "./faultline_event.ts";

Deno.test("decodeErrorCode() decodes the x86 page-fault error codes the kernel reports", () => {
  // Error codes seen in the real run in probes/faultline_example.txt.
  assert.deepEqual(decodeErrorCode(4), { access: "read", mode: "user", cause: "not_present" });
  assert.deepEqual(decodeErrorCode(6), { access: "write", mode: "user", cause: "not_present" });
  assert.deepEqual(decodeErrorCode(7), { access: "write", mode: "user", cause: "protection" });
  assert.deepEqual(decodeErrorCode(0x14), { access: "exec", mode: "user", cause: "not_present" });
  assert.deepEqual(decodeErrorCode(5), { access: "read", mode: "user", cause: "protection" });
  assert.deepEqual(decodeErrorCode(2), { access: "write", mode: "kernel", cause: "not_present" });
  assert.deepEqual(decodeErrorCode(0), { access: "read", mode: "kernel", cause: "not_present" });
});
