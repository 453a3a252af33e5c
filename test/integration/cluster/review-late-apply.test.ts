import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats } from "nats";
import { PartitionLogs } from "../../../src/cluster/partition-logs.js";
import { PartitionSnapshots } from "../../../src/cluster/partition-snapshots.js";
import { LmdbStore, type LoggedWrites } from "../../../src/storage/index.js";
import { startNatsServer } from "../../support/nats-servers.js";

/**
 * Review (deduced from a crash test's trace): PartitionLogs.openPartition did not wait for the node's
 * own applies still in flight, and LmdbStore.applyLogged set a partition's position whatever it was.
 * A node that got a partition back quickly caught up from the log first; the late apply of its old
 * entry then ran after the catch-up and rolled the copy back (an old value, and an old position that
 * the next catch-up would start from).
 */
describe("review: a late apply after a partition came back", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function node(nats: string[], name: string) {
    const dir = mkdtempSync(join(tmpdir(), `de-late-apply-${name}-`));
    const store = await LmdbStore.open({ path: dir, partitionCount: 2, outbox: true });
    const connection = await connectNats({ servers: nats });
    const snapshots = await PartitionSnapshots.open(connection, { hub: "late", replicas: 1 });
    const logs = new PartitionLogs(connection, store, snapshots, { hub: "late", node: name, replicas: 1 });
    store.useLog(logs);
    cleanups.push(async () => {
      await connection.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { store, logs };
  }

  const valueOf = (store: LmdbStore, key: string) => store.readPartition(0).find((write) => write.key.join("/") === `0/t/${key}`)?.value;
  const put = (value: string) => [{ partition: 0, writes: [{ key: [0, "t", "k"], value }] }];

  it("the copy keeps the log's latest state", { timeout: 60_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const a = await node(nats.urls, "a");
    const b = await node(nats.urls, "b");

    await a.logs.openPartition(0);
    await a.logs.commit(put("one"));

    // Node a's next commit lands in the log, but its apply to a's copy is held back.
    const apply = a.store.applyLogged.bind(a.store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    a.store.applyLogged = async (parts: readonly LoggedWrites[]) => {
      if (holding) {
        holding = false;
        await held;
      } else release(); // the next apply (a catch-up's, without the fix) lets the held one run after it
      return apply(parts);
    };
    const late = a.logs.commit(put("two"));

    // Node b takes the partition over and writes; then a gets it back and catches up.
    await b.logs.openPartition(0);
    await b.logs.commit(put("three"));
    b.logs.closePartition(0);
    a.logs.closePartition(0);
    const reopening = a.logs.openPartition(0);
    // With the fix the open waits for the held apply, which nothing else releases: let it go after a while.
    const timer = setTimeout(release, 500);
    await reopening;
    await late;
    clearTimeout(timer);

    expect(valueOf(a.store, "k")).toBe("three");
    await a.logs.commit(put("four"));
    expect(valueOf(a.store, "k")).toBe("four");
  });
});
