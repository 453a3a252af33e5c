import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, ErrorCode, type DurableClient } from "../../clients/index.js";
import { TokenPolicy } from "../../src/security/index.js";
import { startTestServer } from "./support/test-server.js";

const ADMIN = "admin-token-0123456789";
/** Granted the listing of a type spelled `counter`, which the app does not host (it hosts `Counter`). */
const LOWER = "lowercase-token-012345";
/** Granted the listing of `Counter`. */
const COUNTER = "counter-token-01234567";

/**
 * `listEntities` with `ignoreCase` lists the hosted type whose name matches ignoring case. The grant
 * checked must be the one on the type listed, not on the spelling the client sent: a grant on
 * `counter/*` is not a grant on `Counter/*`.
 */
describe("listing entities ignoring case, under grants", () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let admin: DurableClient;
  beforeAll(async () => {
    const access = TokenPolicy.fromTokens({
      tokens: {
        [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }] },
        [LOWER]: { name: "lower", grants: [{ entities: "counter/*", actions: ["read"] }] },
        [COUNTER]: { name: "counter", grants: [{ entities: "Counter/*", actions: ["read"] }] },
      },
    });
    server = await startTestServer("ws", { access });
    admin = await connect(server.url, { token: ADMIN });
    await admin.call("Counter/secret", "add", 42);
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  it("checks the grant on the type it lists", async () => {
    const lower = await connect(server.url, { token: LOWER });
    try {
      await expect(lower.listEntities({ type: "counter", ignoreCase: true, includeState: true })).rejects.toMatchObject({ code: ErrorCode.forbidden, message: "lower may not read Counter/*" });
      await expect(lower.listEntities({ type: "Counter" })).rejects.toMatchObject({ code: ErrorCode.forbidden });
    } finally {
      await lower.close();
    }
  });

  it("lets a grant on the type list it under any spelling", async () => {
    const counter = await connect(server.url, { token: COUNTER });
    try {
      const page = await counter.listEntities({ type: "COUNTER", ignoreCase: true, includeState: true });
      expect(page.entities).toEqual([expect.objectContaining({ id: "Counter/secret", state: 42 })]);
    } finally {
      await counter.close();
    }
  });
});
