import { describe, expect, it } from "vitest";
import { RawSocket } from "./support/raw-socket.js";
import { startTestServer, tempDataDir, TRANSPORTS } from "./support/test-server.js";

describe.each(TRANSPORTS)("a server that cannot start, over %s", (transport) => {
  it("fails with a clear error, leaves nothing running behind it, and frees its data directory", async () => {
    const running = await startTestServer(transport);
    const dir = tempDataDir();
    try {
      await expect(startTestServer(transport, { port: running.port, dataDir: dir.path })).rejects.toThrow(/could not listen on 127\.0\.0\.1:\d+/);
      await new Promise((resolve) => setTimeout(resolve, 300)); // a background job of the failed start would fail here
      const retried = await startTestServer(transport, { dataDir: dir.path });
      await retried.stop();
      await expect(startTestServer(transport, { dataDir: running.dataDir })).rejects.toThrow(/is in use by another server/);
    } finally {
      await running.stop();
      dir.cleanup();
    }
  });
});

describe.each(TRANSPORTS)("stopping a server over %s", (transport) => {
  it("does not wait for a client that stopped reading", { timeout: 15_000 }, async () => {
    const server = await startTestServer(transport);
    const deaf = await RawSocket.greeted(server.port);
    deaf.socket.pause();
    const batch = Array.from({ length: 1000 }, (_, i) => ({ type: "get", id: i, entity: `Counter/${"k".repeat(400)}${i}` }));
    for (let round = 0; round < 20; round++) deaf.send(batch); // enough unread answers to fill the socket buffers
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.stop(); // ws would wait 30 s for the closing handshake
  });
});
