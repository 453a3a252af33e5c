import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FailedSignalWire, ListFrame } from "../../../protocol/index.js";
import { mergeCleanReports, mergeEntityPages, mergeFailures, type PartitionFailures } from "../../../src/cluster/listing-merge.js";
import { answerOf, answerPartitionQuery, type AnswerOf, type PartitionQuery, type PartitionServices } from "../../../src/cluster/partition-queries.js";
import type { EntityRuntime } from "../../../src/runtime/index.js";
import type { InstanceRecord, InstanceStatus } from "../../../src/orchestration/index.js";
import { listInstances, pageSteps } from "../../../src/server/instance-listing.js";
import { compareIds, type DeadLetter, type EntityRecord, type LmdbStore } from "../../../src/storage/index.js";
import { TempStores } from "../support/temp-dir.js";

/**
 * The merge of partitions' parts (cluster mode's listings) against one store's own listing of the same
 * records: each partition answers from the store restricted to it, its answer travels as JSON and is
 * checked as a node checks another's, and the merged pages must list what the store lists.
 */
const stores = new TempStores();
let store: LmdbStore;
let services: PartitionServices;
const written = new Map<string, EntityRecord>();
const T0 = Date.UTC(2026, 0, 1);

beforeAll(async () => {
  store = await stores.openStore(stores.newDir());
  services = { store, runtime: undefined as unknown as EntityRuntime, host: undefined, isWatched: () => false };
  const batch = store.newBatch();
  for (let i = 0; i < 1500; i++) {
    const record: EntityRecord = { version: 1 + (i % 4), modifiedAt: T0 + i, ...(i % 9 === 0 ? {} : { state: { n: i, pad: "x".repeat(i % 50) } }) };
    batch.putEntity(`Counter/k-${i}`, record);
    written.set(`Counter/k-${i}`, record);
  }
  for (let i = 0; i < 200; i++) batch.putEntity(`Counters/${i}`, { version: 1, modifiedAt: T0, state: i }); // a type whose ids sort right after Counter's
  for (let i = 0; i < 700; i++) {
    const status = (["Completed", "Failed", "Running", "Terminated"] as const)[i % 4]!;
    const record: InstanceRecord = { name: i % 3 === 0 ? "Alpha" : "Beta", status, input: { i }, createdTime: T0 + i * 1000, lastUpdatedTime: T0 + i * 1000, depth: 0, generation: 0, historyLength: 0 };
    batch.putInstance(`inst-${i}`, record);
  }
  await store.commit(batch);
});
afterAll(async () => {
  await stores.dispose();
});

/** One partition's answer as another node receives it: through JSON, then checked. */
async function fromOwner<Q extends PartitionQuery>(partition: number, query: Q): Promise<AnswerOf<Q>> {
  const sent = JSON.parse(JSON.stringify(await answerPartitionQuery(services, partition, query))) as unknown;
  const received = answerOf(query, partition, (id) => store.partitionOf(id), sent);
  expect(received, `partition ${partition}'s answer to ${query.kind} passes the checks`).toBeDefined();
  return received!;
}

const everyPartition = <T>(read: (partition: number) => Promise<T>) => Promise.all(Array.from({ length: store.partitionCount }, (_, partition) => read(partition)));

