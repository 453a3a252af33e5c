import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { AppHooksPolicy, type AccessHooks } from "../../src/security/index.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";
import { until } from "./support/until.js";

/**
 * An upgrade whose authentication is still under way when the server closes must not open a WebSocket
 * once the hook answers: `close()` has already closed every connection, so that one would stay open
 * (on a server that takes no work) with nothing left to close it.
 */
describe.each(TRANSPORTS)("an upgrade authenticated while the server closes (%s)", (transport) => {
  it("is refused, not opened", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const hooks: AccessHooks = {
      authenticate: async () => {
        calls++;
        await released;
        return { name: "user" };
      },
      authorize: () => true,
    };
    const server = await startTestServer(transport, { access: new AppHooksPolicy(hooks, createLogger("silent")) });
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { authorization: "Bearer user-token-0123456789" } });
    const outcome = new Promise<string>((resolve) => {
      socket.on("open", () => resolve("open"));
      socket.on("unexpected-response", (_request, response) => {
        response.resume();
        resolve(`status ${response.statusCode}`);
      });
      socket.on("error", () => resolve("error"));
    });
    try {
      await until(() => calls === 1, 10_000);
      const closing = server.stop();
      await new Promise((resolve) => setTimeout(resolve, 50)); // close() is under way, or done
      release();
      await closing;
      expect(await outcome).toBe("status 503");
    } finally {
      socket.terminate();
    }
  });
});
