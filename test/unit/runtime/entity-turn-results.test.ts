import { afterEach, describe, expect, it } from "vitest";
import { defineEntity, type EntityChange, type Outcome } from "../../../src/runtime/index.js";
import { RuntimeHarness, call, read } from "../support/runtime-harness.js";

interface Doc {
  items: Record<string, number>;
  log: string[];
}

const Doc = defineEntity("Doc", {
  initialState: (): Doc => ({ items: {}, log: [] }),
  operations: {
    get: (ctx) => ctx.state,
    set: (ctx, [key, value]: [string, number]) => {
      ctx.state.items[key] = value; // in place, on the operation's copy
      ctx.state.log.push(key);
      return ctx.state;
    },
    setThenThrow: (ctx, key: string) => {
      ctx.state.items[key] = -1;
      ctx.state.log.push(key);
      throw new Error(`refused ${key}`);
    },
    items: (ctx) => ctx.state.items,
  },
});

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

function valueOf(outcome: Outcome): unknown {
  if (outcome.kind !== "result") throw new Error(`expected a result, got ${JSON.stringify(outcome)}`);
  return outcome.value;
}

describe("call results that are the entity's state", () => {
  it("are the state's checked copy, not another copy of it", async () => {
    harness = await RuntimeHarness.open([Doc]);
    const { runtime } = harness;
    const changes: EntityChange[] = [];
    runtime.onChange((batch) => changes.push(...batch));
    const outcome = await call(runtime, "Doc/a", "set", ["x", 1]);
    expect(valueOf(outcome)).toEqual({ items: { x: 1 }, log: ["x"] });
    expect(changes).toHaveLength(1);
    expect(valueOf(outcome)).toBe(changes[0]!.state); // one copy of the state serves both
    const got = await call(runtime, "Doc/a", "get");
    const state = await read(runtime, "Doc/a");
    expect(valueOf(got)).toBe(state.kind === "state" && state.state); // nothing changed: the same object
  });

  it("never show a later operation's change, in the same batch or after", async () => {
    harness = await RuntimeHarness.open([Doc]);
    const { runtime } = harness;
    await call(runtime, "Doc/b", "set", ["a", 1]);
    // One batch: each operation works on its own copy of the state the one before left.
    const [first, second, failed, third, afterFailure, items] = await Promise.all([
      call(runtime, "Doc/b", "get"),
      call(runtime, "Doc/b", "set", ["b", 2]),
      call(runtime, "Doc/b", "setThenThrow", "c"),
      call(runtime, "Doc/b", "set", ["d", 4]),
      call(runtime, "Doc/b", "get"),
      call(runtime, "Doc/b", "items"),
    ]);
    expect(valueOf(first)).toEqual({ items: { a: 1 }, log: ["a"] });
    expect(valueOf(second)).toEqual({ items: { a: 1, b: 2 }, log: ["a", "b"] });
    expect(failed).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(valueOf(third)).toEqual({ items: { a: 1, b: 2, d: 4 }, log: ["a", "b", "d"] });
    expect(valueOf(afterFailure)).toEqual({ items: { a: 1, b: 2, d: 4 }, log: ["a", "b", "d"] });
    expect(valueOf(items)).toEqual({ a: 1, b: 2, d: 4 });
    // Later batches change the state in place on their copies: earlier answers stay as they were.
    await call(runtime, "Doc/b", "set", ["e", 5]);
    await call(runtime, "Doc/b", "set", ["a", 100]);
    expect(valueOf(first)).toEqual({ items: { a: 1 }, log: ["a"] });
    expect(valueOf(third)).toEqual({ items: { a: 1, b: 2, d: 4 }, log: ["a", "b", "d"] });
    expect(valueOf(items)).toEqual({ a: 1, b: 2, d: 4 });
    expect(valueOf(await call(runtime, "Doc/b", "get"))).toEqual({ items: { a: 100, b: 2, d: 4, e: 5 }, log: ["a", "b", "d", "e", "a"] });
  });

  it("are still checked: a state JSON cannot carry fails the call and rolls back", async () => {
    const Bad = defineEntity("Bad", {
      initialState: () => ({ n: 0 }),
      operations: {
        breakAndReturn: (ctx) => {
          (ctx.state as Record<string, unknown>).when = () => 1;
          return ctx.state;
        },
        get: (ctx) => ctx.state,
      },
    });
    harness = await RuntimeHarness.open([Bad]);
    const { runtime } = harness;
    const outcome = await call(runtime, "Bad/x", "breakAndReturn");
    expect(outcome).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(outcome.kind === "error" && outcome.message).toContain("$.when is a function");
    expect(valueOf(await call(runtime, "Bad/x", "get"))).toEqual({ n: 0 });
  });
});
