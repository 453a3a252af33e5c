import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { connect, ErrorCode } from "../../clients/index.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("connection limits (%s)", (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("answers upgrades past --max-connections with 503, and takes new ones once some close", async () => {
    const server = await startTestServer(transport, { maxConnections: 3 });
    cleanups.push(server.stop);
    const held = await Promise.all([0, 1, 2].map(() => RawSocket.greeted(server.port)));
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      socket.on("unexpected-response", (_request, response) => {
        resolve(response.statusCode ?? 0);
        response.resume();
      });
      socket.on("open", () => resolve(101));
      socket.on("error", () => {});
    });
    expect(status).toBe(503);
    held[0]!.close();
    await held[0]!.waitForClose();
    const again = await connect(server.url, { connectTimeoutMs: 5_000 }); // a slot came free
    await again.close();
    for (const socket of held.slice(1)) socket.close();
  });

  it("answers requests past --rate-limit with rate_limited and a retry hint, keeps the connection, and applies none of them", async () => {
    const server = await startTestServer(transport, { rateLimit: 10 }); // a burst of 20
    cleanups.push(server.stop);
    const socket = await RawSocket.greeted(server.port);
    cleanups.push(() => socket.close());
    socket.send(Array.from({ length: 30 }, (_, i) => ({ type: "signal", id: i + 1, entity: "Counter/limited", op: "add", input: 1 })));
    // Equal errors travel as one frame with the ids they answer.
    const idsOf = (frame: Record<string, unknown>) => (frame.ids as number[] | undefined) ?? [frame.id as number];
    const acked = () => socket.frames.filter((frame) => frame.type === "ack").flatMap(idsOf);
    const limited = () => socket.frames.filter((frame) => frame.type === "error").flatMap(idsOf);
    await socket.waitFor(() => acked().length + limited().length >= 30);
    expect(limited().length).toBeGreaterThanOrEqual(9);
    expect(socket.frames.find((frame) => frame.type === "error")).toMatchObject({ code: ErrorCode.rate_limited, message: expect.stringContaining("--rate-limit"), details: { retryAfterMs: expect.any(Number) } });
    const applied = acked().length;
    await new Promise((resolve) => setTimeout(resolve, 300)); // tokens come back
    socket.send({ type: "get", id: 100, entity: "Counter/limited" });
    const state = await socket.waitFor((frame) => frame.type === "state" && frame.id === 100);
    expect(state.state).toBe(applied);
  });
});
