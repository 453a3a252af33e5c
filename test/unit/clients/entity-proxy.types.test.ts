import { describe, expectTypeOf, it } from "vitest";
import { defineEntity } from "../../../src/runtime/define-entity.js";
import { createEntityProxy } from "../../../clients/entity-proxy.js";
import type { DurableClient, EntityProxy, EntitySnapshot } from "../../../clients/index.js";

const Counter = defineEntity("Counter", {
  initialState: () => 0,
  operations: {
    add: (ctx, n: number) => (ctx.state += n),
    reset: (ctx) => {
      ctx.state = 0;
    },
    get: (ctx) => ctx.state,
    rename: (_ctx, input: { name: string; force?: boolean }) => input.name.length,
    maybe: (_ctx, delta?: number) => delta ?? 0,
  },
});

const Cart = defineEntity("Cart", {
  initialState: () => ({ items: [] as string[], total: 0 }),
  operations: {
    addItem: (ctx, item: string): void => {
      ctx.state.items.push(item);
    },
  },
});

const Dispatched = defineEntity<"Dispatched", { hits: number }>("Dispatched", (ctx) => {
  ctx.state = { hits: (ctx.state?.hits ?? 0) + 1 };
});

const unused = async (): Promise<never> => {
  throw new Error("type test: no request is sent");
};
/** Only `entity()` runs; the checks below are compile-time. */
const neverSubscribed = (): never => {
  throw new Error("type test: nothing is subscribed");
};
const client = { entity: (id: string) => createEntityProxy({ call: unused, signal: unused, get: unused, subscribe: neverSubscribed }, id) } as unknown as DurableClient;

describe("typed entity proxies", () => {
  it("maps each operation to a promise of its result, without ctx", () => {
    const counter = client.entity<typeof Counter>("Counter/alice");
    expectTypeOf(counter).toEqualTypeOf<EntityProxy<typeof Counter>>();
    expectTypeOf(counter.call.add).toEqualTypeOf<(n: number) => Promise<number>>();
    expectTypeOf(counter.call.reset).toEqualTypeOf<() => Promise<void>>();
    expectTypeOf(counter.call.get).toEqualTypeOf<() => Promise<number>>();
    expectTypeOf(counter.call.rename).toEqualTypeOf<(input: { name: string; force?: boolean }) => Promise<number>>();
    expectTypeOf(counter.call.maybe).toEqualTypeOf<(delta?: number) => Promise<number>>();
    expectTypeOf(counter.signal.add).toEqualTypeOf<(n: number) => Promise<void>>();
    expectTypeOf(counter.signal.reset).toEqualTypeOf<() => Promise<void>>();
    expectTypeOf(counter.get).returns.toEqualTypeOf<Promise<number | null>>();
  });

  it("rejects wrong inputs and unknown operations", () => {
    const counter = client.entity<typeof Counter>("Counter/alice");
    const neverRun = () => {
      // @ts-expect-error add takes a number
      void counter.call.add("five");
      // @ts-expect-error add needs its input
      void counter.signal.add();
      // @ts-expect-error Counter has no operation "subtract"
      void counter.call.subtract(1);
      // @ts-expect-error Counter has no operation "subtract"
      void counter.signal.subtract(1);
    };
    expectTypeOf(neverRun).toBeFunction();
  });

  it("takes the state type from initialState", () => {
    const cart = client.entity<typeof Cart>("Cart/bob");
    expectTypeOf(cart.get).returns.toEqualTypeOf<Promise<{ items: string[]; total: number } | null>>();
    expectTypeOf(cart.call.addItem).toEqualTypeOf<(item: string) => Promise<void>>();
  });

  it("falls back to untyped operations for dispatch definitions and no definition", () => {
    const dispatched = client.entity<typeof Dispatched>("Dispatched/x");
    expectTypeOf(dispatched.call).toEqualTypeOf<Record<string, (input?: unknown) => Promise<unknown>>>();
    expectTypeOf(dispatched.signal).toEqualTypeOf<Record<string, (input?: unknown) => Promise<void>>>();
    expectTypeOf(dispatched.get).returns.toEqualTypeOf<Promise<{ hits: number } | null>>();
    const untyped = client.entity("Counter/alice");
    expectTypeOf(untyped.call).toEqualTypeOf<Record<string, (input?: unknown) => Promise<unknown>>>();
    expectTypeOf(untyped.get).returns.toEqualTypeOf<Promise<unknown>>();
  });

  it("types the plain client methods", () => {
    expectTypeOf(client.call<number>).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(client.signal).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(client.get<{ n: number }>).returns.toEqualTypeOf<Promise<{ n: number } | null>>();
    expectTypeOf(client.getWithVersion<number>).returns.toEqualTypeOf<Promise<EntitySnapshot<number>>>();
    expectTypeOf<EntitySnapshot<number>>().toEqualTypeOf<{ readonly state: number | null; readonly version: number }>();
  });
});