describe("entity listings merged from partitions", () => {
  const cases = [
    { name: "page of 1", query: { type: "Counter", pageSize: 1 } },
    { name: "page of 7", query: { type: "Counter", pageSize: 7 } },
    { name: "page of 100, deleted too", query: { type: "Counter", pageSize: 100, includeDeleted: true } },
    { name: "page of 1000, with state", query: { type: "Counter", pageSize: 1000, includeState: true } },
    { name: "a prefix", query: { type: "Counter", pageSize: 13, keyPrefix: "k-1" } },
    { name: "a time window", query: { type: "Counter", pageSize: 50, modifiedFrom: T0 + 100, modifiedTo: T0 + 900 } },
  ];
  it.each(cases)("$name: the same entities in the same order as one store, and the same count", async ({ query }) => {
    const merged: string[] = [];
    let after: string | undefined;
    let count: number | undefined;
    let pages = 0;
    do {
      const parts = await everyPartition((partition) => fromOwner(partition, { kind: "entities", ...query, ...(after === undefined ? {} : { after }), ...(pages === 0 ? { count: true } : {}) }));
      const page = mergeEntityPages(parts, query);
      if (pages === 0) count = page.count;
      expect(page.listing.entities.length).toBeLessThanOrEqual(query.pageSize);
      merged.push(...page.listing.entities.map((entity) => entity.id));
      after = page.listing.next;
      pages++;
    } while (after !== undefined && pages < 5000);
    const single: string[] = [];
    after = undefined;
    do {
      const page = store.listEntities({ ...query, ...(after === undefined ? {} : { after }) });
      single.push(...page.entities.map((entity) => entity.id));
      after = page.next;
    } while (after !== undefined);
    expect(merged).toEqual(single);
    expect(merged.length).toBeGreaterThan(0);
    expect(count).toBe(await store.countEntities(query));
    expect([...merged].sort(compareIds)).toEqual(merged);
  });

  it("a full page is the store's page, entity for entity (states included)", async () => {
    const query = { type: "Counter", pageSize: 100, includeState: true };
    const parts = await everyPartition((partition) => fromOwner(partition, { kind: "entities", ...query, after: "Counter/k-3" }));
    expect(mergeEntityPages(parts, query).listing.entities).toEqual(store.listEntities({ ...query, after: "Counter/k-3" }).entities);
  });

  it("an owner's answer that lists another partition's entity, or another type's, is refused", async () => {
    const query = { kind: "entities" as const, type: "Counter", pageSize: 10 };
    const partition = store.partitionOf("Counter/k-1");
    const answer = await answerPartitionQuery(services, partition, query);
    const foreign = [...written.keys()].find((id) => store.partitionOf(id) !== partition)!;
    expect(answerOf(query, partition, (id) => store.partitionOf(id), { ...answer, entities: [{ id: foreign, version: 1 }] })).toBeUndefined();
    expect(answerOf(query, partition, (id) => store.partitionOf(id), { ...answer, entities: [{ id: "Counters/1", version: 1 }] })).toBeUndefined();
    expect(answerOf(query, partition, (id) => store.partitionOf(id), { entities: "none" })).toBeUndefined();
    expect(answerOf(query, partition, (id) => store.partitionOf(id), null)).toBeUndefined();
  });
});

describe("instance listings gathered partition by partition", () => {
  const frames: ListFrame[] = [
    { type: "list", id: 1, pageSize: 9 },
    { type: "list", id: 1, pageSize: 1000 },
    { type: "list", id: 1, pageSize: 20, runtimeStatus: ["Completed", "Terminated"] },
    { type: "list", id: 1, pageSize: 5, name: "Alpha", createdFrom: T0 + 100_000, createdTo: T0 + 400_000 },
    { type: "list", id: 1, pageSize: 3, instanceIdPrefix: "inst-1" },
  ];
  it.each(frames)("the pages and continuations one store gives (%#)", async (frame) => {
    const host = { store } as unknown as Parameters<typeof listInstances>[0];
    let continuation: string | undefined;
    let seen = 0;
    do {
      const asked = { ...frame, ...(continuation === undefined ? {} : { continuation }) };
      const single = listInstances(host, asked);
      const steps = pageSteps(asked, store.partitionCount);
      let step = steps.next();
      while (!step.done) {
        const { partition, afterId, limits } = step.value;
        const filter = Object.fromEntries(Object.entries({ runtimeStatus: frame.runtimeStatus, name: frame.name, createdFrom: frame.createdFrom, createdTo: frame.createdTo, instanceIdPrefix: frame.instanceIdPrefix }).filter(([, value]) => value !== undefined));
        step = steps.next(await fromOwner(partition, { kind: "instances", filter, ...(afterId === undefined ? {} : { afterId }), limits }));
      }
      expect(step.value).toEqual(single);
      seen += single.instances.length;
      continuation = single.continuation;
    } while (continuation !== undefined);
    expect(seen).toBeGreaterThan(0);
  });

  it("refuses a continuation it did not give", () => {
    expect(() => pageSteps({ type: "list", id: 1, continuation: Buffer.from(JSON.stringify({ partition: 99 })).toString("base64url") }, store.partitionCount).next()).toThrow(/continuation/);
    expect(() => pageSteps({ type: "list", id: 1, continuation: "not base64 json" }, store.partitionCount).next()).toThrow(/continuation/);
    expect(() => pageSteps({ type: "list", id: 1, continuation: Buffer.from(JSON.stringify({ partition: 2, after: [3, "i", "x"] })).toString("base64url") }, store.partitionCount).next()).toThrow(/continuation/);
  });

  it("an owner's answer with an instance of another partition is refused", async () => {
    const query = { kind: "instances" as const, filter: {}, limits: { want: 10, budget: 100, bytes: 1e6 } };
    const status: InstanceStatus = { name: "Alpha", instanceId: "inst-1", runtimeStatus: "Completed", input: null, output: null, customStatus: null, createdTime: new Date(T0).toISOString(), lastUpdatedTime: new Date(T0).toISOString() };
    const other = (store.partitionOf("inst-1") + 1) % store.partitionCount;
    expect(answerOf(query, other, (id) => store.partitionOf(id), { instances: [status], scanned: 1, bytes: 10 })).toBeUndefined();
    expect(answerOf(query, store.partitionOf("inst-1"), (id) => store.partitionOf(id), { instances: [status], scanned: 1, bytes: 10 })).toBeDefined();
  });
});

