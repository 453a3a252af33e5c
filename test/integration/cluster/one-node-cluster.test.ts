import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../../clients/index.js";
import type { Transfer } from "../../../src/demo/app.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer, tempDataDir } from "../support/test-server.js";

type TransferOutput = { ok: boolean; fromBalance: number; toBalance: number };

describe("a one-node cluster: durability in the partitions' logs on NATS JetStream", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("serves signals, calls and transfers across partitions, and a node started on an empty data directory gets every state back from the logs", async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const cluster = { servers: nats.urls, node: "a", leaseMs: 2_000 };
    const first = await startTestServer("ws", { cluster });
    cleanups.push(() => first.stop());
    expect(first.hubs.list()[0]!.cluster?.owned).toHaveLength(16);

    const client = await connect(first.url, { clientId: "one-node" });
    cleanups.push(() => client.close());
    const counters = Array.from({ length: 20 }, (_, i) => `Counter/c${i}`);
    await Promise.all(counters.flatMap((id, i) => Array.from({ length: 5 }, () => client.signal(id, "add", i))));
    expect(await Promise.all(counters.map((id) => client.call<number>(id, "get")))).toEqual(counters.map((_, i) => 5 * i));

    // Transfers lock two accounts, usually in other partitions than the orchestration's: every message between them crosses an inbox.
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.signal(`Account/a${i}`, "deposit", 100)));
    const transfers = Array.from({ length: 12 }, (_, i) => ({ instanceId: `t-${i}`, from: `a${i % 6}`, to: `a${(i + 1) % 6}`, amount: 10 + i }));
    await Promise.all(transfers.map(({ instanceId, from, to, amount }) => client.start<typeof Transfer>("Transfer", { from, to, amount }, { instanceId })));
    for (const { instanceId } of transfers) {
      const status = await client.waitForCompletion<typeof Transfer>(instanceId, { timeoutMs: 30_000 });
      expect(status.runtimeStatus, instanceId).toBe("Completed");
      expect((status.output as TransferOutput).ok, instanceId).toBe(true);
    }
    const balances = await Promise.all(Array.from({ length: 6 }, (_, i) => client.call<number>(`Account/a${i}`, "get")));
    expect(balances.reduce((sum, balance) => sum + balance, 0)).toBe(600);
    await client.close();
    await first.stop();

    // A new node, nothing on its disk: it takes every partition and replays its log.
    const second = await startTestServer("ws", { cluster: { ...cluster, node: "b" }, dataDir: tempDataDir().path });
    cleanups.push(() => second.stop());
    const again = await connect(second.url, { clientId: "one-node-again" });
    cleanups.push(() => again.close());
    expect(await Promise.all(counters.map((id) => again.call<number>(id, "get")))).toEqual(counters.map((_, i) => 5 * i));
    expect(await Promise.all(Array.from({ length: 6 }, (_, i) => again.call<number>(`Account/a${i}`, "get")))).toEqual(balances);
    for (const { instanceId } of transfers) expect((await again.status(instanceId))?.runtimeStatus, instanceId).toBe("Completed");
    // And it goes on from there.
    await again.signal("Counter/c1", "add", 1);
    expect(await again.call<number>("Counter/c1", "get")).toBe(6);
  });
});
