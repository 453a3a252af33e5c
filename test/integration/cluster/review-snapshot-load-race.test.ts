import { describe, expect, it } from "vitest";
import type { ObjectStore } from "nats";
import type { LmdbStore } from "../../../src/storage/index.js";
import { cleanupsAfterEach, openLogNode, pollUntil, snapshotBuckets, snapshotPointer, startNatsWithObserver } from "./log-nodes.js";

const HUB = "snaprace";

/**
 * Review: a new owner that loads a snapshot object while another node removes it (the snapshot that
 * its own newer one replaced) can wait forever.
 *
 * PartitionSnapshots.load() calls ObjectStore.getBlob(), which reads the object's info (not deleted
 * yet), then reads its chunks through an ordered consumer and ends only when the last chunk arrives.
 * A removal in between (PartitionSnapshots.remove(): the info is marked deleted and the chunks are
 * purged) leaves the consumer with nothing to deliver: getBlob() never settles, so neither does
 * restore(), catchUp() or openPartition(). The node holds the partition's lease (it is renewed by the
 * rounds, which do not wait for `acquired`) and never serves it; no other node takes it over.
 *
 * The interleaving: node A (the old owner, still appending: a stale owner resumed after a pause, or
 * one that has not seen the lease move yet) has snapshot S1 as the latest; node B starts opening the
 * partition and reads the pointer (S1) and S1's info; A's next snapshot S2 moves the pointer, purges
 * the log and removes S1; B then reads S1's chunks. The test makes B's read of the info wait until A
 * removed S1 (a hook on B's object store handle, not on the code under review).
 */
describe("review: a snapshot removed while a new owner loads it", () => {
  const cleanups = cleanupsAfterEach();

  const node = (nats: readonly string[], name: string) => openLogNode({ servers: nats, hub: HUB, name, snapshotEntries: 3 }, cleanups);

  const put = (value: string) => [{ partition: 0, writes: [{ key: [0, "t", "k"], value }] }];
  const valueOf = (store: LmdbStore) => store.readPartition(0).find((write) => write.key.join("/") === "0/t/k")?.value;

  it("the new owner's open settles, and its copy is the log's state", { timeout: 120_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);
    const a = await node(nats.urls, "a");
    const b = await node(nats.urls, "b");

    // Node a owns the partition; three entries after its fence make snapshot S1 (pointer moved, log purged).
    await a.logs.openPartition(0);
    for (const value of ["1", "2", "3"]) await a.logs.commit(put(value));
    await pollUntil(async () => (await snapshotPointer(observer, HUB)) !== undefined, "the first snapshot's pointer");
    const first = (await snapshotPointer(observer, HUB))!;

    // B's object store: once it has read S1's info, it waits until node a removed S1 (a's next snapshot).
    const objects = snapshotBuckets(b.snapshots).objects as ObjectStore & { rawInfo(name: string): Promise<unknown> };
    const rawInfo = objects.rawInfo.bind(objects);
    let raced = false;
    let removedBeforeChunksRead = false;
    objects.rawInfo = async (name: string) => {
      const info = await rawInfo(name);
      if (name === first.object && !raced) {
        raced = true;
        // Node a goes on appending (it does not know yet that b is taking over): its next snapshot replaces S1.
        for (const value of ["4", "5", "6"]) await a.logs.commit(put(value));
        const aObjects = snapshotBuckets(a.snapshots).objects;
        await pollUntil(async () => (await aObjects.info(first.object))?.deleted === true && (await snapshotPointer(observer, HUB))!.sequence > first.sequence, "node a's second snapshot replacing the first");
        removedBeforeChunksRead = true;
      }
      return info;
    };

    const opening = b.logs.openPartition(0).then(
      () => "opened",
      (error: unknown) => `failed: ${String(error)}`,
    );
    // Liveness, not a timing: with a deadline far beyond anything an open of three entries takes.
    const outcome = await Promise.race([opening, new Promise<string>((resolve) => setTimeout(() => resolve("still opening after 45 s"), 45_000))]);
    expect(removedBeforeChunksRead).toBe(true); // the interleaving happened: S1 was removed between b's read of its info and of its chunks
    expect(outcome).toBe("opened");
    expect(valueOf(b.store)).toBe("6");
    // B is the writer now: node a is fenced out, b's commits land.
    await expect(a.logs.commit(put("stale"))).rejects.toThrow();
    await b.logs.commit(put("7"));
    expect(valueOf(b.store)).toBe("7");
  });
});
