import { connect as tcpConnect } from "node:net";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import { createLogger } from "../../src/log.js";
import { AppHooksPolicy, type AccessHooks } from "../../src/security/index.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";
import { until } from "./support/until.js";

/** An authenticate hook that waits (a slow identity service) until `release()`; it counts its calls. */
function slowHooks() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const state = { calls: 0 };
  const hooks: AccessHooks = {
    authenticate: async () => {
      state.calls++;
      await released;
      return { name: "user" };
    },
    authorize: () => true,
  };
  return { hooks, state, release, access: new AppHooksPolicy(hooks, createLogger("silent")) };
}

/** Starts an upgrade; resolves with "open" (the socket is kept) or the HTTP status. */
function upgrade(port: number, opened: WebSocket[]): Promise<number | "open"> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: "Bearer some-token-0123456789" } });
    socket.on("open", () => {
      opened.push(socket);
      resolve("open");
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
 * Upgrades whose authentication is still under way hold sockets (and an app's identity lookups): they
 * count against --max-connections, so that a burst of upgrades cannot open more connections than the
 * cap, nor hold an unbounded number of sockets while a slow hook answers. An upgrade that the client
 * gives up on meanwhile is dropped quietly.
 */
describe.each(TRANSPORTS)("upgrades waiting for authentication (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("count against --max-connections", async () => {
    const slow = slowHooks();
    const server = await startTestServer(transport, { access: slow.access, maxConnections: 2 });
    cleanups.push(server.stop);
    const opened: WebSocket[] = [];
    cleanups.push(() => opened.forEach((socket) => socket.terminate()));
    const outcomes: Array<number | "open"> = [];
    const all = Array.from({ length: 6 }, () => upgrade(server.port, opened).then((outcome) => outcomes.push(outcome)));
    // Each upgrade is either waiting in the hook or already answered.
    await until(() => slow.state.calls + outcomes.length >= 6, 10_000);
    slow.release();
    await Promise.all(all);
    expect(outcomes.filter((outcome) => outcome === "open")).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome === 503)).toHaveLength(4);
    expect(slow.state.calls).toBe(2); // the others were not even asked about
  });

  it("drop an upgrade whose client went away while the hook answered, and free its place", async () => {
    const slow = slowHooks();
    const server = await startTestServer(transport, { access: slow.access, maxConnections: 1 });
    cleanups.push(server.stop);
    const raw = tcpConnect(server.port, "127.0.0.1");
    raw.on("error", () => {});
    await new Promise<void>((resolve) => raw.once("connect", () => resolve()));
    raw.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer some-token-0123456789\r\n\r\n");
    await until(() => slow.state.calls === 1, 10_000);
    raw.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server sees the close
    slow.release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const client = await connect(server.url, { token: "some-token-0123456789", connectTimeoutMs: 5_000 });
    expect(await client.call("Counter/after-abort", "add", 1)).toBe(1);
    await client.close();
  });
});
