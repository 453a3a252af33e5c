import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/runtime/index.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

interface Shelf {
  items: string[];
}

const ShelfFn = defineEntity<"ShelfFn", Shelf>("ShelfFn", (ctx) => {
  switch (ctx.operationName) {
    case "put": {
      // getState(initial) is typed S | undefined in a dispatch entity, even with an initialiser.
      const shelf = ctx.getState(() => ({ items: [] }))!;
      shelf.items.push(ctx.getInput<string>());
      return shelf.items.length;
    }
    case "putThenThrow":
      ctx.getState(() => ({ items: [] }))!.items.push(ctx.getInput<string>());
      throw new Error(`refused ${ctx.getInput<string>()}`);
    case "clear":
      ctx.deleteState();
      return undefined;
    case "set":
      ctx.setState(ctx.getInput<Shelf>());
      return undefined;
    case "exists":
      return ctx.hasState;
    case "whoami":
      return { id: ctx.entityId, name: ctx.entityName, key: ctx.entityKey, op: ctx.operationName, input: ctx.input };
    default:
      throw new Error(`no operation ${ctx.operationName}`);
  }
});

const SumFn = defineEntity<"SumFn", number>("SumFn", (ctx) => {
  if (ctx.operationName === "add") ctx.state = (ctx.state ?? 0) + ctx.getInput<number>();
  return ctx.state;
});

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("dispatch-function entities", () => {
  it("start without state and see their context", async () => {
    harness = await RuntimeHarness.open([ShelfFn]);
    const { runtime } = harness;
    expect(await call(runtime, "ShelfFn/a/b", "exists")).toEqual({ kind: "result", value: false });
    expect(await call(runtime, "ShelfFn/a/b", "whoami", { x: 1 })).toEqual({
      kind: "result",
      value: { id: "ShelfFn/a/b", name: "ShelfFn", key: "a/b", op: "whoami", input: { x: 1 } },
    });
    expect(await readState(runtime, "ShelfFn/a/b")).toEqual({ state: null, version: 0 });
  });

  it("apply one tick's signals in order as one change", async () => {
    harness = await RuntimeHarness.open([SumFn, ShelfFn]);
    const { runtime } = harness;
    const acks = Array.from({ length: 1000 }, (_, i) => signal(runtime, "SumFn/s", "add", i + 1));
    const puts = Array.from({ length: 50 }, (_, i) => signal(runtime, "ShelfFn/o", "put", `i${i}`));
    expect(await Promise.all([...acks, ...puts])).toEqual(Array(1050).fill({ kind: "ack" }));
    expect(await readState(runtime, "SumFn/s")).toEqual({ state: 500_500, version: 1 });
    expect(await readState(runtime, "ShelfFn/o")).toEqual({ state: { items: Array.from({ length: 50 }, (_, i) => `i${i}`) }, version: 1 });
  });

  it("roll back a failed operation and keep its neighbours", async () => {
    harness = await RuntimeHarness.open([ShelfFn]);
    const { runtime } = harness;
    const outcomes = await Promise.all([
      call(runtime, "ShelfFn/r", "put", "one"),
      call(runtime, "ShelfFn/r", "putThenThrow", "two"),
      call(runtime, "ShelfFn/r", "put", "three"),
      call(runtime, "ShelfFn/r", "nope"),
    ]);
    expect(outcomes[0]).toEqual({ kind: "result", value: 1 });
    expect(outcomes[1]).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(outcomes[1]!.kind === "error" && outcomes[1]!.message).toContain("refused two");
    expect(outcomes[2]).toEqual({ kind: "result", value: 2 });
    expect(outcomes[3]).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(outcomes[3]!.kind === "error" && outcomes[3]!.message).toContain("no operation nope");
    expect(await readState(runtime, "ShelfFn/r")).toEqual({ state: { items: ["one", "three"] }, version: 1 });
  });

  it("fail an operation that sets a state JSON cannot hold", async () => {
    harness = await RuntimeHarness.open([ShelfFn]);
    const { runtime } = harness;
    await call(runtime, "ShelfFn/j", "put", "kept");
    const outcome = await call(runtime, "ShelfFn/j", "set", { items: [], at: 10n });
    expect(outcome).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(outcome.kind === "error" && outcome.message).toContain("$.at is a bigint");
    expect(await readState(runtime, "ShelfFn/j")).toEqual({ state: { items: ["kept"] }, version: 1 });
  });

  it("delete their state, and start again without state", async () => {
    harness = await RuntimeHarness.open([ShelfFn]);
    const { runtime } = harness;
    await call(runtime, "ShelfFn/d", "put", "x");
    expect(await call(runtime, "ShelfFn/d", "exists")).toEqual({ kind: "result", value: true });
    await call(runtime, "ShelfFn/d", "clear");
    expect(await readState(runtime, "ShelfFn/d")).toEqual({ state: null, version: 2 });
    expect(await call(runtime, "ShelfFn/d", "exists")).toEqual({ kind: "result", value: false });
    expect(await call(runtime, "ShelfFn/d", "put", "y")).toEqual({ kind: "result", value: 1 });
    await harness.restart();
    expect(await readState(harness.runtime, "ShelfFn/d")).toEqual({ state: { items: ["y"] }, version: 3 });
  });

  it("de-duplicate client signals the same way", async () => {
    harness = await RuntimeHarness.open([SumFn]);
    const { runtime } = harness;
    await Promise.all([
      signal(runtime, "SumFn/dd", "add", 1, { clientId: "a", seq: 2 }),
      signal(runtime, "SumFn/dd", "add", 1, { clientId: "a", seq: 2 }),
      signal(runtime, "SumFn/dd", "add", 1, { clientId: "a", seq: 1 }),
      signal(runtime, "SumFn/dd", "add", 10, { clientId: "b", seq: 2 }),
    ]);
    expect(await readState(runtime, "SumFn/dd")).toEqual({ state: 11, version: 1 });
  });
});
