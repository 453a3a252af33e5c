import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineEntity } from "../../../src/runtime/index.js";
import { describeIssues } from "../../../src/runtime/input-schema.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

const Item = z.object({ name: z.string().min(1), price: z.number().nonnegative(), quantity: z.number().int().positive().default(1) });

const Cart = defineEntity("Cart", {
  initialState: () => ({ items: [] as Array<z.output<typeof Item>>, seen: [] as unknown[] }),
  operations: {
    addItem: {
      input: Item,
      run: (ctx, item) => {
        ctx.state.items.push(item);
        ctx.state.seen.push(ctx.input);
        return ctx.state.items.length;
      },
    },
    setNote: { input: z.string().max(5).optional(), run: (ctx, note) => void ctx.state.seen.push(note ?? "none") },
    slowCheck: { input: z.string().refine(async () => true), run: (ctx) => void ctx.state.seen.push("ran") },
    plain: (ctx, anything: unknown) => void ctx.state.seen.push(anything),
  },
});

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("operations with an input schema", () => {
  it("run with the schema's output (defaults applied), in run's input and in ctx.input", async () => {
    harness = await RuntimeHarness.open([Cart]);
    const { runtime } = harness;
    expect(await call(runtime, "Cart/a", "addItem", { name: "tea", price: 3, extra: "dropped" })).toEqual({ kind: "result", value: 1 });
    const item = { name: "tea", price: 3, quantity: 1 };
    expect(await readState(runtime, "Cart/a")).toEqual({ state: { items: [item], seen: [item] }, version: 1 });
  });

  it("refuse an input the schema rejects with bad_request and zod's message, and apply nothing", async () => {
    harness = await RuntimeHarness.open([Cart]);
    const { runtime } = harness;
    const bad = await call(runtime, "Cart/b", "addItem", "not an object");
    expect(bad).toMatchObject({ kind: "error", code: "bad_request" });
    expect(bad.kind === "error" && bad.message).toMatch(/^Cart\/b addItem: input rejected by the schema: .*expected object, received string/);
    const fields = await call(runtime, "Cart/b", "addItem", { name: "", price: -1 });
    expect(fields.kind === "error" && fields.message).toMatch(/name: .*>=1 characters.*; price: .*>=0/);
    expect(await signal(runtime, "Cart/b", "setNote", "far too long")).toMatchObject({ kind: "error", code: "bad_request" });
    expect(await readState(runtime, "Cart/b")).toEqual({ state: null, version: 0 });

    // In a batch, the refused operation changes nothing and its neighbours keep their changes.
    const [first, refused, last] = await Promise.all([
      call(runtime, "Cart/c", "addItem", { name: "a", price: 1 }),
      call(runtime, "Cart/c", "addItem", { name: "b", price: "free" }),
      call(runtime, "Cart/c", "setNote", undefined),
    ]);
    expect(first).toEqual({ kind: "result", value: 1 });
    expect(refused).toMatchObject({ kind: "error", code: "bad_request", message: expect.stringContaining("price: Invalid input: expected number, received string") });
    expect(last).toEqual({ kind: "result", value: undefined });
    expect((await readState(runtime, "Cart/c")).state).toEqual({ items: [{ name: "a", price: 1, quantity: 1 }], seen: [{ name: "a", price: 1, quantity: 1 }, "none"] });
  });

  it("answers a resent signal that was refused with the same error, without checking or running it again", async () => {
    harness = await RuntimeHarness.open([Cart]);
    const { runtime } = harness;
    const sender = { clientId: "c1", seq: 1 };
    const first = await signal(runtime, "Cart/r", "addItem", { name: 7 }, sender);
    expect(first).toMatchObject({ kind: "error", code: "bad_request" });
    expect(await signal(runtime, "Cart/r", "addItem", { name: "now valid", price: 1 }, sender)).toEqual(first);
    expect(await readState(runtime, "Cart/r")).toEqual({ state: null, version: 0 });
  });

  it("fail with operation_failed when the schema is asynchronous (inputs are checked synchronously)", async () => {
    harness = await RuntimeHarness.open([Cart]);
    const outcome = await call(harness.runtime, "Cart/s", "slowCheck", "x");
    expect(outcome).toMatchObject({ kind: "error", code: "operation_failed", message: expect.stringContaining("input schema is asynchronous") });
    expect(await readState(harness.runtime, "Cart/s")).toEqual({ state: null, version: 0 });
  });

  it("leave plain operations unchecked", async () => {
    harness = await RuntimeHarness.open([Cart]);
    expect(await call(harness.runtime, "Cart/p", "plain", { any: ["thing"] })).toEqual({ kind: "result", value: undefined });
  });
});

describe("defineEntity with input schemas", () => {
  it("refuses an operation that is neither a function nor { input: schema, run }", () => {
    const bad = [{ input: z.string() }, { input: { parse: () => 1 }, run: () => 1 }, { run: () => 1 }, null, 5];
    for (const spec of bad) {
      expect(() => defineEntity("X", { initialState: () => 0, operations: { op: spec } } as never)).toThrow(/operation "op" of entity "X" is not a function .*nor \{ input: schema, run/);
    }
  });
});

describe("describeIssues", () => {
  it("puts each issue's path before its message, and lists at most five", () => {
    expect(describeIssues([{ message: "bad", path: ["items", 0, { key: "price" }, "odd key"] }])).toBe('input rejected by the schema: items[0].price["odd key"]: bad');
    expect(describeIssues([{ message: "top" }])).toBe("input rejected by the schema: top");
    const many = Array.from({ length: 7 }, (_, i) => ({ message: `m${i}`, path: [`f${i}`] }));
    expect(describeIssues(many)).toBe("input rejected by the schema: f0: m0; f1: m1; f2: m2; f3: m3; f4: m4; and 2 more");
    expect(describeIssues([{ message: "x".repeat(500) }]).length).toBeLessThan(250);
  });
});
