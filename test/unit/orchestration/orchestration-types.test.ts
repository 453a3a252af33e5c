import { describe, expectTypeOf, it } from "vitest";
import {
  defineActivity,
  defineOrchestration,
  Task,
  type InputOf,
  type OrchestrationContext,
  type OutputOf,
  type TimerTask,
} from "../../../src/orchestration/index.js";

const SayHello = defineActivity("SayHello", async (city: string) => `Hello ${city}!`);
const Add = defineActivity("Add", (pair: { a: number; b: number }) => pair.a + pair.b);
const Child = defineOrchestration("Child", function* (ctx, n: number) {
  const s: string = yield ctx.callActivity("SayHello", String(n));
  return { greeting: s, n };
});

describe("typed calls", () => {
  it("InputOf and OutputOf read a definition's types (an async activity's output is awaited)", () => {
    expectTypeOf<InputOf<typeof SayHello>>().toEqualTypeOf<string>();
    expectTypeOf<OutputOf<typeof SayHello>>().toEqualTypeOf<string>();
    expectTypeOf<OutputOf<typeof Add>>().toEqualTypeOf<number>();
    expectTypeOf<InputOf<typeof Child>>().toEqualTypeOf<number>();
    expectTypeOf<OutputOf<typeof Child>>().toEqualTypeOf<{ greeting: string; n: number }>();
  });

  it("yield* ctx.call(...) is typed by the definition, and a wrong input is a type error", () => {
    defineOrchestration("Typed", function* (ctx) {
      const s = yield* ctx.call(SayHello, "x");
      expectTypeOf(s).toEqualTypeOf<string>();
      const n = yield* ctx.call(Add, { a: 1, b: 2 });
      expectTypeOf(n).toEqualTypeOf<number>();
      const child = yield* ctx.call(Child, 1, { instanceId: "c", retry: { firstRetryIntervalInMilliseconds: 1, maxNumberOfAttempts: 2 } });
      expectTypeOf(child).toEqualTypeOf<{ greeting: string; n: number }>();
      // @ts-expect-error SayHello takes a string
      yield* ctx.call(SayHello, 42);
      // @ts-expect-error Add takes { a, b }
      yield* ctx.call(Add, { a: 1 });
      // @ts-expect-error not a definition
      yield* ctx.call("SayHello", "x");
      return s;
    });
  });

  it("untyped calls give what the caller says, any by default", () => {
    defineOrchestration("Untyped", function* (ctx) {
      expectTypeOf(ctx.callActivity<number>("A")).toEqualTypeOf<Task<number>>();
      const n = yield* ctx.callActivity<number>("A");
      expectTypeOf(n).toEqualTypeOf<number>();
      const e = yield* ctx.waitForExternalEvent<{ ok: boolean }>("Approved");
      expectTypeOf(e).toEqualTypeOf<{ ok: boolean }>();
      expectTypeOf(ctx.createTimer(0)).toEqualTypeOf<TimerTask>();
      const t = yield* ctx.createTimer(new Date(0));
      expectTypeOf(t).toEqualTypeOf<void>();
    });
  });
});

describe("Task.all and Task.any", () => {
  it("Task.all keeps each element's type; Task.any gives the winning task", () => {
    defineOrchestration("Combinators", function* (ctx) {
      const a = ctx.callActivity<string>("A");
      const b = ctx.call(Add, { a: 1, b: 2 });
      const timer = ctx.createTimer(0);
      const pair = yield* Task.all([a, b]);
      expectTypeOf(pair).toEqualTypeOf<[string, number]>();
      const many = yield* ctx.Task.all([a, a, a].map((task) => task));
      expectTypeOf(many).toEqualTypeOf<string[]>();
      const winner = yield* Task.any([a, timer]);
      expectTypeOf(winner).toEqualTypeOf<Task<string> | TimerTask>();
      if (winner === timer) return "late";
      return winner.result;
    });
  });

  it("the context's input is typed by the orchestrator's parameter", () => {
    defineOrchestration("Input", function* (ctx: OrchestrationContext<{ id: string }>, input: { id: string }) {
      expectTypeOf(ctx.input).toEqualTypeOf<{ id: string }>();
      expectTypeOf(input).toEqualTypeOf<{ id: string }>();
    });
  });
});
