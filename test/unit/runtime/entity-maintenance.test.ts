import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { cleanEntities, CommitPipeline, defineEntity, deleteRequest, EntityRuntime, RELEASE_OP, type EntityChange, type OperationRequest, type Outcome } from "../../../src/runtime/index.js";
import type { EntityRecord, LmdbStore, LockHolder } from "../../../src/storage/index.js";
import { ManualClock } from "../../integration/support/manual-clock.js";
import { TempStores } from "../support/temp-dir.js";

const Tally = defineEntity("Tally", {
  initialState: () => 100,
  operations: {
    add: (ctx, n: number) => (ctx.state += n),
    remove: (ctx) => ctx.deleteState(),
    fail: () => {
      throw new Error("no");
    },
  },
});
const Other = defineEntity("Other", { initialState: () => 0, operations: { add: (ctx, n: number) => (ctx.state += n) } });

const T0 = Date.UTC(2026, 5, 1);
const stores = new TempStores();
let store: LmdbStore;
let runtime: EntityRuntime;
let clock: ManualClock;
let dir: string;
/** Orchestration executions that run (their locks are kept). */
const running = new Set<string>();

async function open(records: Array<[string, EntityRecord]> = []): Promise<void> {
  dir ??= stores.newDir();
  store = await stores.openStore(dir);
  if (records.length > 0) {
    const batch = store.newBatch();
    for (const [id, record] of records) batch.putEntity(id, record);
    await store.commit(batch);
  }
  clock ??= new ManualClock(T0);
  const pipeline = new CommitPipeline({ store, clock, log: createLogger("silent") });
  runtime = new EntityRuntime({ store, pipeline, entities: [Tally, Other], log: createLogger("silent") });
  runtime.lockHolderCheck = (holder) => running.has(holder.instanceId);
  runtime.start();
}

async function reopen(): Promise<void> {
  await runtime.close();
  await stores.closeStore(store);
  await open();
}

afterEach(async () => {
  await runtime.close();
  await stores.dispose();
  dir = undefined!;
  clock = undefined!;
  running.clear();
});

