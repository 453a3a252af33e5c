import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { connect, ErrorCode } from "../../clients/index.js";
import { createLogger } from "../../src/log.js";
import { AppHooksPolicy, type AccessHooks } from "../../src/security/index.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

const GOOD = "user-token-0123456789";

/** The upgrade's outcome without a token: "open" or the HTTP status. */
function bareUpgrade(port: number): Promise<number | "open"> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    socket.on("open", () => {
      resolve("open");
      socket.close();
    });
    socket.on("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      socket.terminate();
    });
    socket.on("error", () => {});
  });
}

/**
 * An app's `authenticate` hook decides who a request is; "nobody" may come back as `null`, but hooks
 * written as `token === x && { name }` answer `false`, and others hand back odd principals. Only an
 * object is a principal: anything else is refused with 401, like `null`; and a principal whose `name`
 * cannot be read must not take the server down when a request of it is refused.
 */
describe.each(TRANSPORTS)("principals from an app's authenticate hook (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it.each([
    ["false", false],
    ["0", 0],
    ["an empty string", ""],
    ["a string", "alice"],
  ])("refuses an upgrade and an HTTP request (401) when the hook answers %s", async (_name, answer) => {
    const hooks: AccessHooks = {
      // The app reads a missing principal as "anonymous" and lets anonymous readers in: the gate must not let one in at all.
      authenticate: (request) => (request.token === GOOD ? { name: "user" } : (answer as never)),
      authorize: () => true,
    };
    const server = await startTestServer(transport, { access: new AppHooksPolicy(hooks, createLogger("silent")) });
    cleanups.push(server.stop);
    expect(await bareUpgrade(server.port)).toBe(401);
    expect((await fetch(`${server.url}/runtime/webhooks/durabletask/entities/Counter/x`)).status).toBe(401);
    const user = await connect(server.url, { token: GOOD, connectTimeoutMs: 5_000 });
    cleanups.push(() => user.close());
    expect(await user.call("Counter/x", "add", 1)).toBe(1);
  });

  it("answers forbidden, and keeps serving, when the principal's name cannot be read", async () => {
    const hooks: AccessHooks = {
      authenticate: () =>
        ({
          get name(): string {
            throw new Error("no name here");
          },
        }) as never,
      authorize: (_principal, action) => action === "read",
    };
    const server = await startTestServer(transport, { access: new AppHooksPolicy(hooks, createLogger("silent")) });
    cleanups.push(server.stop);
    const client = await connect(server.url, { token: GOOD, connectTimeoutMs: 5_000 });
    cleanups.push(() => client.close());
    await expect(client.signal("Counter/x", "add", 1)).rejects.toMatchObject({ code: ErrorCode.forbidden, message: "this client may not signal Counter/x" });
    expect(await client.get("Counter/x")).toBeNull(); // the connection, and the server, go on
    const refused = await fetch(`${server.url}/runtime/webhooks/durabletask/entities/Counter/x?op=add`, { method: "POST", headers: { authorization: `Bearer ${GOOD}`, "content-type": "application/json" }, body: "1" });
    expect(refused.status).toBe(403);
  });
});
