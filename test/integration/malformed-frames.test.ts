import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect } from "../../clients/index.js";
import { Board } from "../fixtures/live-app.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("bad input over %s", (transport) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeEach(async () => {
    server = await startTestServer(transport);
  });
  afterEach(async () => {
    await server.stop();
  });

  it("answers each malformed frame with an error frame and keeps serving the connection", async () => {
    const peer = await RawSocket.greeted(server.port, "malformed");
    const bad: Array<[unknown, string, number | undefined]> = [
      ["{not json", "bad_request", undefined],
      ["42", "bad_request", undefined],
      [{ type: "teleport", id: 1 }, "bad_request", 1],
      [{ type: "signal", id: 2, entity: "no-slash", op: "add" }, "bad_request", 2],
      [{ type: "signal", id: 3, entity: "Counter/", op: "add" }, "bad_request", 3],
      [{ type: "call", id: 4, entity: "Counter/x", op: "" }, "bad_request", 4],
      [{ type: "call", id: -5, entity: "Counter/x", op: "add" }, "bad_request", undefined],
      [{ type: "call", id: 6, entity: "Nope/x", op: "add" }, "unknown_entity", 6],
      [{ type: "call", id: 7, entity: "Counter/x", op: "fly" }, "unknown_operation", 7],
      [{ type: "call", id: 8, entity: "Counter/x", op: "add", input: "seven" }, "operation_failed", 8],
      [{ type: "hello", version: 1 }, "bad_request", undefined],
      [[{ type: "get", id: 9 }, { type: "get", id: 10, entity: "Counter/x" }], "bad_request", 9],
    ];
    for (const [frame] of bad) peer.send(frame);
    peer.send({ type: "call", id: 100, entity: "Counter/x", op: "add", input: 2 });
    const result = await peer.waitFor((f) => f.type === "result" && f.id === 100);
    expect(result.value).toBe(2);

    const errors = peer.frames.filter((f) => f.type === "error");
    for (const [, code, id] of bad) {
      // Errors alike released together leave as one frame listing their ids.
      const match = errors.find((e) => e.code === code && (e.id === id || (id !== undefined && Array.isArray(e.ids) && e.ids.includes(id))));
      expect(match, `an error ${code} with id ${id}`).toBeDefined();
      expect(typeof match!.message).toBe("string");
      expect(String(match!.message)).not.toMatch(/\n\s+at /); // no stack traces on the wire
    }
    expect(peer.frames.find((f) => f.type === "state" && f.id === 10)).toBeDefined();
    expect(peer.closeCode).toBeUndefined();
    peer.close();
  });

  it("refuses requests before hello, and an unsupported protocol version", async () => {
    const early = await RawSocket.open(server.port);
    early.send({ type: "get", id: 1, entity: "Counter/x" });
    const refused = await early.waitFor((f) => f.type === "error");
    expect(refused).toMatchObject({ id: 1, code: "handshake_required" });
    early.send({ type: "hello", version: 999 });
    const version = await early.waitFor((f) => f.code === "unsupported_version");
    expect(String(version.message)).toContain("999");
    expect(await early.waitForClose()).toBe(1002);
  });

  it("closes a connection whose message is over the size limit with 1009, and only that one", async () => {
    const bystander = await RawSocket.greeted(server.port);
    const offender = await RawSocket.greeted(server.port);
    offender.send(JSON.stringify({ type: "signal", id: 1, entity: "Counter/big", op: "add", input: "x".repeat(1024 * 1024) }));
    expect(await offender.waitForClose()).toBe(1009);
    bystander.send({ type: "call", id: 1, entity: "Counter/ok", op: "add", input: 1 });
    expect((await bystander.waitFor((f) => f.type === "result")).value).toBe(1);
    bystander.close();
  });

  it("survives a flood of garbage from many sockets and still answers", async () => {
    const peers = await Promise.all(Array.from({ length: 5 }, () => RawSocket.greeted(server.port)));
    for (let i = 0; i < 200; i++) {
      for (const peer of peers) {
        peer.send(i % 3 === 0 ? "\u0000\u0001garbage" : i % 3 === 1 ? { type: "signal", id: i } : [null, { id: "x" }, { type: "call" }]);
      }
    }
    const check = await RawSocket.greeted(server.port);
    check.send({ type: "call", id: 1, entity: "Counter/after-flood", op: "add", input: 3 });
    expect((await check.waitFor((f) => f.type === "result")).value).toBe(3);
    for (const peer of peers) {
      peer.send({ type: "call", id: 999, entity: "Counter/p", op: "get" });
      await peer.waitFor((f) => f.type === "result" && f.id === 999);
      expect(peer.closeCode).toBeUndefined();
      peer.close();
    }
    check.close();
  });
});

