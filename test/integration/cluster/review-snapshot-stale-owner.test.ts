import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats, type NatsConnection } from "nats";
import { trimInbox } from "../../../src/cluster/inbox-trimming.js";
import { partitionInboxAddress, partitionLogAddress } from "../../../src/cluster/log-names.js";
import { PartitionLogs } from "../../../src/cluster/partition-logs.js";
import { PartitionSnapshots } from "../../../src/cluster/partition-snapshots.js";
import { LmdbStore, type LoggedWrites } from "../../../src/storage/index.js";
import { startNatsServer } from "../../support/nats-servers.js";

const HUB = "stale";

/**
 * Review coverage: a stale owner (one that has not noticed that another node is taking its partition
 * over: paused and resumed, or slow to see the lease move) goes on appending, snapshotting, purging the
 * log and trimming the inbox while the new owner opens the partition from an older snapshot. The new
 * owner's read of the purged entries makes it start again from the newer snapshot; its copy is then
 * exactly the log's state, and the inbox still holds everything after that copy's inbox position.
 * Then: two nodes saving snapshots of one partition at once; the pointer only moves forward.
 */
describe("review: a stale owner snapshotting while the new owner opens", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function node(nats: string[], name: string) {
    const dir = mkdtempSync(join(tmpdir(), `de-snap-stale-${name}-`));
    const store = await LmdbStore.open({ path: dir, partitionCount: 2, outbox: true });
    const connection = await connectNats({ servers: nats });
    const snapshots = await PartitionSnapshots.open(connection, { hub: HUB, replicas: 1 });
    const jsm = await connection.jetstreamManager();
    const logs = new PartitionLogs(connection, store, snapshots, { hub: HUB, node: name, replicas: 1, snapshotEntries: 3, onSnapshot: (partition) => trimInbox(jsm, HUB, store, partition) });
    store.useLog(logs);
    cleanups.push(async () => {
      await connection.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store, logs, snapshots };
  }

  const entry = (index: number) => [
    {
      partition: 0,
      writes: [
        { key: [0, "t", `k${index}`], value: String(index) },
        { key: [0, "c", "inbox"], value: JSON.stringify(index) },
      ],
    },
  ];
  const state = (store: LmdbStore) => Object.fromEntries(store.readPartition(0).filter((write) => write.key[1] === "t").map((write) => [write.key[2], write.value]));
  const expected = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index + 1}`, String(index + 1)]));

  async function pointerOf(connection: NatsConnection): Promise<{ sequence: number; batchId: string; object: string } | undefined> {
    const index = await connection.jetstream().views.kv(`DE_${HUB}_SNAPSHOT_INDEX`, { bindOnly: true });
    return (await index.get("p.0"))?.json();
  }

  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`not within 30 s: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("the new owner ends with the log's state; the inbox is not trimmed past its position", { timeout: 120_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const observer = await connectNats({ servers: nats.urls });
    cleanups.push(() => observer.close());
    const js = observer.jetstream();
    const jsm = await observer.jetstreamManager();
    const inbox = partitionInboxAddress(HUB, 0);
    const firstOf = async (stream: string) => (await jsm.streams.info(stream)).state.first_seq;

    const a = await node(nats.urls, "a");
    await a.logs.openPartition(0);
    let written = 0;
    const write = async () => {
      written++;
      await js.publish(inbox.subject, new TextEncoder().encode(`message ${written}`));
      await a.logs.commit(entry(written));
    };
    for (let count = 0; count < 3; count++) await write();
    await until(async () => (await pointerOf(observer)) !== undefined && (await firstOf(inbox.stream)) > 1, "a's first snapshot and inbox trim");
    const first = (await pointerOf(observer))!;

    // Node b restores a's first snapshot; before it replays the log after it, a (not knowing) writes on:
    // its next snapshot purges the log behind it, trims the inbox and removes the snapshot b loaded.
    const b = await node(nats.urls, "b");
    const apply = b.store.applyLogged.bind(b.store);
    let interleaved = false;
    b.store.applyLogged = async (parts: readonly LoggedWrites[]) => {
      if (!interleaved && parts[0]?.position.sequence === first.sequence) {
        interleaved = true;
        for (let count = 0; count < 3; count++) await write();
        await until(async () => (await pointerOf(observer))!.sequence > first.sequence && (await firstOf(partitionLogAddress(HUB, 0).stream)) > first.sequence, "a's second snapshot and purge");
        await until(async () => (await firstOf(inbox.stream)) > 4, "a's second inbox trim");
      }
      return apply(parts);
    };
    await b.logs.openPartition(0);
    expect(interleaved).toBe(true);
    expect(state(b.store)).toEqual(expected(6));
    expect(b.store.readPartitionValue(0, "inbox")).toBe(6);
    expect(await firstOf(inbox.stream)).toBeLessThanOrEqual(7);

    // Fenced: a's appends are refused from now on (it neither writes nor purges past b), b's land.
    await expect(a.logs.commit(entry(99))).rejects.toThrow();
    written = 6;
    await js.publish(inbox.subject, new TextEncoder().encode("message 7"));
    await b.logs.commit(entry(7));
    expect(state(b.store)).toEqual(expected(7));
  });

  it("two nodes saving snapshots of one partition at once: the latest position wins, whatever the order", { timeout: 120_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const observer = await connectNats({ servers: nats.urls });
    cleanups.push(() => observer.close());
    const a = await node(nats.urls, "a");
    const b = await node(nats.urls, "b");
    const objects = await observer.jetstream().views.os(`DE_${HUB}_SNAPSHOTS`);
    const writes = (label: string) => [{ key: [0, "t", "who"], value: label }];
    for (let round = 1; round <= 10; round++) {
      const low = { sequence: round * 100, batchId: `a.${round}` };
      const high = { sequence: round * 100 + 50, batchId: `b.${round}` };
      const saves = round % 2 === 0 ? [a.snapshots.save(0, low, writes("low")), b.snapshots.save(0, high, writes("high"))] : [b.snapshots.save(0, high, writes("high")), a.snapshots.save(0, low, writes("low"))];
      const results = await Promise.all(saves);
      for (const saved of results) if (saved?.replaced) await a.snapshots.remove(saved.replaced.object);
      const pointer = (await pointerOf(observer))!;
      expect(pointer).toEqual({ ...high, object: `p.0.${high.sequence}` });
      expect(await b.snapshots.load(pointer)).toEqual(writes("high"));
      const left = (await objects.list()).filter((info) => !info.deleted).map((info) => info.name);
      expect(left).toEqual([`p.0.${high.sequence}`]);
    }
  });
});
