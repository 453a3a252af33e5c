import { describe, expect, it } from "vitest";
import { trimInbox } from "../../../src/cluster/inbox-trimming.js";
import { partitionInboxAddress, partitionLogAddress } from "../../../src/cluster/log-names.js";
import type { LoggedWrites } from "../../../src/storage/index.js";
import { cleanupsAfterEach, firstSequence, openLogNode, pollUntil, snapshotPointer, startNatsWithObserver, storedObjects, testEntryWithInbox, testState, testStateAfter } from "./log-nodes.js";

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
  const cleanups = cleanupsAfterEach();

  const node = (nats: readonly string[], name: string) => openLogNode({ servers: nats, hub: HUB, name, snapshotEntries: 3, onSnapshot: (partition, self) => trimInbox(self.jsm, HUB, self.store, partition) }, cleanups);

  it("the new owner ends with the log's state; the inbox is not trimmed past its position", { timeout: 120_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);
    const js = observer.jetstream();
    const jsm = await observer.jetstreamManager();
    const inbox = partitionInboxAddress(HUB, 0);
    const firstOf = (stream: string) => firstSequence(jsm, stream);

    const a = await node(nats.urls, "a");
    await a.logs.openPartition(0);
    let written = 0;
    const write = async () => {
      written++;
      await js.publish(inbox.subject, new TextEncoder().encode(`message ${written}`));
      await a.logs.commit(testEntryWithInbox(written));
    };
    for (let count = 0; count < 3; count++) await write();
    await pollUntil(async () => (await snapshotPointer(observer, HUB)) !== undefined && (await firstOf(inbox.stream)) > 1, "a's first snapshot and inbox trim");
    const first = (await snapshotPointer(observer, HUB))!;

    // Node b restores a's first snapshot; before it replays the log after it, a (not knowing) writes on:
    // its next snapshot purges the log behind it, trims the inbox and removes the snapshot b loaded.
    const b = await node(nats.urls, "b");
    const apply = b.store.applyLogged.bind(b.store);
    let interleaved = false;
    b.store.applyLogged = async (parts: readonly LoggedWrites[]) => {
      if (!interleaved && parts[0]?.position.sequence === first.sequence) {
        interleaved = true;
        for (let count = 0; count < 3; count++) await write();
        await pollUntil(async () => (await snapshotPointer(observer, HUB))!.sequence > first.sequence && (await firstOf(partitionLogAddress(HUB, 0).stream)) > first.sequence, "a's second snapshot and purge");
        await pollUntil(async () => (await firstOf(inbox.stream)) > 4, "a's second inbox trim");
      }
      return apply(parts);
    };
    await b.logs.openPartition(0);
    expect(interleaved).toBe(true);
    expect(testState(b.store)).toEqual(testStateAfter(1, 6));
    expect(b.store.readPartitionValue(0, "inbox")).toBe(6);
    expect(await firstOf(inbox.stream)).toBeLessThanOrEqual(7);

    // Fenced: a's appends are refused from now on (it neither writes nor purges past b), b's land.
    await expect(a.logs.commit(testEntryWithInbox(99))).rejects.toThrow();
    written = 6;
    await js.publish(inbox.subject, new TextEncoder().encode("message 7"));
    await b.logs.commit(testEntryWithInbox(7));
    expect(testState(b.store)).toEqual(testStateAfter(1, 7));
  });

  it("two nodes saving snapshots of one partition at once: the latest position wins, whatever the order", { timeout: 120_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);
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
      const pointer = (await snapshotPointer(observer, HUB))!;
      expect(pointer).toEqual({ ...high, object: `p.0.${high.sequence}` });
      expect(await b.snapshots.load(pointer)).toEqual(writes("high"));
      const left = await storedObjects(objects);
      expect(left).toEqual([`p.0.${high.sequence}`]);
    }
  });
});
