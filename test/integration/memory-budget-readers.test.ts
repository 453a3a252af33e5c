// The server-wide memory budget must not close a client that reads what it is sent while idle
// connections that read nothing (each under every per-connection cap) stay open.
import { describe, expect, it } from "vitest";
import { Board } from "../fixtures/live-app.js";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, TRANSPORTS } from "./support/test-server.js";

const MiB = 1024 * 1024;

describe.each(TRANSPORTS)("the memory budget and a reader among stalled subscribers, over %s", (transport) => {
  it("closes the subscribers that stopped reading, not the reader that holds the most for a moment", async () => {
    const server = await startTestServer(transport, { app: { Board }, maxBufferedBytesTotal: 16 * MiB });
    const stalled: RawSocket[] = [];
    try {
      const writer = await RawSocket.greeted(server.port);
      writer.send({ type: "call", id: 1, entity: "Board/big", op: "fill", input: 10_000_000 });
      await writer.waitFor((f) => f.id === 1, 30_000);
      // Ten subscribers that stop reading: live state skips each once about 1 MiB is unsent, so
      // each holds ~1 MiB for good, under every per-connection cap; together about 10 MiB.
      for (let i = 0; i < 10; i++) {
        const subscriber = await RawSocket.greeted(server.port);
        subscriber.send({ type: "subscribe", id: 1, entity: "Board/feed" });
        await subscriber.waitFor((f) => f.type === "snapshot");
        subscriber.socket.pause();
        stalled.push(subscriber);
      }
      for (let n = 0; n < 200 && server.liveState.stats().stalled < stalled.length; n++) {
        writer.send({ type: "call", id: 100 + n, entity: "Board/feed", op: "fill", input: 150_000 });
        await writer.waitFor((f) => f.id === 100 + n);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(server.liveState.stats().stalled).toBe(stalled.length);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // they have made no progress for over a second
      expect(server.buffers().heldBytes).toBeGreaterThan(8 * MiB);
      expect(server.buffers().closedForBudget).toBe(0);

      // One ~10 MB answer, read at once: together with the stalled subscribers it passes the budget.
      const reader = await RawSocket.greeted(server.port);
      reader.send({ type: "get", id: 1, entity: "Board/big" });
      const answer = await reader.waitFor((f) => f.id === 1, 15_000);
      expect(answer.type).toBe("state");
      expect(server.buffers().closedForBudget).toBeGreaterThan(0); // the budget did act...
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(reader.closeCode).toBeUndefined(); // ...on the subscribers that were not reading
      for (const subscriber of stalled) subscriber.socket.resume();
      const codes = await Promise.all(stalled.map((s) => s.waitForClose(5_000).catch(() => undefined)));
      expect(codes.filter((code) => code !== undefined).length).toBe(server.buffers().closedForBudget);
      reader.send({ type: "call", id: 2, entity: "Board/small", op: "bump", input: 1 });
      expect((await reader.waitFor((f) => f.id === 2)).value).toBe(1);
      reader.close();
      writer.close();
    } finally {
      for (const subscriber of stalled) subscriber.close();
      await server.stop();
    }
  }, 120_000);
});
