import { afterEach, describe, expect, it } from "vitest";
import { EntityRuntime, type Outcome } from "../../../src/runtime/index.js";
import { createLogger } from "../../../src/log.js";
import { StoreWriteError, type EntityStore, type WriteBatch } from "../../../src/storage/index.js";
import { Counter } from "../support/entities.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

/**
 * The real LMDB store, whose first commit fails inside LMDB (a write past its key size limit is added
 * to the batch), so the store's own chaining of commits is what refuses the ticks queued behind it.
 */
function failingFirstCommit(store: EntityStore): EntityStore {
  let failed = false;
  return Object.assign(Object.create(store) as EntityStore, {
    commit(batch: WriteBatch): Promise<void> {
      if (!failed) {
        failed = true;
        batch.putEntity(`Counter/${"k".repeat(4000)}`, { version: 1, state: 0 });
      }
      return store.commit(batch);
    },
    resync: () => store.resync(),
  });
}

function signalOf(runtime: EntityRuntime) {
  return (entityId: string, seq: number) =>
    new Promise<Outcome>((resolve) =>
      runtime.submit({ kind: "signal", entityId, op: "add", input: 1, sender: { clientId: "A", seq }, requestId: seq, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }),
    );
}

function readOf(runtime: EntityRuntime) {
  return (entityId: string) =>
    new Promise<Outcome>((resolve) => runtime.submit({ kind: "read", entityId, op: "", requestId: 0, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
}

describe("a failed commit", () => {
  it("answers its tick and every tick built on it with store_unavailable, then takes work again from what is on disk", async () => {
    const store = await stores.openStore(stores.newDir());
    const fatal: unknown[] = [];
    const runtime = new EntityRuntime({ store: failingFirstCommit(store), entities: [Counter], log: createLogger("silent"), onFatal: (error) => fatal.push(error) });
    const signal = signalOf(runtime);
    const first = signal("Counter/x", 1);
    await new Promise((resolve) => setImmediate(resolve)); // the second tick runs before the first commit's failure is known
    const second = signal("Counter/x", 2);
    expect(await first).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect(await second).toMatchObject({ kind: "error", code: "store_unavailable" }); // built on memory ahead of disk: never acked, never written
    expect(await signal("Counter/x", 3)).toEqual({ kind: "ack" });
    // Only the acknowledged add counts: memory was reset to the store, not left with the refused ones.
    expect(await readOf(runtime)("Counter/x")).toMatchObject({ kind: "state", state: 1 });
    expect(store.readEntity("Counter/x")).toMatchObject({ state: 1 });
    expect(fatal).toEqual([]);
    await runtime.close();
  });
});

describe("a commit that fails while an earlier one is still flushing", () => {
  it("does not crash the process: the earlier tick is answered, this one gets store_unavailable, and later ones work", async () => {
    const store = await stores.openStore(stores.newDir());
    const fatal: unknown[] = [];
    let commits = 0;
    const slowThenFailing = Object.assign(Object.create(store) as EntityStore, {
      async commit(batch: WriteBatch): Promise<void> {
        if (++commits === 2) throw new StoreWriteError("the disk is full (injected)");
        await store.commit(batch);
        if (commits === 1) await new Promise((resolve) => setTimeout(resolve, 200)); // a slow flush
      },
      resync: () => store.resync(),
    });
    const runtime = new EntityRuntime({ store: slowThenFailing, entities: [Counter], log: createLogger("silent"), onFatal: (error) => fatal.push(error) });
    const signal = signalOf(runtime);
    const first = signal("Counter/a", 1);
    await new Promise((resolve) => setImmediate(resolve));
    const second = signal("Counter/b", 2); // its commit fails at once, while the first is still flushing
    expect(await first).toEqual({ kind: "ack" });
    expect(await second).toMatchObject({ kind: "error", code: "store_unavailable", message: expect.stringContaining("the disk is full (injected)") });
    expect(await signal("Counter/b", 3)).toEqual({ kind: "ack" });
    expect(await readOf(runtime)("Counter/b")).toMatchObject({ kind: "state", state: 1 });
    expect(fatal).toEqual([]);
    await runtime.close();
  });
});

describe("a tick that throws while it is being built", () => {
  it("answers every operation of the tick with internal and stops taking work", async () => {
    const store = await stores.openStore(stores.newDir());
    const fatal: unknown[] = [];
    const breaking = Object.assign(Object.create(store) as EntityStore, {
      newBatch(): WriteBatch {
        const batch = store.newBatch();
        const putEntity = batch.putEntity.bind(batch);
        return Object.assign(batch, {
          putEntity(id: string, record: Parameters<WriteBatch["putEntity"]>[1]) {
            if (id === "Counter/b") throw new Error("broken batch (injected)");
            putEntity(id, record);
          },
        });
      },
    });
    const runtime = new EntityRuntime({ store: breaking, entities: [Counter], log: createLogger("silent"), onFatal: (error) => fatal.push(error) });
    const signal = (entityId: string) =>
      new Promise<Outcome>((resolve) => runtime.submit({ kind: "signal", entityId, op: "add", input: 1, requestId: 1, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
    const answers = await Promise.all(["Counter/a", "Counter/b", "Counter/c"].map(signal));
    expect(answers).toEqual(Array(3).fill({ kind: "error", code: "internal", message: expect.any(String) }));
    expect(await signal("Counter/a")).toMatchObject({ code: "internal" });
    expect(fatal).toHaveLength(1);
  });
});

describe("a disk that stays full", () => {
  it("answers reads of entities a failed tick did not write, and retries with a growing delay rather than spinning", async () => {
    const store = await stores.openStore(stores.newDir());
    const seed = store.newBatch();
    seed.putEntity("Counter/read", { version: 1, state: 7 });
    await store.commit(seed);
    let attempts = 0;
    const full = Object.assign(Object.create(store) as EntityStore, {
      commit(batch: WriteBatch): Promise<void> {
        attempts++;
        batch.putEntity(`Counter/${"k".repeat(4000)}`, { version: 1, state: 0 }); // fails inside LMDB, as a full disk does
        return store.commit(batch);
      },
      resync: () => store.resync(),
    });
    const runtime = new EntityRuntime({ store: full, entities: [Counter], log: createLogger("silent"), onFatal: () => {} });
    // A durable message that can never be applied while the disk is full: every recovery hands it out again.
    const stuck = store.newBatch();
    stuck.appendMessage({ target: "Counter/stuck", op: "add", input: 1 });
    await store.commit(stuck);
    runtime.start();
    const signal = signalOf(runtime);
    const read = readOf(runtime);
    // A write and a read in one tick: the write is refused, the read (of an entity the tick did not write) is answered.
    const [written, answered] = await Promise.all([signal("Counter/other", 1), read("Counter/read")]);
    expect(written).toMatchObject({ kind: "error", code: "store_unavailable" });
    expect(answered).toMatchObject({ kind: "state", state: 7 });
    const before = attempts;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Recoveries wait 10 ms, 20 ms, 40 ms … up to a second: a handful of attempts, not thousands.
    expect(attempts - before).toBeLessThan(20);
    expect(await read("Counter/read")).toMatchObject({ kind: "state", state: 7 });
    await runtime.abort();
  });
});
