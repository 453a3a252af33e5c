import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../../clients/index.js";
import { Blob } from "../../fixtures/cluster-listing-app.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer } from "../support/test-server.js";

/**
 * Review (fixed): a tick's writes to one partition were one JetStream message, and NATS refuses
 * messages over its max_payload (1 MB by default), so a state the server otherwise allows (16 MB) could
 * never be committed in cluster mode. Larger entries are now appended as chunks (log-entry.ts).
 */
describe("review: a commit whose entry for one partition exceeds NATS's max_payload", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("an entity state of 1.2 MB (allowed: the limit is 16 MB) is committed", { timeout: 60_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const server = await startTestServer("ws", { app: [Blob], cluster: { servers: nats.urls, node: "a", leaseMs: 2_000 } });
    cleanups.push(() => server.stop());
    const client = await connect(server.url, { clientId: "large" });
    cleanups.push(() => client.close());
    const chunk = "x".repeat(200_000); // a client message may be at most 256 KB: the state grows in steps
    for (let step = 1; step <= 5; step++) expect(await client.call<number>("Blob/b", "append", chunk)).toBe(step * 200_000);
    const second = await Promise.race([
      client.call<number>("Blob/b", "append", chunk),
      new Promise((resolve) => setTimeout(() => resolve("no answer within 40 s"), 40_000)),
    ]).catch((error: unknown) => `refused: ${String((error as Error).message)}`);
    expect(second).toBe(1_200_000);

    // Read back from the log alone (chunks put together again): a node on an empty data directory.
    await client.close();
    await server.stop();
    const fresh = await startTestServer("ws", { app: [Blob], cluster: { servers: nats.urls, node: "b", leaseMs: 2_000 } });
    cleanups.push(() => fresh.stop());
    const reader = await connect(fresh.url, { clientId: "large-reader" });
    cleanups.push(() => reader.close());
    expect(((await reader.get<string>("Blob/b")) ?? "").length).toBe(1_200_000);
    expect(await reader.call<number>("Blob/b", "append", "y")).toBe(1_200_001);
  });
});
