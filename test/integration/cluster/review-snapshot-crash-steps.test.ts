import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as connectNats, type NatsConnection, type ObjectStore } from "nats";
import { trimInbox } from "../../../src/cluster/inbox-trimming.js";
import { partitionInboxAddress, partitionLogAddress } from "../../../src/cluster/log-names.js";
import { PartitionLogs } from "../../../src/cluster/partition-logs.js";
import { PartitionSnapshots } from "../../../src/cluster/partition-snapshots.js";
import { LmdbStore } from "../../../src/storage/index.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";

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

  async function node(hub: string, name: string, diesAfter?: Step) {
    const dir = mkdtempSync(join(tmpdir(), `de-snap-steps-${name}-`));
    const store = await LmdbStore.open({ path: dir, partitionCount: 2, outbox: true });
    const connection = await connectNats({ servers: nats.urls });
    const snapshots = await PartitionSnapshots.open(connection, { hub, replicas: 1 });
    let died!: () => void;
    const dead = new Promise<void>((resolve) => (died = resolve));
    let snapshotsTaken = 0;
    const die = async (step: Step) => {
      // The second snapshot dies (the first one is whole, so that there is a snapshot it replaces).
      if (step !== diesAfter || snapshotsTaken < 1) return;
      await connection.close();
      died();
    };
    const internals = snapshots as unknown as { objects: ObjectStore; index: { update: (...args: never[]) => Promise<number>; create: (...args: never[]) => Promise<number> } };
    const putBlob = internals.objects.putBlob.bind(internals.objects);
    internals.objects.putBlob = async (...args: Parameters<ObjectStore["putBlob"]>) => {
      const info = await putBlob(...args);
      await die("object stored");
      return info;
    };
    for (const method of ["update", "create"] as const) {
      const original = internals.index[method].bind(internals.index);
      internals.index[method] = async (...args: never[]) => {
        const revision = await original(...args);
        await die("pointer moved");
        return revision;
      };
    }
    const jsm = await connection.jetstreamManager();
    const logs = new PartitionLogs(connection, store, snapshots, {
      hub,
      node: name,
      replicas: 1,
      snapshotEntries: 3,
      onSnapshot: async (partition) => {
        await die("log purged");
        await trimInbox(jsm, hub, store, partition);
        await die("inbox trimmed");
        snapshotsTaken++;
      },
    });
    store.useLog(logs);
    cleanups.push(async () => {
      await connection.close().catch(() => undefined);
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store, logs, dead };
  }

  /** Entry `index`: a key of its own, and the inbox position moved to `index` (the inbox holds that many messages). */
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

  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`not within 30 s: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  for (const [index, step] of STEPS.entries()) {
    it(`dies once the ${step}: the next owner opens exactly the log's state, and snapshots on`, { timeout: 120_000 }, async () => {
      const hub = `steps${index}`;
      const js = observer.jetstream();
      const jsm = await observer.jetstreamManager();
      const inbox = partitionInboxAddress(hub, 0);
      const firstOf = async (stream: string) => (await jsm.streams.info(stream)).state.first_seq;

      // Node a: six entries (two snapshots: the second one dies at the step), each with an inbox message applied.
      const a = await node(hub, "a", step);
      await a.logs.openPartition(0);
      let written = 0;
      const write = async (logs: PartitionLogs) => {
        written++;
        await js.publish(inbox.subject, new TextEncoder().encode(`message ${written}`));
        await logs.commit(entry(written));
      };
      for (let count = 0; count < 6; count++) await write(a.logs);
      await a.dead;

      // Node b opens from what NATS holds: the copy is the log's whole state, and the inbox still holds every message after its position.
      const b = await node(hub, "b");
      await b.logs.openPartition(0);
      expect(state(b.store)).toEqual(expected(6));
      expect(b.store.readPartitionValue(0, "inbox")).toBe(6);
      expect(await firstOf(inbox.stream)).toBeLessThanOrEqual(7);

      // It goes on: its snapshots move the pointer past a's, purge the log and trim the inbox.
      for (let count = 0; count < 6; count++) await write(b.logs);
      const index_ = await js.views.kv(`DE_${hub}_SNAPSHOT_INDEX`, { bindOnly: true });
      await until(async () => ((await index_.get("p.0"))?.json<{ batchId: string }>().batchId ?? "").startsWith("b."), "a pointer to b's snapshot");
      await until(async () => (await firstOf(inbox.stream)) > 7, "b's inbox trimming");
      const pointer = (await index_.get("p.0"))!.json<{ sequence: number }>();
      await until(async () => (await firstOf(partitionLogAddress(hub, 0).stream)) >= pointer.sequence, "b's log purge");

      // Node c on an empty directory opens from b's snapshot.
      const c = await node(hub, "c");
      await c.logs.openPartition(0);
      expect(state(c.store)).toEqual(expected(12));
      expect(c.store.readPartitionValue(0, "inbox")).toBe(12);

      // What stays behind in the object store: the latest snapshot, and what the dead node left (an object nobody points to, or the one it replaced).
      const objects = await js.views.os(`DE_${hub}_SNAPSHOTS`);
      const left = (await objects.list()).filter((info) => !info.deleted).map((info) => info.name);
      console.log(`died once the ${step}: objects left ${JSON.stringify(left)}`);
    });
  }
});
