import { describe, expect, it } from "vitest";
import { connect } from "../../../clients/index.js";
import { partitionLogAddress } from "../../../src/cluster/log-names.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { Blob } from "../../fixtures/cluster-listing-app.js";
import { startTestServer } from "../support/test-server.js";
import { cleanupsAfterEach, firstSequence, snapshotPointer, startNatsWithObserver } from "./log-nodes.js";

/**
 * Review coverage: a partition snapshot larger than NATS's max_payload (1 MiB here: an entity of 3.2 MB,
 * whose log entries are chunked too). The object store chunks the snapshot; a node on an empty data
 * directory loads it (the log before it is purged) and goes on from there.
 */
describe("review: a snapshot larger than a NATS message", () => {
  const cleanups = cleanupsAfterEach();

  it("a 3.2 MB entity state is stored in a snapshot and loaded from it", { timeout: 180_000 }, async () => {
    const { nats, observer } = await startNatsWithObserver(cleanups);
    const cluster = { servers: nats.urls, leaseMs: 2_000, snapshotEntries: 2 };
    const a = await startTestServer("ws", { app: [Blob], cluster: { ...cluster, node: "a" } });
    cleanups.push(() => a.stop());
    const client = await connect(a.url, { clientId: "large-snapshot" });
    cleanups.push(() => client.close());
    const chunk = "x".repeat(200_000); // a client message may be at most 256 KB: the state grows in steps
    for (let step = 1; step <= 16; step++) expect(await client.call<number>("Blob/big", "append", chunk)).toBe(step * 200_000);
    await client.close();

    // The log of the blob's partition was purged behind a snapshot of at least 3 MB.
    const partition = partitionOf("Blob/big", 16);
    const jsm = await observer.jetstreamManager();
    const objects = await observer.jetstream().views.os("DE_default_SNAPSHOTS");
    const deadline = Date.now() + 60_000;
    let pointer: { sequence: number; object: string } | undefined;
    for (;;) {
      pointer = await snapshotPointer(observer, "default", partition);
      const first = await firstSequence(jsm, partitionLogAddress("default", partition).stream);
      if (pointer !== undefined && first > 1 && ((await objects.info(pointer.object))?.size ?? 0) > 3_000_000) break;
      if (Date.now() > deadline) throw new Error(`no snapshot of 3 MB: pointer ${JSON.stringify(pointer)}, log from ${first}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await a.stop();

    // A node on an empty data directory: the blob comes from the snapshot (and the entries after it).
    const b = await startTestServer("ws", { app: [Blob], cluster: { ...cluster, node: "b" } });
    cleanups.push(() => b.stop());
    const reader = await connect(b.url, { clientId: "large-snapshot-reader" });
    cleanups.push(() => reader.close());
    expect(((await reader.get<string>("Blob/big")) ?? "").length).toBe(3_200_000);
    expect(await reader.call<number>("Blob/big", "append", "y")).toBe(3_200_001);
  });
});
