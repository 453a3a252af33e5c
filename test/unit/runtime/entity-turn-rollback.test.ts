import { afterEach, describe, expect, it } from "vitest";
import { defineEntity, type EntityOperation } from "../../../src/runtime/index.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

interface Bag {
  marks: string[];
  meta: Record<string, number>;
}

const Bag = defineEntity("Bag", {
  initialState: (): Bag => ({ marks: [], meta: {} }),
  operations: {
    mark: (ctx, tag: string) => {
      ctx.state.marks.push(tag);
      ctx.state.meta[tag] = ctx.state.marks.length;
      return ctx.state.marks.length;
    },
    markThenThrow: (ctx, tag: string) => {
      ctx.state.marks.push(tag);
      ctx.state.meta[tag] = -1;
      ctx.state.marks.splice(0, 1);
      throw new Error(`refused ${tag}`);
    },
    replaceThenThrow: (ctx) => {
      ctx.state = { marks: ["replaced"], meta: {} };
      throw new Error("refused replace");
    },
    // The types refuse operations that return promises; cast past them to test the run-time check.
    markAsync: (async (ctx, tag: string) => {
      ctx.state.marks.push(tag);
      return 1;
    }) as EntityOperation<Bag>,
    markThenReturnPromise: ((ctx, tag: string) => {
      ctx.state.marks.push(tag);
      return Promise.resolve(tag);
    }) as EntityOperation<Bag>,
    leaveFunction: (ctx, tag: string) => {
      ctx.state.marks.push(tag);
      (ctx.state.meta as Record<string, unknown>).fn = () => tag;
    },
    leaveMap: (ctx) => {
      (ctx.state as unknown as Record<string, unknown>).index = new Map();
    },
    returnFunction: (ctx, tag: string) => {
      ctx.state.marks.push(tag);
      return () => tag;
    },
    throwString: (ctx) => {
      ctx.state.marks.push("s");
      throw "plain string";
    },
  },
});

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("rollback of a failed operation", () => {
  it("keeps the changes of the operations around a failed one in the same batch", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const { runtime } = harness;
    await call(runtime, "Bag/a", "mark", "zero");
    const outcomes = await Promise.all([
      call(runtime, "Bag/a", "mark", "one"),
      call(runtime, "Bag/a", "markThenThrow", "two"),
      call(runtime, "Bag/a", "mark", "three"),
    ]);
    expect(outcomes[0]).toEqual({ kind: "result", value: 2 });
    expect(outcomes[1]).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(outcomes[1]!.kind === "error" && outcomes[1]!.message).toContain("refused two");
    expect(outcomes[2]).toEqual({ kind: "result", value: 3 });
    expect(await readState(runtime, "Bag/a")).toEqual({ state: { marks: ["zero", "one", "three"], meta: { zero: 1, one: 2, three: 3 } }, version: 2 });
  });

  it("answers a failed signal with an error outcome too", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const { runtime } = harness;
    const [ok, failed] = await Promise.all([signal(runtime, "Bag/s", "mark", "one"), signal(runtime, "Bag/s", "markThenThrow", "two")]);
    expect(ok).toEqual({ kind: "ack" });
    expect(failed).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(failed!.kind === "error" && failed!.message).toContain("refused two");
  });

  it("rolls back a replaced state and a failure on a new entity", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const { runtime } = harness;
    expect(await call(runtime, "Bag/new", "replaceThenThrow")).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(await readState(runtime, "Bag/new")).toEqual({ state: null, version: 0 });
    await call(runtime, "Bag/new", "mark", "m");
    expect(await call(runtime, "Bag/new", "replaceThenThrow")).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(await readState(runtime, "Bag/new")).toEqual({ state: { marks: ["m"], meta: { m: 1 } }, version: 1 });
  });

  it("fails an operation that returns a promise, and rolls it back", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const { runtime } = harness;
    await call(runtime, "Bag/p", "mark", "kept");
    for (const op of ["markAsync", "markThenReturnPromise"]) {
      const outcome = await call(runtime, "Bag/p", op, "dropped");
      expect(outcome).toMatchObject({ kind: "error", code: "operation_failed" });
      expect(outcome.kind === "error" && outcome.message).toContain("returned a promise");
    }
    expect(await readState(runtime, "Bag/p")).toEqual({ state: { marks: ["kept"], meta: { kept: 1 } }, version: 1 });
  });

  it("fails an operation that leaves a state JSON cannot hold, and rolls it back", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const { runtime } = harness;
    const [before, fn, map, after] = await Promise.all([
      call(runtime, "Bag/j", "mark", "one"),
      call(runtime, "Bag/j", "leaveFunction", "two"),
      call(runtime, "Bag/j", "leaveMap"),
      call(runtime, "Bag/j", "mark", "three"),
    ]);
    expect(before).toEqual({ kind: "result", value: 1 });
    expect(fn).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(fn!.kind === "error" && fn!.message).toContain("$.meta.fn is a function");
    expect(map).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(map!.kind === "error" && map!.message).toContain("$.index is a Map");
    expect(after).toEqual({ kind: "result", value: 2 });
    expect(await readState(runtime, "Bag/j")).toEqual({ state: { marks: ["one", "three"], meta: { one: 1, three: 2 } }, version: 1 });
  });

  it("fails an operation whose result JSON cannot hold, and rolls back its state change", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const { runtime } = harness;
    const outcome = await call(runtime, "Bag/r", "returnFunction", "x");
    expect(outcome).toMatchObject({ kind: "error", code: "operation_failed" });
    expect(outcome.kind === "error" && outcome.message).toContain("$ is a function");
    expect(await readState(runtime, "Bag/r")).toEqual({ state: null, version: 0 });
  });

  it("reports a thrown non-Error value in the message", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const outcome = await call(harness.runtime, "Bag/t", "throwString");
    expect(outcome).toEqual({ kind: "error", code: "operation_failed", message: "Bag/t throwString: plain string" });
  });

  it("answers an operation the type lacks with unknown_operation and changes nothing", async () => {
    harness = await RuntimeHarness.open([Bag]);
    const { runtime } = harness;
    const outcome = await call(runtime, "Bag/u", "nope");
    expect(outcome).toMatchObject({ kind: "error", code: "unknown_operation" });
    expect(await readState(runtime, "Bag/u")).toEqual({ state: null, version: 0 });
  });
});
