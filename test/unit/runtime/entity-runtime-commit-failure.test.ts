import { afterEach, describe, expect, it } from "vitest";
import { EntityRuntime, type Outcome } from "../../../src/runtime/index.js";
import { createLogger } from "../../../src/log.js";
import type { EntityStore, WriteBatch } from "../../../src/storage/index.js";
import { Counter } from "../support/entities.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

/** The real LMDB store, whose first commit fails as a full disk would make it. */
function failingFirstCommit(store: EntityStore): EntityStore {
  let failed = false;
  return Object.assign(Object.create(store) as EntityStore, {
    commit(batch: WriteBatch): Promise<void> {
      if (failed) return store.commit(batch);
      failed = true;
      return Promise.reject(new Error("ENOSPC (injected)"));
    },
  });
}

describe("a failed commit", () => {
  it("answers its tick and every later one with internal, and tells the host once", async () => {
    const store = await stores.openStore(stores.newDir());
    const fatal: unknown[] = [];
    const runtime = new EntityRuntime({ store: failingFirstCommit(store), entities: [Counter], log: createLogger("silent"), onFatal: (error) => fatal.push(error) });
    const signal = (seq: number) =>
      new Promise<Outcome>((resolve) =>
        runtime.submit({ kind: "signal", entityId: "Counter/x", op: "add", input: 1, sender: { clientId: "A", seq }, requestId: seq, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }),
      );
    const first = signal(1);
    await new Promise((resolve) => setImmediate(resolve)); // the second tick runs before the first commit's failure is known
    const second = signal(2);
    expect(await first).toMatchObject({ kind: "error", code: "internal" });
    expect(await second).toMatchObject({ kind: "error", code: "internal" }); // built on memory ahead of disk: never acked
    expect(await signal(3)).toMatchObject({ kind: "error", code: "internal" });
    expect(fatal).toHaveLength(1);
  });
});

describe("a commit that fails while an earlier one is still flushing", () => {
  it("does not crash the process: the earlier tick is answered, this one and later ones get internal", async () => {
    const store = await stores.openStore(stores.newDir());
    const fatal: unknown[] = [];
    let commits = 0;
    const slowThenFailing = Object.assign(Object.create(store) as EntityStore, {
      async commit(batch: WriteBatch): Promise<void> {
        if (++commits > 1) throw new Error("ENOSPC (injected)");
        await store.commit(batch);
        await new Promise((resolve) => setTimeout(resolve, 200)); // a slow flush
      },
    });
    const runtime = new EntityRuntime({ store: slowThenFailing, entities: [Counter], log: createLogger("silent"), onFatal: (error) => fatal.push(error) });
    const signal = (entityId: string) =>
      new Promise<Outcome>((resolve) => runtime.submit({ kind: "signal", entityId, op: "add", input: 1, requestId: 1, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
    const first = signal("Counter/a");
    await new Promise((resolve) => setImmediate(resolve));
    const second = signal("Counter/b"); // its commit fails at once, while the first is still flushing
    expect(await first).toEqual({ kind: "ack" });
    expect(await second).toMatchObject({ kind: "error", code: "internal" });
    expect(fatal).toHaveLength(1);
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
