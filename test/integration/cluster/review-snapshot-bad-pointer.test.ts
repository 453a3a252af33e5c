import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats, type NatsConnection } from "nats";
import { encodeEntry } from "../../../src/cluster/log-entry.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import { PartitionLogs } from "../../../src/cluster/partition-logs.js";
import { PartitionSnapshots } from "../../../src/cluster/partition-snapshots.js";
import { LmdbStore } from "../../../src/storage/index.js";
import { startNatsServer } from "../../support/nats-servers.js";

const HUB = "badptr";
const INDEX = `DE_${HUB}_SNAPSHOT_INDEX`;
const OBJECTS = `DE_${HUB}_SNAPSHOTS`;

/**
 * Review: what a node does with a snapshot pointer or object that is not what it should be (the
 * buckets are NATS data: an operator's mistake, a restore of one bucket from a backup, a bug of
 * another version). The node must not crash, and must not lose or hide what NATS still holds.
 */
describe("review: bad snapshot pointers and objects", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function node(nats: string[], name: string, snapshotEntries = 3) {
    const dir = mkdtempSync(join(tmpdir(), `de-snap-bad-${name}-`));
    const store = await LmdbStore.open({ path: dir, partitionCount: 2, outbox: true });
    const connection = await connectNats({ servers: nats });
    const snapshots = await PartitionSnapshots.open(connection, { hub: HUB, replicas: 1 });
    const warnings: string[] = [];
    const log = { warn: (message: string) => warnings.push(message), info: () => undefined, error: () => undefined, debug: () => undefined } as never;
    const logs = new PartitionLogs(connection, store, snapshots, { hub: HUB, node: name, replicas: 1, snapshotEntries, log });
    store.useLog(logs);
    cleanups.push(async () => {
      await connection.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store, logs, warnings, connection };
  }

  const put = (index: number) => [{ partition: 0, writes: [{ key: [0, "t", `k${index}`], value: String(index) }] }];
  const state = (store: LmdbStore) => Object.fromEntries(store.readPartition(0).filter((write) => write.key[1] === "t").map((write) => [write.key[2], write.value]));
  const expected = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, String(index)]));

  async function firstSequence(connection: NatsConnection): Promise<number> {
    return (await (await connection.jetstreamManager()).streams.info(partitionLogAddress(HUB, 0).stream)).state.first_seq;
  }

  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`not within 30 s: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Node a writes `count` entries (snapshots every 3, so the log is purged), then stops (as if killed):
   * its connection is closed, so no snapshot of its still under way moves the pointer after it is read.
   */
  async function written(nats: string[], observer: NatsConnection, count: number) {
    const a = await node(nats, "a");
    await a.logs.openPartition(0);
    for (let index = 0; index < count; index++) await a.logs.commit(put(index));
    await until(async () => (await firstSequence(observer)) > 1, "the log purged behind a snapshot");
    a.logs.closePartition(0);
    await a.connection.close();
    const index = await observer.jetstream().views.kv(INDEX, { bindOnly: true });
    const pointer = (await index.get("p.0"))!.json<{ sequence: number; batchId: string; object: string }>();
    return { index, pointer };
  }

  it("a pointer that is not JSON: the partition still opens from the snapshot the bucket holds", { timeout: 120_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const observer = await connectNats({ servers: nats.urls });
    cleanups.push(() => observer.close());
    const { index, pointer } = await written(nats.urls, observer, 10);
    const objects = await observer.jetstream().views.os(OBJECTS);
    expect((await objects.info(pointer.object))?.deleted).toBe(false); // the state is in NATS

    await index.put("p.0", "{ not json");
    const b = await node(nats.urls, "b");
    const outcome = await b.logs.openPartition(0).then(
      () => "opened",
      (error: unknown) => `failed: ${String(error)}`,
    );
    expect(outcome).toBe("opened");
    expect(state(b.store)).toEqual(expected(10));
  });

  it("a pointer whose object is gone, or an object that is not an entry: the open fails (the node does not crash, nor hang)", { timeout: 120_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const observer = await connectNats({ servers: nats.urls });
    cleanups.push(() => observer.close());
    const { index, pointer } = await written(nats.urls, observer, 10);
    const objects = await observer.jetstream().views.os(OBJECTS);
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    cleanups.push(() => void process.off("unhandledRejection", record));

    // An object that is not an entry.
    await objects.putBlob({ name: pointer.object }, new TextEncoder().encode("{ not an entry"));
    const b = await node(nats.urls, "b");
    await expect(b.logs.openPartition(0)).rejects.toThrow();
    // A pointer to an object that is not there (the entries it covers are purged: nothing can rebuild them).
    await index.put("p.0", JSON.stringify({ ...pointer, object: "p.0.999999" }));
    await expect(b.logs.openPartition(0)).rejects.toThrow();
    expect(unhandled.map(String)).toEqual([]);
  });

  it("a pointer of another log (its entry is not in this one): the log is replayed, and later snapshots replace the pointer", { timeout: 120_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const observer = await connectNats({ servers: nats.urls });
    cleanups.push(() => observer.close());
    // A pointer left from an earlier log of this partition (the stream was removed and made anew, the
    // buckets were kept), far ahead of where the new log is.
    const index = await observer.jetstream().views.kv(INDEX, { history: 1 });
    const objects = await observer.jetstream().views.os(OBJECTS);
    await objects.putBlob({ name: "p.0.50000" }, encodeEntry([{ key: [0, "t", "old"], value: "from the old log" }]));
    await index.put("p.0", JSON.stringify({ sequence: 50_000, batchId: "old.log.7", object: "p.0.50000" }));

    const a = await node(nats.urls, "a");
    await a.logs.openPartition(0);
    expect(state(a.store)).toEqual({}); // not taken for this log's
    for (let count = 0; count < 12; count++) await a.logs.commit(put(count));
    // Four snapshots' worth of entries: the latest is this log's, and the log is purged behind it.
    await until(async () => (await index.get("p.0"))!.json<{ batchId: string }>().batchId !== "old.log.7", "a pointer of this log");
    await until(async () => (await firstSequence(observer)) > 1, "the log purged behind a snapshot");

    const b = await node(nats.urls, "b");
    await b.logs.openPartition(0);
    expect(state(b.store)).toEqual(expected(12));
  });
});
