import { afterEach, describe, expect, it } from "vitest";
import { connect } from "../../../clients/index.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer } from "../support/test-server.js";
import { until } from "../support/until.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

describe("live state and instance watches across the nodes of a cluster", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("a subscriber on one node sees every change committed on another, and keeps receiving when the owner dies and its partition moves", async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const nodes: TestServer[] = [];
    for (const node of ["a", "b", "c"]) {
      const server = await startTestServer("ws", { cluster: { servers: nats.urls, node, leaseMs: 1_500 } });
      cleanups.push(() => server.stop().catch(() => undefined));
      nodes.push(server);
    }
    const owned = (server: TestServer) => server.hubs.list()[0]!.cluster!.owned;
    await until(() => nodes.every((server) => owned(server).length >= 5), 30_000);
    const [watcherNode, ownerNode, otherNode] = nodes as [TestServer, TestServer, TestServer];
    // A counter whose partition the owner node has.
    let entity = "";
    for (let i = 0; entity === ""; i++) if (owned(ownerNode).includes(partitionOf(`Counter/live${i}`, 16))) entity = `Counter/live${i}`;

    const watcher = await connect(watcherNode.url, { clientId: "watcher" });
    cleanups.push(() => watcher.close());
    const writer = await connect([otherNode.url, ownerNode.url], { clientId: "writer" });
    cleanups.push(() => writer.close());
    const seen: number[] = [];
    const live = watcher.subscribe<number>(entity, (state) => seen.push(state ?? 0));
    await live.ready;
    for (let i = 1; i <= 5; i++) await writer.signal(entity, "add", 1);
    await until(() => seen.at(-1) === 5, 15_000);

    const started = await writer.start("HelloSequence", undefined, { instanceId: `hello-${entity}` });
    const done = await watcher.waitForCompletion(started, { timeoutMs: 30_000 });
    expect(done.runtimeStatus).toBe("Completed");

    // The owner dies (no hand-over): its partitions move to the survivors, and the subscriber keeps receiving.
    await ownerNode.abort();
    await until(() => owned(watcherNode).length + owned(otherNode).length === 16, 30_000);
    for (let i = 1; i <= 5; i++) await writer.signal(entity, "add", 1);
    await until(() => seen.at(-1) === 10, 20_000);
    expect(await watcher.call<number>(entity, "get")).toBe(10);
    // Versions come in order: the subscriber never saw the state go back.
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    await live.close();
  });
});