function submit(request: Omit<OperationRequest, "replyTo" | "requestId">): Promise<Outcome> {
  return new Promise((resolve) => runtime.submit({ ...request, requestId: 1, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
}
const signal = (entityId: string, op: string, input?: unknown) => submit({ kind: "signal", entityId, op, input });
const read = (entityId: string) => submit({ kind: "read", entityId, op: "" });
const release = (entityId: string, holder: LockHolder) => submit({ kind: "signal", entityId, op: RELEASE_OP, holder, lock: { entities: [entityId], grant: "@granted" } });

describe("modifiedAt", () => {
  it("is the runtime clock's time of the commit that last wrote the record; reads and failed operations do not write it", async () => {
    await open();
    await signal("Tally/a", "add", 1);
    expect(store.readEntity("Tally/a")).toEqual({ version: 1, modifiedAt: T0, state: 101 });
    clock.advance(5000);
    await read("Tally/a");
    await signal("Tally/a", "fail");
    expect(store.readEntity("Tally/a")?.modifiedAt).toBe(T0);
    await signal("Tally/a", "add", 1);
    expect(store.readEntity("Tally/a")).toEqual({ version: 2, modifiedAt: T0 + 5000, state: 102 });
  });

  it("is absent from records written before it was kept, which load and run as before and get one when next written", async () => {
    await open([["Tally/old", { version: 4, state: 7 }]]);
    expect(await read("Tally/old")).toEqual({ kind: "state", entityId: "Tally/old", state: 7, version: 4 });
    await signal("Tally/old", "add", 1);
    expect(store.readEntity("Tally/old")).toEqual({ version: 5, modifiedAt: T0, state: 8 });
  });
});

describe("deleting an entity in its turn", () => {
  it("removes the state as deleteState does: a new version, a change to null, the record kept without state", async () => {
    await open();
    const changes: EntityChange[] = [];
    runtime.onChange((batch) => changes.push(...batch));
    await signal("Tally/d", "add", 5);
    clock.advance(10);
    expect(await submit(deleteRequest("Tally/d"))).toEqual({ kind: "result", value: { deleted: true } });
    expect(await read("Tally/d")).toMatchObject({ state: null, version: 2 });
    expect(changes.at(-1)).toEqual({ entityId: "Tally/d", version: 2, state: null, previousState: 105 });
    expect(store.readEntity("Tally/d")).toEqual({ version: 2, modifiedAt: T0 + 10 });
    expect(await submit(deleteRequest("Tally/d"))).toEqual({ kind: "result", value: { deleted: false } });
    expect(await submit(deleteRequest("Tally/never"))).toEqual({ kind: "result", value: { deleted: false } });
    expect(store.readEntity("Tally/never")).toBeUndefined();
    expect(store.readEntity("Tally/d")?.version).toBe(2);
  });

  it("waits while a running orchestration holds the entity, and runs once the lock is released", async () => {
    const holder = { instanceId: "o1", generation: 3 };
    running.add("o1");
    await open([["Tally/held", { version: 1, state: 9, lock: holder }]]);
    let answered: Outcome | undefined;
    const deleted = submit(deleteRequest("Tally/held")).then((outcome) => (answered = outcome));
    await signal("Other/x", "add", 1); // a later tick has run and committed
    expect(answered).toBeUndefined();
    expect(store.readEntity("Tally/held")?.state).toBe(9);
    void release("Tally/held", holder); // the lock protocol's messages are not answered
    expect(await deleted).toEqual({ kind: "result", value: { deleted: true } });
    expect(store.readEntity("Tally/held")).toEqual({ version: 2, modifiedAt: T0 });
  });

  it("frees a lock whose holder no longer runs, then deletes", async () => {
    await open([["Tally/orphan", { version: 1, state: 9, lock: { instanceId: "gone", generation: 1 } }]]);
    expect(await submit(deleteRequest("Tally/orphan"))).toEqual({ kind: "result", value: { deleted: true } });
    expect(store.readEntity("Tally/orphan")).toEqual({ version: 2, modifiedAt: T0 });
  });
});

describe("cleaning entity storage", () => {
  it("removes the records of entities without state and frees locks whose holder ended; entities with state and running holders keep theirs", async () => {
    running.add("alive");
    await open([
      ["Tally/full", { version: 3, modifiedAt: 1, state: 1 }],
      ["Tally/empty1", { version: 2, modifiedAt: 1 }],
      ["Tally/empty2", { version: 5 }],
      ["Tally/orphan", { version: 1, modifiedAt: 1, state: 4, lock: { instanceId: "gone", generation: 1 } }],
      ["Tally/orphan-empty", { version: 2, lock: { instanceId: "gone", generation: 2 } }],
      ["Tally/lock-only", { version: 0, lock: { instanceId: "gone", generation: 3 } }],
      ["Tally/held", { version: 1, state: 2, lock: { instanceId: "alive", generation: 1 } }],
      ["Tally/held-empty", { version: 1, lock: { instanceId: "alive", generation: 1 } }],
      ["Other/empty", { version: 1 }],
    ]);
    const report = await cleanEntities(runtime);
    expect(report).toEqual({
      removedEmpty: 4,
      locksFreed: 3,
      removed: ["Tally/empty1", "Tally/empty2", "Tally/orphan-empty", "Other/empty"], // type by type, in id order
      unlocked: ["Tally/lock-only", "Tally/orphan", "Tally/orphan-empty"],
    });
    for (const id of ["Tally/empty1", "Tally/empty2", "Tally/orphan-empty", "Tally/lock-only", "Other/empty"]) expect(store.readEntity(id), id).toBeUndefined();
    expect(store.readEntity("Tally/full")).toEqual({ version: 3, modifiedAt: 1, state: 1 });
    expect(store.readEntity("Tally/orphan")).toEqual({ version: 1, modifiedAt: T0, state: 4 });
    expect(store.readEntity("Tally/held")?.lock).toEqual({ instanceId: "alive", generation: 1 });
    expect(store.readEntity("Tally/held-empty")?.lock).toEqual({ instanceId: "alive", generation: 1 });
    // A removed entity starts afresh, from version 0, in memory and after a restart.
    expect(await read("Tally/empty1")).toMatchObject({ state: null, version: 0 });
    await reopen();
    expect(await read("Tally/empty2")).toMatchObject({ state: null, version: 0 });
    await signal("Tally/empty2", "add", 1);
    expect(store.readEntity("Tally/empty2")).toEqual({ version: 1, modifiedAt: T0, state: 101 });
    expect(await cleanEntities(runtime)).toEqual({ removedEmpty: 0, locksFreed: 0, removed: [], unlocked: [] });
  });

  it("runs the operations that waited for an orphaned lock once it frees it", async () => {
    running.add("o2");
    await open([["Tally/w", { version: 1, state: 1, lock: { instanceId: "o2", generation: 1 } }]]);
    const waited = signal("Tally/w", "add", 10);
    await signal("Other/x", "add", 1);
    running.delete("o2"); // the holder ended without releasing (nothing else asked for the entity since)
    expect(await cleanEntities(runtime, { entityType: "Tally" })).toMatchObject({ locksFreed: 1, unlocked: ["Tally/w"] });
    expect(await waited).toEqual({ kind: "ack" });
    expect(store.readEntity("Tally/w")).toEqual({ version: 2, modifiedAt: T0, state: 11 });
  });

  it("keeps an empty entity live state watches (its version must not go back), and one that has work waiting", async () => {
    await open([
      ["Tally/watched", { version: 2 }],
      ["Tally/plain", { version: 2 }],
    ]);
    const report = await cleanEntities(runtime, { isWatched: (id) => id === "Tally/watched" });
    expect(report.removed).toEqual(["Tally/plain"]);
    expect(store.readEntity("Tally/watched")).toEqual({ version: 2 });
  });

  it("does only what it is asked: one type, empty entities or orphaned locks", async () => {
    await open([
      ["Tally/empty", { version: 2 }],
      ["Other/empty", { version: 2 }],
      ["Tally/orphan", { version: 1, state: 1, lock: { instanceId: "gone", generation: 1 } }],
    ]);
    expect(await cleanEntities(runtime, { entityType: "Other" })).toEqual({ removedEmpty: 1, locksFreed: 0, removed: ["Other/empty"], unlocked: [] });
    expect(await cleanEntities(runtime, { releaseOrphanedLocks: false })).toEqual({ removedEmpty: 1, locksFreed: 0, removed: ["Tally/empty"], unlocked: [] });
    expect(store.readEntity("Tally/orphan")?.lock).toBeDefined();
    expect(await cleanEntities(runtime, { removeEmpty: false })).toEqual({ removedEmpty: 0, locksFreed: 1, removed: [], unlocked: ["Tally/orphan"] });
    await expect(cleanEntities(runtime, { entityType: "Nope" })).rejects.toMatchObject({ code: "unknown_entity" });
  });

  it("decides in the entity's turn, on what it holds then: an entity changed in the clean's own turn keeps its record", async () => {
    await open([["Tally/busy", { version: 2 }]]);
    const added = signal("Tally/busy", "add", 1);
    const seen = read("Tally/busy"); // the state it read becomes a version of its own
    const removed = signal("Tally/busy", "remove");
    const cleaned = cleanEntities(runtime); // the stored record is empty: a candidate, cleaned in the same turn
    expect(await Promise.all([added, seen, removed])).toEqual([{ kind: "ack" }, { kind: "state", entityId: "Tally/busy", state: 101, version: 3 }, { kind: "ack" }]);
    expect(await cleaned).toMatchObject({ removedEmpty: 0 });
    expect(store.readEntity("Tally/busy")).toEqual({ version: 4, modifiedAt: T0 });
    expect(await cleanEntities(runtime)).toMatchObject({ removedEmpty: 1, removed: ["Tally/busy"] });
  });

  it("removes an entity made and emptied within the clean's turn: nothing of it was ever written", async () => {
    await open([["Tally/brief", { version: 2 }]]);
    const done = Promise.all([signal("Tally/brief", "add", 1), signal("Tally/brief", "remove"), cleanEntities(runtime)]);
    expect((await done)[2]).toMatchObject({ removedEmpty: 1, removed: ["Tally/brief"] });
    expect(store.readEntity("Tally/brief")).toBeUndefined();
  });
});
