import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type NatsConnection, type ObjectStore } from "nats";
import { PartitionLogs } from "../../../src/cluster/partition-logs.js";
import { PartitionSnapshots } from "../../../src/cluster/partition-snapshots.js";
import { LmdbStore } from "../../../src/storage/index.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";

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
  let nats: NatsServers;
  let observer: NatsConnection;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    observer = await connectNats({ servers: nats.urls });
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await observer?.close();
    await nats?.stop();
  });

  async function node(hub: string, name: string, death?: (typeof DEATHS)[number]) {
    const dir = mkdtempSync(join(tmpdir(), `de-snap-orphans-${name}-`));
    const store = await LmdbStore.open({ path: dir, partitionCount: 2, outbox: true });
    const connection = await connectNats({ servers: nats.urls });
    const snapshots = await PartitionSnapshots.open(connection, { hub, replicas: 1 });
    let saves = 0;
    let died!: () => void;
    const dead = new Promise<void>((resolve) => (died = resolve));
    // The node's second snapshot is its last: its connection closes right after the step (a SIGKILL there).
    const internals = snapshots as unknown as { objects: ObjectStore; index: { update: (...args: never[]) => Promise<number> } };
    const putBlob = internals.objects.putBlob.bind(internals.objects);
    internals.objects.putBlob = async (...args: Parameters<ObjectStore["putBlob"]>) => {
      const info = await putBlob(...args);
      if (death === "after storing its object" && ++saves === 2) {
        await connection.close();
        died();
      }
      return info;
    };
    const update = internals.index.update.bind(internals.index);
    internals.index.update = async (...args: never[]) => {
      const revision = await update(...args);
      if (death === "after moving the pointer") {
        await connection.close();
        died();
      }
      return revision;
    };
    const logs = new PartitionLogs(connection, store, snapshots, { hub, node: name, replicas: 1, snapshotEntries: 3 });
    store.useLog(logs);
    cleanups.push(async () => {
      await connection.close().catch(() => undefined);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { logs, dead };
  }

  const entry = (index: number) => [{ partition: 0, writes: [{ key: [0, "t", `k${index}`], value: String(index) }] }];

  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`not within 30 s: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  for (const [index, death] of DEATHS.entries()) {
    it(`a node died ${death}: once the next owner has snapshotted twice, only the latest snapshot is stored`, { timeout: 120_000 }, async () => {
      const hub = `orphans${index}`;
      const a = await node(hub, "a", death);
      await a.logs.openPartition(0);
      for (let count = 1; count <= 6; count++) await a.logs.commit(entry(count));
      await a.dead;

      const jsm = await observer.jetstreamManager();
      const fence = (await jsm.streams.info(`DE_${hub}_LOG_0`)).state.last_seq + 1; // b's first entry
      const b = await node(hub, "b");
      await b.logs.openPartition(0);
      for (let count = 7; count <= 12; count++) await b.logs.commit(entry(count));
      const kv = await observer.jetstream().views.kv(`DE_${hub}_SNAPSHOT_INDEX`, { bindOnly: true });
      const objects = await observer.jetstream().views.os(`DE_${hub}_SNAPSHOTS`);
      // b's second snapshot is the latest, and b removed the one it replaced (its first).
      let pointer: { batchId: string; object: string } | undefined;
      await until(async () => {
        pointer = (await kv.get("p.0"))?.json();
        const names = (await objects.list()).filter((info) => !info.deleted).map((info) => info.name);
        return pointer !== undefined && pointer.batchId.startsWith("b.") && names.filter((name) => name !== pointer!.object && Number(name.split(".")[2]) >= fence).length === 0 && names.includes(pointer.object);
      }, "b's second snapshot in place of its first");
      const stored = (await objects.list()).filter((info) => !info.deleted).map((info) => info.name);
      expect(stored).toEqual([pointer!.object]);
    });
  }
});
