import { afterEach, describe, expect, it } from "vitest";
import { defineEntity, type EntityChange } from "../../../src/runtime/index.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

const Tally = defineEntity("Tally", {
  initialState: () => ({ total: 100 }),
  operations: {
    add: (ctx, n: number) => (ctx.state.total += n),
    remove: (ctx) => ctx.deleteState(),
    removeThenThrow: (ctx) => {
      ctx.deleteState();
      throw new Error("no");
    },
    exists: (ctx) => ctx.hasState,
  },
});

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("deleteState", () => {
  it("removes the entity: reads answer null, the next operation starts from initialState", async () => {
    harness = await RuntimeHarness.open([Tally]);
    const { runtime } = harness;
    const changes: EntityChange[] = [];
    runtime.onChange((batch) => changes.push(...batch));
    await signal(runtime, "Tally/t", "add", 5);
    expect(await call(runtime, "Tally/t", "exists")).toEqual({ kind: "result", value: true });
    await signal(runtime, "Tally/t", "remove");
    expect(await readState(runtime, "Tally/t")).toEqual({ state: null, version: 2 });
    expect(await call(runtime, "Tally/t", "add", 1)).toEqual({ kind: "result", value: 101 });
    expect(await readState(runtime, "Tally/t")).toEqual({ state: { total: 101 }, version: 3 });
    expect(changes).toEqual([
      { entityId: "Tally/t", version: 1, state: { total: 105 }, previousState: null },
      { entityId: "Tally/t", version: 2, state: null, previousState: { total: 105 } },
      { entityId: "Tally/t", version: 3, state: { total: 101 }, previousState: null },
    ]);
  });

  it("leaves a record without state on disk, which a restarted runtime reads as no entity", async () => {
    harness = await RuntimeHarness.open([Tally]);
    await signal(harness.runtime, "Tally/d", "add", 5);
    await signal(harness.runtime, "Tally/d", "remove");
    await harness.closeRuntimeAndStore();
    const store = await harness.openStoreOnly();
    expect(store.readEntity("Tally/d")).toEqual({ version: 2, modifiedAt: expect.any(Number) });
    await harness.restart();
    expect(await readState(harness.runtime, "Tally/d")).toEqual({ state: null, version: 2 });
  });

  it("writes nothing for an entity made and deleted in the same turn", async () => {
    harness = await RuntimeHarness.open([Tally]);
    const outcomes = await Promise.all([signal(harness.runtime, "Tally/e", "add", 5), signal(harness.runtime, "Tally/e", "remove")]);
    expect(outcomes).toEqual([{ kind: "ack" }, { kind: "ack" }]);
    expect(await readState(harness.runtime, "Tally/e")).toEqual({ state: null, version: 0 });
    await harness.closeRuntimeAndStore();
    expect((await harness.openStoreOnly()).readEntity("Tally/e")).toBeUndefined();
  });

  it("after a restart, the next operation on a deleted entity starts from initialState", async () => {
    harness = await RuntimeHarness.open([Tally]);
    await signal(harness.runtime, "Tally/r", "add", 5);
    await signal(harness.runtime, "Tally/r", "remove");
    await harness.restart();
    expect(await readState(harness.runtime, "Tally/r")).toEqual({ state: null, version: 2 });
    expect(await call(harness.runtime, "Tally/r", "add", 1)).toEqual({ kind: "result", value: 101 });
    expect(await readState(harness.runtime, "Tally/r")).toEqual({ state: { total: 101 }, version: 3 });
  });

  it("rolls a deleteState back when its operation throws", async () => {
    harness = await RuntimeHarness.open([Tally]);
    const { runtime } = harness;
    await signal(runtime, "Tally/k", "add", 1);
    expect(await call(runtime, "Tally/k", "removeThenThrow")).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(await readState(runtime, "Tally/k")).toEqual({ state: { total: 101 }, version: 1 });
  });

  it("deleting an entity that does not exist changes nothing", async () => {
    harness = await RuntimeHarness.open([Tally]);
    await signal(harness.runtime, "Tally/none", "remove");
    expect(await readState(harness.runtime, "Tally/none")).toEqual({ state: null, version: 0 });
    await harness.closeRuntimeAndStore();
    const store = await harness.openStoreOnly();
    expect(store.readEntity("Tally/none")).toBeUndefined();
  });
});