describe.each(TRANSPORTS)("a flooding connection over %s", (transport) => {
  it("is closed with 4009 (overloaded) past the in-flight limit; what it sent before the limit still runs", async () => {
    const server = await startTestServer(transport, { maxInflightRequests: 100 });
    try {
      const peer = await RawSocket.greeted(server.port, "flood");
      expect(peer.frames.find((f) => f.type === "welcome")).toMatchObject({ maxInflightRequests: 100 });
      peer.send(Array.from({ length: 500 }, (_, i) => ({ type: "signal", id: i + 1, entity: "Counter/flood", op: "add", input: 1 })));
      expect(await peer.waitForClose()).toBe(4009);
      const refusal = peer.frames.find((f) => f.type === "error");
      expect(refusal).toMatchObject({ id: 101, code: "overloaded" });
      const check = await RawSocket.greeted(server.port);
      check.send({ type: "call", id: 1, entity: "Counter/flood", op: "get" });
      expect((await check.waitFor((f) => f.type === "result")).value).toBe(100); // the first 100, and no more
      check.close();
    } finally {
      await server.stop();
    }
  });

  it("never overloads the server from the client, which keeps within the advertised window", async () => {
    const server = await startTestServer(transport, { maxInflightRequests: 100 });
    try {
      const client = await connect(server.url);
      await Promise.all(Array.from({ length: 2000 }, () => client.signal("Counter/windowed", "add", 1)));
      expect(await client.get("Counter/windowed")).toBe(2000);
      await client.close();
    } finally {
      await server.stop();
    }
  });
});

describe.each(TRANSPORTS)("a connection that sends but never reads, over %s", (transport) => {
  it("is closed with 4008 once its unsent answers pass the cap, and the server keeps serving", async () => {
    const server = await startTestServer(transport, { maxBufferedBytes: 256 * 1024 });
    try {
      const greedy = await RawSocket.greeted(server.port);
      greedy.socket.pause();
      const batch = Array.from({ length: 1000 }, (_, i) => ({ type: "get", id: i, entity: `Counter/${"k".repeat(400)}${i}` }));
      for (let round = 0; round < 60 && greedy.closeCode === undefined; round++) {
        greedy.send(batch);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      greedy.socket.resume();
      expect(await greedy.waitForClose(30_000)).toBe(4008);
      const other = await RawSocket.greeted(server.port);
      other.send({ type: "call", id: 1, entity: "Counter/fine", op: "add", input: 1 });
      expect((await other.waitFor((f) => f.type === "result")).value).toBe(1);
      other.close();
    } finally {
      await server.stop();
    }
  });
});

describe.each(TRANSPORTS)("a small request for huge answers over %s", (transport) => {
  it("closes that connection with 4008 before building them (600 gets of a 1 MB entity in one message), and the server keeps serving", async () => {
    const server = await startTestServer(transport, { app: { Board } });
    try {
      const asker = await RawSocket.greeted(server.port);
      asker.send({ type: "call", id: 1, entity: "Board/big", op: "fill", input: 1_000_000 });
      await asker.waitFor((frame) => frame.id === 1);
      asker.send(Array.from({ length: 600 }, (_, i) => ({ type: "get", id: 10 + i, entity: "Board/big" })));
      expect(await asker.waitForClose(30_000)).toBe(4008);
      const other = await RawSocket.greeted(server.port);
      other.send({ type: "call", id: 1, entity: "Board/small", op: "bump", input: 1 });
      expect((await other.waitFor((frame) => frame.type === "result")).value).toBe(1);
      other.close();
    } finally {
      await server.stop();
    }
  });
});
