import { describe, expect, it } from "vitest";
import type { NatsConnection } from "nats";
import { connect, type DurableClient } from "../../../clients/index.js";
import type { Transfer } from "../../../src/demo/app.js";
import { partitionInboxAddress, partitionLogAddress } from "../../../src/cluster/log-names.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { startTestServer, tempDataDir } from "../support/test-server.js";
import { cleanupsAfterEach, firstSequence, startNatsWithObserver } from "./log-nodes.js";

const PARTITIONS = 16;
const ACCOUNTS = 6;

/** Counter ids that fall in every partition: each partition's log gets entries of its own. */
function countersInEveryPartition(perPartition: number): string[] {
  const ids: string[] = [];
  const found = new Map<number, number>();
  for (let k = 0; ids.length < PARTITIONS * perPartition; k++) {
    const id = `Counter/snap-${k}`;
    const partition = partitionOf(id, PARTITIONS);
    if ((found.get(partition) ?? 0) >= perPartition) continue;
    found.set(partition, (found.get(partition) ?? 0) + 1);
    ids.push(id);
  }
  return ids;
}

/** The first sequence each partition's stream (log or inbox) still holds: above 1 once it was purged. */
async function firstSequences(nats: NatsConnection, kind: "log" | "inbox"): Promise<number[]> {
  const jsm = await nats.jetstreamManager();
  const address = kind === "log" ? partitionLogAddress : partitionInboxAddress;
  return Promise.all(Array.from({ length: PARTITIONS }, (_, p) => firstSequence(jsm, address("default", p).stream)));
}

describe("snapshots: a partition's state in the object store, its log and inbox purged behind it", () => {
  const cleanups = cleanupsAfterEach();

  it("nodes rebuild from the latest snapshot and the log after it, on an empty data directory and on one the log has moved past", { timeout: 240_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);
    const dirs = { a: tempDataDir(), b: tempDataDir(), c: tempDataDir() };
    cleanups.push(() => Object.values(dirs).forEach((dir) => dir.cleanup()));
    // Each node's stop() is safe to call again (the cleanups call it once more after a failure).
    const node = async (name: keyof typeof dirs) => {
      const server = await startTestServer("ws", { cluster: { servers: nats.urls, node: name, leaseMs: 2_000, snapshotEntries: 3 }, dataDir: dirs[name].path });
      const stopServer = server.stop.bind(server);
      let stopped: Promise<void> | undefined;
      const stop = () => (stopped ??= stopServer());
      cleanups.push(stop);
      return Object.assign(server, { stop });
    };

    // Two nodes, so that messages between their partitions cross the inbox streams.
    const a = await node("a");
    const b = await node("b");
    const owned = () => [a, b].map((server) => server.hubs.list()[0]!.cluster!.owned.length);
    while (!(owned().every((count) => count > 0) && owned()[0]! + owned()[1]! === PARTITIONS)) await new Promise((resolve) => setTimeout(resolve, 100));

    const client = await connect([a.url, b.url], { clientId: "snapshots" });
    cleanups.push(() => client.close());
    await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => client.signal(`Account/a${i}`, "deposit", 100)));
    const transfers = Array.from({ length: 12 }, (_, i) => ({ instanceId: `snap-t-${i}`, from: `a${i % ACCOUNTS}`, to: `a${(i + 1) % ACCOUNTS}`, amount: 5 + i }));
    await Promise.all(transfers.map(({ instanceId, from, to, amount }) => client.start<typeof Transfer>("Transfer", { from, to, amount }, { instanceId })));
    for (const { instanceId } of transfers) expect((await client.waitForCompletion<typeof Transfer>(instanceId, { timeoutMs: 60_000 })).runtimeStatus, instanceId).toBe("Completed");

    // Rounds of signals, each round a commit (or more) in every partition: several snapshots of each.
    const counters = countersInEveryPartition(2);
    const rounds = async (on: DurableClient, count: number) => {
      for (let round = 0; round < count; round++) await Promise.all(counters.map((id) => on.signal(id, "add", 1)));
    };
    await rounds(client, 8);
    const balances = await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => client.call<number>(`Account/a${i}`, "get")));
    expect(balances.reduce((sum, balance) => sum + balance, 0)).toBe(ACCOUNTS * 100);
    await client.close();

    // Every partition's log was purged behind a snapshot (its snapshots are stored and the pointer moved), and inboxes that received messages were trimmed.
    const pointers = await (await observer.jetstream().views.kv("DE_default_SNAPSHOT_INDEX", { bindOnly: true })).keys();
    const keys: string[] = [];
    for await (const key of pointers) keys.push(key);
    expect(keys.sort()).toEqual(Array.from({ length: PARTITIONS }, (_, p) => `p.${p}`).sort());
    expect((await firstSequences(observer, "log")).filter((first) => first > 1)).toHaveLength(PARTITIONS);
    expect((await firstSequences(observer, "inbox")).filter((first) => first > 1).length).toBeGreaterThan(0);
    await a.stop();
    await b.stop();

    // A node on an empty data directory: every partition from its snapshot and the log after it.
    const c = await node("c");
    const onC = await connect(c.url, { clientId: "snapshots-c" });
    cleanups.push(() => onC.close());
    expect(await Promise.all(counters.map((id) => onC.call<number>(id, "get")))).toEqual(counters.map(() => 8));
    expect(await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => onC.call<number>(`Account/a${i}`, "get")))).toEqual(balances);
    for (const { instanceId } of transfers) expect((await onC.status(instanceId))?.runtimeStatus, instanceId).toBe("Completed");
    // It goes on writing, snapshotting and purging: the logs move past what node a's copy holds.
    await rounds(onC, 8);
    await onC.close();
    await c.stop();

    // Node a again, on its old data directory: where its copy stands is purged from the logs, so its partitions come from the snapshots.
    const again = await node("a");
    const onA = await connect(again.url, { clientId: "snapshots-a" });
    cleanups.push(() => onA.close());
    expect(await Promise.all(counters.map((id) => onA.call<number>(id, "get")))).toEqual(counters.map(() => 16));
    expect(await Promise.all(Array.from({ length: ACCOUNTS }, (_, i) => onA.call<number>(`Account/a${i}`, "get")))).toEqual(balances);
    await onA.signal(counters[0]!, "add", 1);
    expect(await onA.call<number>(counters[0]!, "get")).toBe(17);
  });
});
