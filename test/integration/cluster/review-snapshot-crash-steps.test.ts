import { describe, expect, it } from "vitest";
import { trimInbox } from "../../../src/cluster/inbox-trimming.js";
import { partitionInboxAddress, partitionLogAddress } from "../../../src/cluster/log-names.js";
import type { PartitionLogs } from "../../../src/cluster/partition-logs.js";
import {
  afterSnapshotSteps,
  firstSequence,
  natsForAllTests,
  openLogNode,
  pollUntil,
  snapshotPointer,
  storedObjects,
  testEntryWithInbox,
  testState,
  testStateAfter,
  type LogNode,
} from "./log-nodes.js";

/**
 * Review coverage: a node that dies at each step of a snapshot (its NATS connection closed right after
 * the step: nothing of the steps after it happens) leaves NATS in a state the next owner opens from
 * exactly, and whose next snapshots go on: the object stored but the pointer not moved; the pointer
 * moved but the log not purged; the log purged but the inbox not trimmed; the inbox trimmed but the
 * replaced snapshot not removed. The state includes the inbox position (`[p, "c", "inbox"]`), and the
 * inbox is never trimmed past the position of the copy that a new owner rebuilds.
 */
const STEPS = ["object stored", "pointer moved", "log purged", "inbox trimmed"] as const;
type Step = (typeof STEPS)[number];

describe("review: a node killed at each step of a snapshot", () => {
  const shared = natsForAllTests();

  async function node(hub: string, name: string, diesAfter?: Step) {
    let died!: () => void;
    const dead = new Promise<void>((resolve) => (died = resolve));
    let snapshotsTaken = 0;
    const die = async (self: LogNode, step: Step) => {
      // The second snapshot dies (the first one is whole, so that there is a snapshot it replaces).
      if (step !== diesAfter || snapshotsTaken < 1) return;
      await self.connection.close();
      died();
    };
    const opened = await openLogNode(
      {
        servers: shared.nats.urls,
        hub,
        name,
        snapshotEntries: 3,
        onSnapshot: async (partition, self) => {
          await die(self, "log purged");
          await trimInbox(self.jsm, hub, self.store, partition);
          await die(self, "inbox trimmed");
          snapshotsTaken++;
        },
      },
      shared.cleanups,
    );
    afterSnapshotSteps(opened.snapshots, (step) => die(opened, step === "object stored" ? step : "pointer moved"));
    return { ...opened, dead };
  }

  for (const [index, step] of STEPS.entries()) {
    it(`dies once the ${step}: the next owner opens exactly the log's state, and snapshots on`, { timeout: 120_000 }, async () => {
      const hub = `steps${index}`;
      const js = shared.observer.jetstream();
      const jsm = await shared.observer.jetstreamManager();
      const inbox = partitionInboxAddress(hub, 0);
      const firstOf = (stream: string) => firstSequence(jsm, stream);

      // Node a: six entries (two snapshots: the second one dies at the step), each with an inbox message applied.
      const a = await node(hub, "a", step);
      await a.logs.openPartition(0);
      let written = 0;
      const write = async (logs: PartitionLogs) => {
        written++;
        await js.publish(inbox.subject, new TextEncoder().encode(`message ${written}`));
        await logs.commit(testEntryWithInbox(written));
      };
      for (let count = 0; count < 6; count++) await write(a.logs);
      await a.dead;

      // Node b opens from what NATS holds: the copy is the log's whole state, and the inbox still holds every message after its position.
      const b = await node(hub, "b");
      await b.logs.openPartition(0);
      expect(testState(b.store)).toEqual(testStateAfter(1, 6));
      expect(b.store.readPartitionValue(0, "inbox")).toBe(6);
      expect(await firstOf(inbox.stream)).toBeLessThanOrEqual(7);

      // It goes on: its snapshots move the pointer past a's, purge the log and trim the inbox.
      for (let count = 0; count < 6; count++) await write(b.logs);
      await pollUntil(async () => ((await snapshotPointer(shared.observer, hub))?.batchId ?? "").startsWith("b."), "a pointer to b's snapshot");
      await pollUntil(async () => (await firstOf(inbox.stream)) > 7, "b's inbox trimming");
      const pointer = (await snapshotPointer(shared.observer, hub))!;
      await pollUntil(async () => (await firstOf(partitionLogAddress(hub, 0).stream)) >= pointer.sequence, "b's log purge");

      // Node c on an empty directory opens from b's snapshot.
      const c = await node(hub, "c");
      await c.logs.openPartition(0);
      expect(testState(c.store)).toEqual(testStateAfter(1, 12));
      expect(c.store.readPartitionValue(0, "inbox")).toBe(12);

      // What stays behind in the object store: the latest snapshot, and what the dead node left (an object nobody points to, or the one it replaced).
      const objects = await js.views.os(`DE_${hub}_SNAPSHOTS`);
      const left = await storedObjects(objects);
      console.log(`died once the ${step}: objects left ${JSON.stringify(left)}`);
    });
  }
});
