import { describe, expect, it } from "vitest";
import type { NatsConnection } from "nats";
import { encodeEntry } from "../../../src/cluster/log-entry.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import { cleanupsAfterEach, firstSequence, openLogNode, pollUntil, startNatsWithObserver, testEntry, testState, testStateAfter } from "./log-nodes.js";

const HUB = "badptr";
const INDEX = `DE_${HUB}_SNAPSHOT_INDEX`;
const OBJECTS = `DE_${HUB}_SNAPSHOTS`;

/**
 * Review: what a node does with a snapshot pointer or object that is not what it should be (the
 * buckets are NATS data: an operator's mistake, a restore of one bucket from a backup, a bug of
 * another version). The node must not crash, and must not lose or hide what NATS still holds.
 */
describe("review: bad snapshot pointers and objects", () => {
  const cleanups = cleanupsAfterEach();

  const node = (nats: readonly string[], name: string) => openLogNode({ servers: nats, hub: HUB, name, snapshotEntries: 3 }, cleanups);

  async function logPurged(observer: NatsConnection): Promise<boolean> {
    return (await firstSequence(await observer.jetstreamManager(), partitionLogAddress(HUB, 0).stream)) > 1;
  }

  /**
   * Node a writes `count` entries (snapshots every 3, so the log is purged), then stops (as if killed):
   * its connection is closed, so no snapshot of its still under way moves the pointer after it is read.
   */
  async function written(nats: readonly string[], observer: NatsConnection, count: number) {
    const a = await node(nats, "a");
    await a.logs.openPartition(0);
    for (let index = 0; index < count; index++) await a.logs.commit(testEntry(index));
    await pollUntil(() => logPurged(observer), "the log purged behind a snapshot");
    a.logs.closePartition(0);
    await a.connection.close();
    const index = await observer.jetstream().views.kv(INDEX, { bindOnly: true });
    const pointer = (await index.get("p.0"))!.json<{ sequence: number; batchId: string; object: string }>();
    return { index, pointer };
  }

  it("a pointer that is not JSON: the partition still opens from the snapshot the bucket holds", { timeout: 120_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);
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
    expect(testState(b.store)).toEqual(testStateAfter(0, 9));
  });

  it("a pointer whose object is gone, or an object that is not an entry: the open fails (the node does not crash, nor hang)", { timeout: 120_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);
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
    const { nats, observer } = await startNatsWithObserver(cleanups);
    // A pointer left from an earlier log of this partition (the stream was removed and made anew, the
    // buckets were kept), far ahead of where the new log is.
    const index = await observer.jetstream().views.kv(INDEX, { history: 1 });
    const objects = await observer.jetstream().views.os(OBJECTS);
    await objects.putBlob({ name: "p.0.50000" }, encodeEntry([{ key: [0, "t", "old"], value: "from the old log" }]));
    await index.put("p.0", JSON.stringify({ sequence: 50_000, batchId: "old.log.7", object: "p.0.50000" }));

    const a = await node(nats.urls, "a");
    await a.logs.openPartition(0);
    expect(testState(a.store)).toEqual({}); // not taken for this log's
    for (let count = 0; count < 12; count++) await a.logs.commit(testEntry(count));
    // Four snapshots' worth of entries: the latest is this log's, and the log is purged behind it.
    await pollUntil(async () => (await index.get("p.0"))!.json<{ batchId: string }>().batchId !== "old.log.7", "a pointer of this log");
    await pollUntil(() => logPurged(observer), "the log purged behind a snapshot");

    const b = await node(nats.urls, "b");
    await b.logs.openPartition(0);
    expect(testState(b.store)).toEqual(testStateAfter(0, 11));
  });
});
