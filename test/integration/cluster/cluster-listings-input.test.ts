import { afterEach, describe, expect, it } from "vitest";
import { connect as connectNats, type Msg, type NatsConnection } from "nats";
import { connect } from "../../../clients/index.js";
import { ClusterListings } from "../../../src/cluster/cluster-listings.js";
import { askPartition } from "../../../src/cluster/partition-asks.js";
import { createLogger } from "../../../src/log.js";
import type { EntityRuntime } from "../../../src/runtime/index.js";
import { LmdbStore } from "../../../src/storage/index.js";
import { partitionOf } from "../../../src/storage/partition-hash.js";
import { startNatsServer } from "../../support/nats-servers.js";
import { startTestServer, tempDataDir } from "../support/test-server.js";

/**
 * What travels on the listing subjects (`de.<hub>.queries.<p>`) is input, from either side: an owner
 * must refuse a question that is not one without stopping, and an asker must check an answer (its
 * frames, its JSON, its shape, that it lists its partition's records) before merging it, and say so
 * with `store_unavailable` rather than list what it could not trust.
 */
describe("the cluster's listing subjects: what an owner and an asker do with bad input", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const encoder = new TextEncoder();
  const ask = (nats: NatsConnection, partition: number, body: unknown) =>
    askPartition(nats, `de.default.queries.${partition}`, encoder.encode(JSON.stringify(body)), { idleMs: 15_000, maxBytes: 64 * 1024 * 1024, movedGraceMs: 250 });

  it("an owner refuses a message that is not a question (with bad_request when it has a reply subject), answers a good one, and goes on serving", { timeout: 60_000 }, async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const server = await startTestServer("ws", { cluster: { servers: nats.urls, node: "a", leaseMs: 2_000 } });
    cleanups.push(() => server.stop());
    const client = await connect(server.url, { clientId: "bad-queries" });
    cleanups.push(() => client.close());
    const id = "Counter/x";
    await client.signal(id, "add", 1);
    const partition = partitionOf(id, 16);

    const rogue = await connectNats({ servers: nats.urls });
    cleanups.push(() => rogue.close());
    for (const payload of ["null", "not json", JSON.stringify({ query: { kind: "entities", type: "Counter", pageSize: 1e9 } })]) rogue.publish(`de.default.queries.${partition}`, encoder.encode(payload));
    // A good question whose reply subject is not an inbox: not answered there (it could be a log's subject, or JetStream's API).
    const misdirected: Msg[] = [];
    rogue.subscribe("de.default.elsewhere", { callback: (_error, message) => void misdirected.push(message) });
    rogue.publish(`de.default.queries.${partition}`, encoder.encode(JSON.stringify({ query: { kind: "entities", type: "Counter", pageSize: 1 } })), { reply: "de.default.elsewhere" });
    await rogue.flush();

    for (const body of [null, { query: 5 }, { query: { kind: "drop-everything" } }, { query: { kind: "entities", type: "../x", pageSize: 1 } }, { query: { kind: "instances", filter: {}, limits: { want: 0, budget: 1, bytes: 1 } } }]) {
      const result = await ask(rogue, partition, body);
      expect(result.kind).toBe("answer");
      expect(JSON.parse(new TextDecoder().decode((result as { data: Uint8Array }).data))).toMatchObject({ error: { code: "bad_request" } });
    }
    const good = await ask(rogue, partition, { query: { kind: "entities", type: "Counter", pageSize: 10, includeState: true } });
    expect(JSON.parse(new TextDecoder().decode((good as { data: Uint8Array }).data))).toMatchObject({ entities: [{ id, version: 1, state: 1 }] });
    expect(misdirected).toEqual([]); // the node answers its questions in order: the misdirected one was handled (dropped) before these

    // Still serving: a signal commits, and the listing answers.
    await client.signal(id, "add", 1);
    expect(await client.call<number>(id, "get")).toBe(2);
    expect((await client.listEntities({ type: "Counter", includeState: true })).entities).toMatchObject([{ id, state: 2 }]);
  });

  /** A node that owns no partition of a two-partition hub asks a rogue "owner" that answers as `respond` says. */
  async function askerAgainst(respond: (partition: number, reply: (frame: Uint8Array) => void) => void): Promise<ClusterListings> {
    const nats = await startNatsServer();
    cleanups.push(() => nats.stop());
    const dir = tempDataDir();
    cleanups.push(() => dir.cleanup());
    const store = await LmdbStore.open({ path: dir.path, partitionCount: 2, outbox: true });
    cleanups.push(() => store.close());
    store.setLocalPartitions([]);
    const node = await connectNats({ servers: nats.urls });
    cleanups.push(() => node.close());
    const rogue = await connectNats({ servers: nats.urls });
    cleanups.push(() => rogue.close());
    rogue.subscribe("de.default.queries.*", {
      callback: (_error: Error | null, message: Msg) => respond(Number(message.subject.split(".").pop()), (frame) => rogue.publish(message.reply!, frame)),
    });
    await rogue.flush();
    const runtime = { registry: { names: ["Counter"], check: () => undefined } } as unknown as EntityRuntime;
    const listings = new ClusterListings(node, "default", store, runtime, undefined, createLogger("error"));
    cleanups.push(() => listings.stop());
    return listings;
  }

  const frame = (kind: string, stream: string, payload: string | Uint8Array = "") => {
    const body = typeof payload === "string" ? encoder.encode(payload) : payload;
    const bytes = new Uint8Array(9 + body.length);
    bytes[0] = kind.charCodeAt(0);
    bytes.set(encoder.encode(stream.padEnd(8, "_").slice(0, 8)), 1);
    bytes.set(body, 9);
    return bytes;
  };
  /** A Counter id in the partition (of two). */
  const idIn = (partition: number, n = 0) => {
    for (let i = 0, found = 0; ; i++) if (partitionOf(`Counter/k${i}`, 2) === partition && found++ === n) return `Counter/k${i}`;
  };

  it("an asker puts an answer sent in chunks together, follows the first stream that answers, and skips what is not a frame", { timeout: 60_000 }, async () => {
    const listings = await askerAgainst((partition, reply) => {
      const answer = encoder.encode(JSON.stringify({ entities: [{ id: idIn(partition), version: 3, state: "s".repeat(5000) }] }));
      reply(new Uint8Array([1, 2])); // too short to be a frame
      reply(frame("X", "unknown")); // not a kind of frame
      reply(frame("K", "first"));
      reply(frame("D", "first", answer.subarray(0, 2000)));
      reply(frame("E", "second", "{}")); // a second listener: ignored
      reply(frame("D", "first", answer.subarray(2000, 4000)));
      reply(frame("E", "first", answer.subarray(4000)));
    });
    const { listing } = await listings.listEntities({ type: "Counter", pageSize: 10, includeState: true }, false);
    expect(listing.entities.map((entity) => [entity.id, entity.version, (entity.state as string).length])).toEqual([idIn(0), idIn(1)].sort().map((id) => [id, 3, 5000]));
  });

  it("an asker asks again when a node says the partition is not its own, and takes the answer of the one that owns it", { timeout: 60_000 }, async () => {
    let asked = 0;
    const listings = await askerAgainst((partition, reply) => {
      if (asked++ < 2) return reply(frame("M", "old"));
      reply(frame("E", "owner", JSON.stringify({ entities: [{ id: idIn(partition), version: 1 }], count: 1 })));
    });
    const { listing, count } = await listings.listEntities({ type: "Counter", pageSize: 10 }, true);
    expect(listing.entities).toHaveLength(2);
    expect(count).toBe(2);
  });

  const refused: Array<[string, (partition: number) => unknown, RegExp]> = [
    ["JSON that is not an answer", () => ({ entities: "all of them" }), /not one/],
    ["an entity of the other partition", (partition) => ({ entities: [{ id: idIn(1 - partition), version: 1 }] }), /not one/],
    ["an entity of another type", () => ({ entities: [{ id: "Other/x", version: 1 }] }), /not one/],
    ["more entities than the page", (partition) => ({ entities: Array.from({ length: 11 }, (_, n) => ({ id: idIn(partition, n), version: 1 })) }), /not one/],
    ["a refusal with a code that does not exist", () => ({ error: { code: "no_such_code", message: "?" } }), /not one/],
  ];
  for (const [what, answer, message] of refused) {
    it(`an asker refuses ${what} with store_unavailable, listing nothing`, { timeout: 60_000 }, async () => {
      const listings = await askerAgainst((partition, reply) => reply(frame("E", "rogue", JSON.stringify(answer(partition)))));
      await expect(listings.listEntities({ type: "Counter", pageSize: 10 }, false)).rejects.toMatchObject({ code: "store_unavailable", message });
    });
  }

  it("an asker refuses an answer that is not JSON, and passes on an owner's coded refusal", { timeout: 60_000 }, async () => {
    let refusal = false;
    const listings = await askerAgainst((_partition, reply) => reply(frame("E", "rogue", refusal ? JSON.stringify({ error: { code: "unknown_entity", message: "no type Counter here" } }) : "{not json")));
    await expect(listings.listEntities({ type: "Counter", pageSize: 10 }, false)).rejects.toMatchObject({ code: "store_unavailable" });
    refusal = true;
    await expect(listings.listEntities({ type: "Counter", pageSize: 10 }, false)).rejects.toMatchObject({ code: "unknown_entity", message: "no type Counter here" });
  });

  it("an asker refuses failures newer than it asked for, and instances of another partition", { timeout: 60_000 }, async () => {
    const instanceIn = (partition: number) => {
      for (let i = 0; ; i++) if (partitionOf(`i-${i}`, 2) === partition) return `i-${i}`;
    };
    let instancesOf = (partition: number) => instanceIn(1 - partition);
    const listings = await askerAgainst((partition, reply) => {
      const failure = { seq: 50, entityId: idIn(partition), operation: "add", code: "operation_failed", message: "boom", time: new Date(0).toISOString() };
      const status = { name: "X", instanceId: instancesOf(partition), runtimeStatus: "Completed", input: null, output: null, customStatus: null, createdTime: new Date(0).toISOString(), lastUpdatedTime: new Date(0).toISOString() };
      reply(frame("E", "rogue", JSON.stringify({ failures: [failure], more: false, instances: [status], scanned: 1, bytes: 10 })));
    });
    await expect(listings.failures({ before: 10 })).rejects.toMatchObject({ code: "store_unavailable" });
    expect((await listings.failures({ before: 60 })).failures.map((failure) => failure.entityId)).toEqual([idIn(0), idIn(1)]);
    await expect(listings.listInstances({ type: "list", id: 1 })).rejects.toMatchObject({ code: "store_unavailable" });
    instancesOf = instanceIn;
    expect((await listings.listInstances({ type: "list", id: 1 })).instances.map((status) => status.instanceId)).toEqual([instanceIn(0), instanceIn(1)]);
  });
});
