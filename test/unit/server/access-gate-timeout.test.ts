import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { AppHooksPolicy, OriginPolicy } from "../../../src/security/index.js";
import { AccessGate } from "../../../src/server/access-gate.js";
import type { HttpRequest } from "../../../src/server/transport.js";

const upgradeRequest: HttpRequest = { method: "GET", path: "/ws", query: "", headers: { host: "127.0.0.1:7071", authorization: "Bearer someone-0123456789" }, body: Buffer.alloc(0) };

describe("an app's authenticate hook that does not answer", () => {
  it("holds the request no longer than the timeout: it is refused with 503, and a prompt hook still admits", async () => {
    const never = new AppHooksPolicy({ authenticate: () => new Promise(() => {}), authorize: () => true }, createLogger("silent"));
    const gate = new AccessGate(never, new OriginPolicy([], "http"), 50);
    const refused = await gate.upgrade(upgradeRequest);
    expect(refused.admitted).toBe(false);
    if (!refused.admitted) {
      expect(refused.response.status).toBe(503);
      expect(JSON.parse(String(refused.response.body))).toEqual({ code: "overloaded", message: "authentication did not answer within 50 ms; try again later" });
    }
    const prompt = new AppHooksPolicy({ authenticate: async () => ({ name: "ann" }), authorize: () => true }, createLogger("silent"));
    expect(await new AccessGate(prompt, new OriginPolicy([], "http"), 50).upgrade(upgradeRequest)).toEqual({ admitted: true, principal: { name: "ann" } });
  });
});
