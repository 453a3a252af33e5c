import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { Board } from "../fixtures/live-app.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

const MiB = 1024 * 1024;

describe.each(TRANSPORTS)("what bad input costs the server, over %s", (transport) => {
  it("answers a message of thousands of invalid frames with one small error, and keeps serving", async () => {
    const server = await startTestServer(transport);
    try {
      const socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      let received = 0;
      let errors = 0;
      socket.on("message", (data: Buffer) => {
        received += data.length;
        const parsed = JSON.parse(data.toString()) as unknown;
        for (const frame of Array.isArray(parsed) ? parsed : [parsed]) if ((frame as { type?: string }).type === "error") errors++;
      });
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send(JSON.stringify({ type: "hello", version: 1 }));
      const junk = JSON.stringify(Array.from({ length: 10_000 }, () => ({}))); // 30 KB of frames with no type
      for (let i = 0; i < 10; i++) socket.send(junk);
      const peer = await RawSocket.greeted(server.port);
      peer.send({ type: "call", id: 1, entity: "Counter/fine", op: "add", input: 1 });
      expect((await peer.waitFor((f) => f.type === "result")).value).toBe(1);
      await expect.poll(() => errors, { timeout: 10_000 }).toBe(10); // one error per message
      expect(received).toBeLessThan(junk.length); // ten replies, together smaller than one message in
      socket.close();
      peer.close();
    } finally {
      await server.stop();
    }
  });
});

describe.each(TRANSPORTS)("the server-wide budget for connection buffers, over %s", (transport) => {
  it("closes the connections holding the most when all of them together pass it, and keeps serving the rest", async () => {
    // Each connection stays under its own cap (64 MiB); together they pass the budget (16 MiB).
    const server = await startTestServer(transport, { app: { Board }, maxBufferedBytes: 64 * MiB, maxBufferedBytesTotal: 16 * MiB });
    try {
      const setup = await RawSocket.greeted(server.port);
      setup.send({ type: "call", id: 1, entity: "Board/big", op: "fill", input: 500_000 });
      await setup.waitFor((frame) => frame.id === 1);
      const readers: RawSocket[] = [];
      for (let i = 0; i < 6; i++) {
        const greedy = await RawSocket.greeted(server.port);
        greedy.socket.pause(); // asks for 20 MB of answers and reads none of them
        greedy.send(Array.from({ length: 40 }, (_, n) => ({ type: "get", id: n + 1, entity: "Board/big" })));
        readers.push(greedy);
      }
      // All six together ask for about 120 MB against a 16 MiB budget: at most two of them can stay.
      await expect.poll(() => server.buffers().closedForBudget, { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
      expect(server.buffers().heldBytes).toBeLessThanOrEqual(16 * MiB);
      for (const greedy of readers) greedy.socket.resume();
      const closed = await Promise.all(readers.map((r) => r.waitForClose(20_000).catch(() => undefined)));
      expect(closed.filter((code) => code !== undefined).length).toBeGreaterThanOrEqual(4);
      setup.send({ type: "call", id: 2, entity: "Board/small", op: "bump", input: 1 });
      expect((await setup.waitFor((frame) => frame.id === 2)).value).toBe(1);
      setup.close();
      for (const reader of readers) reader.close();
    } finally {
      await server.stop();
    }
  });
});

describe.each(TRANSPORTS)("live-state snapshots for a connection that does not read, over %s", (transport) => {
  it("builds no more than the soft limit's worth at a time, however many subscribes one message holds", async () => {
    const server = await startTestServer(transport, { app: { Board } });
    try {
      const setup = await RawSocket.greeted(server.port);
      setup.send(Array.from({ length: 100 }, (_, i) => ({ type: "call", id: i + 1, entity: `Board/big-${i}`, op: "fill", input: 200_000 })));
      await setup.waitFor((frame) => frame.id === 100);
      const greedy = await RawSocket.greeted(server.port);
      greedy.socket.pause(); // 100 subscribes to 200 KB entities (20 MB of snapshots), read by no one
      greedy.send(Array.from({ length: 100 }, (_, i) => ({ type: "subscribe", id: i + 1, entity: `Board/big-${i}` })));
      await expect.poll(() => server.liveState.stats().subscriptions, { timeout: 10_000 }).toBe(100);
      await expect.poll(() => server.liveState.stats().stalled, { timeout: 10_000 }).toBeGreaterThan(50);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the resyncs that fit have run
      // What the kernel took, plus the soft limit (1 MiB) and one snapshot over it: far below the 20 MB asked for.
      expect(server.buffers().heldBytes).toBeLessThan(4 * MiB);
      expect(server.liveState.stats().stalled).toBeGreaterThan(50);
      greedy.socket.resume(); // reading now: every subscription gets its snapshot
      await expect.poll(() => greedy.frames.filter((frame) => frame.type === "snapshot").length, { timeout: 20_000 }).toBe(100);
      setup.close();
      greedy.close();
    } finally {
      await server.stop();
    }
  });
});

describe.each(TRANSPORTS)("a connection the server closes, over %s", (transport) => {
  it("stops being a subscriber at once, even if it never reads its close frame", async () => {
    const server = await startTestServer(transport, { app: { Board } });
    try {
      const peer = await RawSocket.greeted(server.port);
      peer.send({ type: "subscribe", id: 1, entity: "Board/watched" });
      await peer.waitFor((frame) => frame.id === 1);
      peer.socket.pause();
      peer.send({ type: "hello", version: 99 }); // an unsupported version: the server closes the connection
      await expect.poll(() => server.liveState.stats().subscriptions, { timeout: 3_000 }).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
