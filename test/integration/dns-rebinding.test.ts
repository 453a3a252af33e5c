import { request as httpRequest } from "node:http";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { TokenPolicy } from "../../src/security/index.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

/** An HTTP request with exactly these headers (fetch would not send our Host). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body = ""): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A WebSocket upgrade with these headers: "open" or the HTTP status. */
function upgrade(port: number, headers: Record<string, string>): Promise<number | "open"> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
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
 * DNS rebinding: a page of attacker.example re-points its name at 127.0.0.1, and the browser then sends
 * its requests to the local server as same-origin ones: `Host: attacker.example:PORT`, and an `Origin`
 * that matches it. A server without authentication, bound to loopback, must answer only requests
 * addressed to it by a loopback name (or a name an --allow-origin gives), or any site the user visits
 * drives it.
 */
describe.each(TRANSPORTS)("requests addressed to another host name (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("are refused by a loopback server without authentication", async () => {
    const server = await startTestServer(transport);
    cleanups.push(server.stop);
    const port = server.port;
    const rebound = { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` };
    expect(await upgrade(port, rebound)).toBe(403);
    expect(await upgrade(port, { host: rebound.host })).toBe(403);
    expect(await send(port, "GET", "/runtime/webhooks/durabletask/entities/Counter/x", { host: rebound.host })).toBe(403);
    expect(await send(port, "POST", "/runtime/webhooks/durabletask/entities/Counter/x?op=add", { ...rebound, "content-type": "application/json" }, "1")).toBe(403);
    expect(await send(port, "GET", "/demo", { host: rebound.host })).toBe(403);
    expect(server.runtime.registry.names).toContain("Counter");

    // Loopback names, and requests without Host (HTTP/1.0 tools), are served.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `app.localhost:${port}`]) {
      expect(await upgrade(port, { host, origin: `http://${host}` }), host).toBe("open");
    }
    expect(await send(port, "GET", "/runtime/webhooks/durabletask/entities/Counter/x", { host: `localhost:${port}` })).toBe(404); // no state: served
    // The health check and the browser client stay public.
    expect(await send(port, "GET", "/healthz", { host: rebound.host })).toBe(200);
  });

  it("are served when --allow-origin names them, and by a server that authenticates", async () => {
    const named = await startTestServer(transport, { allowedOrigins: ["http://myapp.test:1234"] });
    cleanups.push(named.stop);
    expect(await upgrade(named.port, { host: "myapp.test:1234", origin: "http://myapp.test:1234" })).toBe("open");
    expect(await upgrade(named.port, { host: "other.test:1234", origin: "http://other.test:1234" })).toBe(403);

    const token = "proxy-token-0123456789";
    const authenticating = await startTestServer(transport, { access: TokenPolicy.fromTokens({ tokens: { [token]: { name: "p", grants: [{ entities: "*", actions: ["*"] }] } } }) });
    cleanups.push(authenticating.stop);
    const host = "durable.example.com";
    expect(await upgrade(authenticating.port, { host, origin: `http://${host}`, authorization: `Bearer ${token}` })).toBe("open");
    expect(await send(authenticating.port, "GET", "/runtime/webhooks/durabletask/entities/Counter/x", { host, authorization: `Bearer ${token}` })).toBe(404);
  });
});
