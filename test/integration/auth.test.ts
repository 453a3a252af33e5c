import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, ErrorCode, type DurableClient } from "../../clients/index.js";
import { TokenPolicy, type TokensFile } from "../../src/security/index.js";
import { json, startServer } from "../../src/server/index.js";
import * as demoApp from "../../src/demo/app.js";
import { createLogger } from "../../src/log.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

const ADMIN = "s3cr3t-admin-token-0123";
const VIEWER = "page-viewer-token-0123";
const APP = "counter-app-token-01234";
const TOKENS: TokensFile = {
  tokens: {
    [ADMIN]: { name: "admin", grants: [{ entities: "*", actions: ["*"] }, { orchestrations: "*", actions: ["*"] }] },
    [VIEWER]: { name: "viewer", grants: [{ entities: "Stats/page-views", actions: ["subscribe", "read"] }] },
    [APP]: { name: "app", grants: [{ entities: "Counter/*", actions: ["signal", "call", "read"] }, { orchestrations: "Hello*", actions: ["start", "status"] }] },
  },
};

/** Opens a raw WebSocket and resolves with the upgrade's outcome: "open" (and the chosen protocol) or the HTTP status. */
function upgrade(url: string, options: { headers?: Record<string, string>; protocols?: string[]; query?: string } = {}): Promise<{ status: number | "open"; protocol?: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/ws${options.query ?? ""}`, options.protocols ?? [], { headers: options.headers });
    socket.on("open", () => {
      resolve({ status: "open", protocol: socket.protocol });
      socket.close();
    });
    socket.on("unexpected-response", (_request, response) => {
      resolve({ status: response.statusCode ?? 0 });
      response.resume();
      socket.terminate();
    });
    socket.on("error", () => {});
  });
}

describe.each(TRANSPORTS)("authentication and authorization (%s)", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let admin: DurableClient;
  beforeAll(async () => {
    server = await startTestServer(transport, { access: TokenPolicy.fromTokens(TOKENS), httpRoutes: { "GET /page": async () => json(200, { page: true }) } });
    admin = await connect(server.url, { token: ADMIN });
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  it("refuses upgrades without a token or with a wrong one (401, before a WebSocket exists), and from other origins (403)", async () => {
    expect(await upgrade(server.url)).toEqual({ status: 401 });
    expect(await upgrade(server.url, { headers: { authorization: "Bearer not-a-token-at-all" } })).toEqual({ status: 401 });
    expect(await upgrade(server.url, { headers: { authorization: `Bearer ${APP}`, origin: "http://evil.example" } })).toEqual({ status: 403 });
    await expect(connect(server.url, { connectTimeoutMs: 3_000 })).rejects.toMatchObject({ code: ErrorCode.unauthorized });
    await expect(connect(server.url, { token: "wrong-token-0123456789", connectTimeoutMs: 3_000 })).rejects.toMatchObject({ code: ErrorCode.unauthorized });
  });

  it("takes the token as a bearer header, a token query parameter, or a bearer.<token> protocol value (answering the durable-entities protocol)", async () => {
    expect(await upgrade(server.url, { headers: { authorization: `Bearer ${APP}` } })).toEqual({ status: "open", protocol: "" });
    expect(await upgrade(server.url, { query: `?token=${APP}` })).toEqual({ status: "open", protocol: "" });
    expect(await upgrade(server.url, { protocols: ["durable-entities", `bearer.${APP}`] })).toEqual({ status: "open", protocol: "durable-entities" });
    const origin = new URL(server.url).origin;
    expect(await upgrade(server.url, { headers: { authorization: `Bearer ${APP}`, origin } })).toEqual({ status: "open", protocol: "" }); // its own origin
  });

  it("answers each request a token does not allow with forbidden, keeps the connection, and changes nothing", async () => {
    const app = await connect(server.url, { token: APP });
    const viewer = await connect(server.url, { token: VIEWER });
    try {
      await admin.signal("Stats/x", "record", 5);
      await admin.signal("Stats/page-views", "record", 1);
      const statsBefore = await admin.get("Stats/x");
      await expect(app.signal("Stats/x", "record", 100)).rejects.toMatchObject({ code: ErrorCode.forbidden, message: "app may not signal Stats/x" });
      await expect(app.call("Stats/x", "record", 100)).rejects.toMatchObject({ code: ErrorCode.forbidden });
      await expect(app.get("Stats/x")).rejects.toMatchObject({ code: ErrorCode.forbidden });
      expect(await app.call("Counter/allowed", "add", 2)).toBe(2); // the same connection goes on
      const subscription = app.subscribe("Counter/allowed", () => {});
      await expect(subscription.ready).rejects.toMatchObject({ code: ErrorCode.forbidden, message: "app may not subscribe Counter/allowed" });

      await expect(viewer.signal("Stats/page-views", "record", 100)).rejects.toMatchObject({ code: ErrorCode.forbidden }); // read-only
      await expect(viewer.get("Stats/x")).rejects.toMatchObject({ code: ErrorCode.forbidden }); // another entity
      const live = viewer.subscribe("Stats/page-views", () => {});
      expect((await live.ready).state).toMatchObject({ count: 1 });
      expect(await viewer.get("Stats/page-views")).toMatchObject({ count: 1 });

      expect(await admin.get("Stats/x")).toEqual(statsBefore);
      expect(await admin.get("Stats/page-views")).toMatchObject({ count: 1 });
    } finally {
      await app.close();
      await viewer.close();
    }
  });

  it("authorizes orchestrations by name: start and status of its own names only", async () => {
    const app = await connect(server.url, { token: APP });
    try {
      const id = await app.start("HelloSequence", undefined);
      expect((await app.waitForCompletion(id)).runtimeStatus).toBe("Completed");
      await expect(app.start("FanOutFanIn", 3)).rejects.toMatchObject({ code: ErrorCode.forbidden, message: "app may not start orchestration FanOutFanIn" });
      await expect(app.terminate(id)).rejects.toMatchObject({ code: ErrorCode.forbidden }); // manage is not granted
      const other = await admin.start("FanOutFanIn", 2);
      await expect(app.status(other)).rejects.toMatchObject({ code: ErrorCode.forbidden });
      await expect(app.status("no-such-instance")).rejects.toMatchObject({ code: ErrorCode.forbidden }); // existence is not told
      expect(await admin.status("no-such-instance")).toBeNull();
    } finally {
      await app.close();
    }
  });

  it("authenticates every HTTP request but the health check and the browser client, and refuses state changes from other origins", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/client.js`)).status).toBe(200);
    const refused = await fetch(`${server.url}/page`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await refused.json()).toMatchObject({ code: ErrorCode.unauthorized });
    expect((await fetch(`${server.url}/page`, { headers: { authorization: `Bearer ${VIEWER}` } })).status).toBe(200);
    expect((await fetch(`${server.url}/page?token=${VIEWER}`)).status).toBe(200);
    const crossSite = await fetch(`${server.url}/anything`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}`, origin: "http://evil.example" }, body: "{}" });
    expect(crossSite.status).toBe(403);
    expect(await crossSite.json()).toMatchObject({ code: ErrorCode.forbidden });
  });
});

describe("without authentication", () => {
  it("refuses to bind an address other machines can reach, unless told it is on purpose", async () => {
    const dir = tempDataDir();
    try {
      await expect(startServer({ app: demoApp, dataDir: dir.path, host: "0.0.0.0", port: 0, log: createLogger("silent") })).rejects.toThrow(
        /refusing to serve 0\.0\.0\.0 without authentication.*--auth FILE.*--insecure/,
      );
    } finally {
      dir.cleanup();
    }
  });

  it.each(TRANSPORTS)("refuses WebSocket upgrades from pages of other origins (cross-site WebSocket hijacking) over %s", async (transport) => {
    const server = await startTestServer(transport);
    try {
      expect(await upgrade(server.url, { headers: { origin: "http://evil.example" } })).toEqual({ status: 403 });
      expect(await upgrade(server.url, { headers: { origin: new URL(server.url).origin } })).toEqual({ status: "open", protocol: "" });
      expect(await upgrade(server.url)).toEqual({ status: "open", protocol: "" }); // Node, curl: no Origin
    } finally {
      await server.stop();
    }
  });
});
