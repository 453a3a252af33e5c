import { describe, expect, it } from "vitest";
import { afterSnapshotSteps, natsForAllTests, openLogNode, pollUntil, snapshotPointer, storedObjects, testEntry } from "./log-nodes.js";

/**
 * Review: snapshot objects that nothing points to any more stay in the object store for good. A
 * snapshot's object is removed only by the node that replaced it, right after its purge and inbox trim
 * (PartitionLogs.saveSnapshot); a node that dies in between (or whose remove fails: it is only logged)
 * leaves the replaced snapshot behind, and one that dies between storing its object and moving the
 * pointer leaves its own (the design notes say so). Nothing removes them later, so every such crash
 * keeps a whole copy of a partition's state in NATS (JetStream file storage, times the replicas).
 */
const DEATHS = ["after storing its object", "after moving the pointer"] as const;

describe("review: snapshot objects left behind by a node that died while snapshotting", () => {
  const shared = natsForAllTests();

  async function node(hub: string, name: string, death?: (typeof DEATHS)[number]) {
    const opened = await openLogNode({ servers: shared.nats.urls, hub, name, snapshotEntries: 3 }, shared.cleanups);
    let saves = 0;
    let died!: () => void;
    const dead = new Promise<void>((resolve) => (died = resolve));
    // The node's second snapshot is its last: its connection closes right after the step (a SIGKILL there).
    afterSnapshotSteps(opened.snapshots, async (step) => {
      if ((step === "object stored" && death === "after storing its object" && ++saves === 2) || (step === "pointer moved" && death === "after moving the pointer")) {
        await opened.connection.close();
        died();
      }
    });
    return { ...opened, dead };
  }

  for (const [index, death] of DEATHS.entries()) {
    it(`a node died ${death}: once the next owner has snapshotted twice, only the latest snapshot is stored`, { timeout: 120_000 }, async () => {
      const hub = `orphans${index}`;
      const a = await node(hub, "a", death);
      await a.logs.openPartition(0);
      for (let count = 1; count <= 6; count++) await a.logs.commit(testEntry(count));
      await a.dead;

      const jsm = await shared.observer.jetstreamManager();
      const fence = (await jsm.streams.info(`DE_${hub}_LOG_0`)).state.last_seq + 1; // b's first entry
      const b = await node(hub, "b");
      await b.logs.openPartition(0);
      for (let count = 7; count <= 12; count++) await b.logs.commit(testEntry(count));
      const objects = await shared.observer.jetstream().views.os(`DE_${hub}_SNAPSHOTS`);
      // b's second snapshot is the latest, and b removed the one it replaced (its first).
      let pointer: { batchId: string; object: string } | undefined;
      await pollUntil(async () => {
        pointer = await snapshotPointer(shared.observer, hub);
        const names = await storedObjects(objects);
        return pointer !== undefined && pointer.batchId.startsWith("b.") && names.filter((name) => name !== pointer!.object && Number(name.split(".")[2]) >= fence).length === 0 && names.includes(pointer.object);
      }, "b's second snapshot in place of its first");
      const stored = await storedObjects(objects);
      expect(stored).toEqual([pointer!.object]);
    });
  }
});