describe("failures merged from partitions", () => {
  /** Letters as three nodes number them: each its own 1, 2, 3…, so numbers repeat across partitions. */
  async function storeWithLetters(): Promise<{ letters: DeadLetter[]; read: (partition: number, limit: number, before?: number) => Promise<PartitionFailures> }> {
    const own = await stores.openStore(stores.newDir());
    const ownServices: PartitionServices = { ...services, store: own };
    const letters: DeadLetter[] = [];
    const batch = own.newBatch();
    // Within a partition numbers never repeat (its owner numbers above what it holds): the three failures of a number are in three partitions.
    let next = 0;
    for (let seq = 1; seq <= 30; seq++) {
      const partitions = new Set<number>();
      while (partitions.size < 3) {
        const target = `Fragile/f-${next++}`;
        if (partitions.has(own.partitionOf(target))) continue;
        partitions.add(own.partitionOf(target));
        const letter: DeadLetter = { seq, target, op: "explode", input: { n: next }, code: "operation_failed", message: `boom ${next}`, atMs: T0 + next };
        letters.push(letter);
        batch.putDeadLetter(letter);
      }
    }
    await own.commit(batch);
    const read = async (partition: number, limit: number, before?: number): Promise<PartitionFailures> => {
      const query = { kind: "failures" as const, limit, ...(before === undefined ? {} : { before }) };
      const sent = JSON.parse(JSON.stringify(await answerPartitionQuery(ownServices, partition, query))) as unknown;
      const answer = answerOf(query, partition, (id) => own.partitionOf(id), sent)!;
      expect(answer).toBeDefined();
      return { partition, ...answer };
    };
    return { letters, read };
  }

  it.each([1, 2, 3, 4, 7, 100])("pages of %i: every failure once, newest first, none skipped where numbers repeat", async (limit) => {
    const { letters, read } = await storeWithLetters();
    const listed: FailedSignalWire[] = [];
    let before: number | undefined;
    let pages = 0;
    do {
      const parts = await Promise.all(Array.from({ length: 16 }, (_, partition) => read(partition, limit + 1, before)));
      const page = mergeFailures(parts, limit);
      // A page holds at most `limit`, unless failures sharing one number alone are more (three share each number here).
      expect(page.failures.length).toBeLessThanOrEqual(Math.max(limit, 3));
      expect(page.failures.length).toBeGreaterThan(0);
      listed.push(...page.failures);
      before = page.next;
      pages++;
    } while (before !== undefined && pages < 1000);
    expect(listed.map((failure) => failure.entityId).sort()).toEqual(letters.map((letter) => letter.target).sort());
    expect(listed.map((failure) => failure.seq)).toEqual([...listed.map((failure) => failure.seq)].sort((a, b) => b - a));
  });

  it("with numbers that do not repeat, the pages one store gives", async () => {
    const parts: PartitionFailures[] = [0, 1, 2].map((partition) => ({
      partition,
      more: false,
      failures: [9 - partition, 6 - partition, 3 - partition].map((seq) => ({ seq, entityId: `Fragile/${seq}`, operation: "explode", code: "operation_failed", message: "boom", time: new Date(T0).toISOString() })),
    }));
    expect(mergeFailures(parts, 4)).toEqual({ failures: [9, 8, 7, 6].map((seq) => expect.objectContaining({ seq })), next: 6 });
    expect(mergeFailures(parts, 9).failures.map((failure) => failure.seq)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(mergeFailures(parts, 9).next).toBeUndefined();
  });
});

describe("clean reports merged", () => {
  it("sums the counts and keeps the first ids in type order, then id order", () => {
    const ids = (type: string, keys: number[]) => keys.map((key) => `${type}/${key}`);
    const merged = mergeCleanReports(
      [
        { removedEmpty: 60, locksFreed: 1, removed: [...ids("B", [1, 3]), ...ids("A", Array.from({ length: 58 }, (_, i) => 100 + i))], unlocked: ["A/9"] },
        { removedEmpty: 70, locksFreed: 0, removed: [...ids("B", [2]), ...ids("A", Array.from({ length: 69 }, (_, i) => 200 + i))], unlocked: [] },
      ],
      ["B", "A"],
    );
    expect(merged.removedEmpty).toBe(130);
    expect(merged.locksFreed).toBe(1);
    expect(merged.removed.slice(0, 3)).toEqual(["B/1", "B/2", "B/3"]);
    expect(merged.removed).toHaveLength(100);
    expect(merged.unlocked).toEqual(["A/9"]);
  });
});
