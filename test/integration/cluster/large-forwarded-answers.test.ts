import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type DurableClient } from "../../../clients/index.js";
import { defineEntity } from "../../../src/runtime/index.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { startNatsServer, type NatsServers } from "../../support/nats-servers.js";
import { startTestServer } from "../support/test-server.js";
import { until } from "../support/until.js";

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

const Blob = defineEntity("Blob", {
  initialState: () => "",
  operations: {
    append: (ctx, text: string) => {
      ctx.state += text;
      return ctx.state.length;
    },
    read: (ctx) => ctx.state,
  },
});

/**
 * A piece of state with characters of one, two and three bytes and a line break (escaped in JSON): its
 * encoding must survive being cut anywhere. 10 characters, 14 bytes of JSON; 15,000 of them are about
 * 210 KB, under the 256 KB a client's message may take.
 */
const PIECE = "abcdefg\né€";
const APPEND = PIECE.repeat(15_000);
/** The large entity: 10 appends, 1.5 M characters, about 2.1 MB of JSON (two NATS messages' worth). */
const LARGE_APPENDS = 10;
/** Entities read in one batch: each of them fits a NATS message, together they take about 1.7 MB. */
const BATCH_READS = 12;
const BATCH_STATE = PIECE.repeat(10_000);

/**
 * Requests forwarded to the node that owns their partition come back whatever the size of their answer:
 * one larger than a NATS message (max_payload, 1 MiB here), or a batch of answers that together are.
 */
describe("answers larger than a NATS message, forwarded between the nodes of a cluster", () => {
  let nats: NatsServers;
  const nodes: TestServer[] = [];
  let client: DurableClient;
  let owner: TestServer;
  /** A partition the owner node has, and entities in it. */
  let partition: number;
  let large: string;
  let batch: string[];

  const owned = (server: TestServer) => server.hubs.list()[0]!.cluster!.owned;

  beforeAll(async () => {
    nats = await startNatsServer();
    for (const node of ["a", "b"]) nodes.push(await startTestServer("ws", { app: [Blob], cluster: { servers: nats.urls, node, leaseMs: 2_000 } }));
    await until(() => nodes.every((server) => owned(server).length >= 6) && owned(nodes[0]!).length + owned(nodes[1]!).length === 16, 60_000);
    const [asked, other] = nodes as [TestServer, TestServer];
    owner = other;
    partition = owned(owner)[0]!;
    const inPartition = (count: number, prefix: string) => {
      const ids: string[] = [];
      for (let i = 0; ids.length < count; i++) if (partitionOf(`Blob/${prefix}${i}`, 16) === partition) ids.push(`Blob/${prefix}${i}`);
      return ids;
    };
    large = inPartition(1, "large")[0]!;
    batch = inPartition(BATCH_READS, "part");
    // Every request goes through the node that does not own the partition.
    client = await connect(asked.url, { clientId: "large-answers" });
    for (let step = 1; step <= LARGE_APPENDS; step++) expect(await client.call<number>(large, "append", APPEND)).toBe(step * APPEND.length);
    for (const id of batch) expect(await client.call<number>(id, "append", BATCH_STATE)).toBe(BATCH_STATE.length);
  }, 180_000);

  afterAll(async () => {
    await client?.close();
    for (const node of nodes) await node.stop().catch(() => undefined);
    await nats?.stop();
  });

  it("reads an entity whose state is larger than a NATS message through a node that does not own it", { timeout: 120_000 }, async () => {
    const state = await client.get<string>(large);
    expect(state?.length).toBe(LARGE_APPENDS * APPEND.length);
    expect(state).toBe(APPEND.repeat(LARGE_APPENDS));
    expect(owned(owner)).toContain(partition);
  });

  it("answers a call whose result is larger than a NATS message through a node that does not own the entity", { timeout: 120_000 }, async () => {
    const result = await client.call<string>(large, "read");
    expect(result).toBe(APPEND.repeat(LARGE_APPENDS));
    // Several at once: a batch of answers each larger than a NATS message.
    const results = await Promise.all([client.call<string>(large, "read"), client.get<string>(large), client.call<number>(large, "append", "!")]);
    expect(results[0]).toBe(APPEND.repeat(LARGE_APPENDS));
    expect(results[1]).toBe(APPEND.repeat(LARGE_APPENDS));
    expect(results[2]).toBe(LARGE_APPENDS * APPEND.length + 1);
    expect(owned(owner)).toContain(partition);
  });

  it("returns every answer of a batch of forwarded reads that together are larger than a NATS message", { timeout: 120_000 }, async () => {
    const states = await Promise.all(batch.map((id) => client.get<string>(id)));
    expect(states.map((state) => state?.length)).toEqual(batch.map(() => BATCH_STATE.length));
    for (const state of states) expect(state).toBe(BATCH_STATE);
    // The same as calls, and again: the path stays usable for small answers after large ones.
    const results = await Promise.all(batch.map((id) => client.call<string>(id, "read")));
    for (const result of results) expect(result).toBe(BATCH_STATE);
    expect(await client.call<number>(batch[0]!, "append", "x")).toBe(BATCH_STATE.length + 1);
    expect(owned(owner)).toContain(partition);
  });
});
