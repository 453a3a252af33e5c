import { describe, expect, it } from "vitest";
import type { LoggedWrites } from "../../../src/storage/index.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { cleanupsAfterEach, openLogNode, testEntry } from "./log-nodes.js";

/**
 * Review: PartitionLog.read() keeps 64 direct gets in flight. When the one it awaits rejects (NATS
 * does not answer: the server died, the stream's leader moved), the generator throws and the other
 * gets are abandoned, with no handler: each of them that rejects is an unhandled rejection. In the
 * `serve` process (src/cli/fatal-exit.ts) an unhandled rejection is fatal: the node exits with code 1,
 * where the failed open should only have given the lease back. The same happens when the reader stops
 * early (the catch-up's applyLogged throws: the generator's return() leaves the gets running).
 */
describe("review: a partition log read that fails with direct gets in flight", () => {
  const cleanups = cleanupsAfterEach();

  const node = (nats: readonly string[], name: string) => openLogNode({ servers: nats, hub: "readahead", name, connection: { reconnectTimeWait: 100, maxReconnectAttempts: -1 } }, cleanups);

  it("leaves no unhandled rejection behind (the serve process would exit on it)", { timeout: 120_000 }, async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    cleanups.push(() => void process.off("unhandledRejection", record));

    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const a = await node(nats.urls, "a");
    await a.logs.openPartition(0);
    for (let index = 0; index < 400; index++) await a.logs.commit(testEntry(index));

    // Node b catches the partition up from the log (100 entries per apply); NATS dies during the first apply.
    const b = await node(nats.urls, "b");
    const apply = b.store.applyLogged.bind(b.store);
    let killed = false;
    b.store.applyLogged = async (parts: readonly LoggedWrites[]) => {
      if (!killed && parts.length > 1) {
        killed = true;
        await nats.kill(0);
      }
      return apply(parts);
    };
    const outcome = await b.logs.openPartition(0).then(
      () => "opened",
      (error: unknown) => `failed: ${String(error)}`,
    );
    expect(killed).toBe(true);
    expect(outcome).toMatch(/^failed/);
    // The other gets in flight time out too (the client's request timeout): give them the time to.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(unhandled.length, `unhandled rejections, the first: ${String(unhandled[0])}`).toBe(0);
  });
});
