import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { defineEntity, type EntityOperation } from "../../../src/runtime/index.js";
import { createEntityProxy } from "../../../clients/entity-proxy.js";
import type { DurableClient, EntityProxy, LiveStateInfo, Subscription } from "../../../clients/index.js";

const Item = z.object({ name: z.string(), price: z.number(), quantity: z.number().default(1) });
interface CartState {
  items: Array<{ name: string; price: number; quantity: number }>;
  note: string | null;
}

const ShoppingCart = defineEntity("ShoppingCart", {
  initialState: (): CartState => ({ items: [], note: null }),
  operations: {
    addItem: {
      input: Item,
      run: (ctx, item) => {
        // run gets the schema's output (the default filled in), and so does ctx.input.
        expectTypeOf(item).toEqualTypeOf<{ name: string; price: number; quantity: number }>();
        expectTypeOf(ctx.input).toEqualTypeOf<{ name: string; price: number; quantity: number }>();
        expectTypeOf(ctx.state).toEqualTypeOf<CartState>();
        ctx.state.items.push(item);
        return ctx.state.items.length;
      },
    },
    setNote: { input: z.string().optional(), run: (ctx, note) => void (ctx.state.note = note ?? null) },
    count: (ctx) => ctx.state.items.length,
    echo: (_ctx, input: unknown) => input,
  },
});

const Leaderboard = defineEntity("Leaderboard", { initialState: () => [] as string[], operations: { get: (ctx) => ctx.state } });

const unused = async (): Promise<never> => {
  throw new Error("type test: no request is sent");
};
const neverSubscribed = (): never => {
  throw new Error("type test: nothing is subscribed");
};
/** Only `entity()` runs; the checks below are compile-time. */
const client = {
  entity: (id: string) => createEntityProxy({ call: unused, signal: unused, get: unused, subscribe: neverSubscribed }, id),
} as unknown as DurableClient;

describe("operations with an input schema, in the typed proxy", () => {
  it("take the schema's input type, and return the run's result", () => {
    const cart = client.entity<typeof ShoppingCart>("ShoppingCart/bob");
    expectTypeOf(cart.call.addItem).toEqualTypeOf<(input: { name: string; price: number; quantity?: number | undefined }) => Promise<number>>();
    expectTypeOf(cart.signal.addItem).toEqualTypeOf<(input: { name: string; price: number; quantity?: number | undefined }) => Promise<void>>();
    expectTypeOf(cart.call.setNote).toEqualTypeOf<(input?: string | undefined) => Promise<undefined>>();
    expectTypeOf(cart.call.count).toEqualTypeOf<() => Promise<number>>();
    expectTypeOf(cart.call.echo).toEqualTypeOf<(input: unknown) => Promise<unknown>>();
    const neverRun = () => {
      // @ts-expect-error addItem takes an item, not a string
      void cart.call.addItem("not an object");
      // @ts-expect-error price is a number
      void cart.signal.addItem({ name: "tea", price: "3" });
      // @ts-expect-error addItem needs its input
      void cart.call.addItem();
    };
    expectTypeOf(neverRun).toBeFunction();
  });
});

describe("entity ids checked against the definition", () => {
  it("accept ids of the definition's type and refuse others", () => {
    const user = "bob" as string;
    expectTypeOf(client.entity<typeof ShoppingCart>(`ShoppingCart/${user}`)).toEqualTypeOf<EntityProxy<typeof ShoppingCart>>();
    expectTypeOf(client.entity<typeof Leaderboard>("Leaderboard/global").call.get).toEqualTypeOf<() => Promise<string[]>>();
    expectTypeOf(client.entity("Anything/at-all")).toEqualTypeOf<EntityProxy<unknown>>();
    const neverRun = () => {
      // @ts-expect-error a Leaderboard id is not a ShoppingCart id
      client.entity<typeof ShoppingCart>("Leaderboard/global");
      // @ts-expect-error a bare name is not an id of the type
      client.entity<typeof ShoppingCart>("ShoppingCart");
      // @ts-expect-error a prefix of the name is not the name
      client.entity<typeof ShoppingCart>("Shopping/cart");
      // @ts-expect-error any string may name another type
      client.entity<typeof ShoppingCart>(user);
    };
    expectTypeOf(neverRun).toBeFunction();
  });
});

describe("a typed subscribe on the proxy", () => {
  it("gives the listener the definition's state type and returns a typed subscription", () => {
    const cart = client.entity<typeof ShoppingCart>("ShoppingCart/bob");
    expectTypeOf(cart.subscribe).parameter(0).toEqualTypeOf<(state: CartState | null, info: LiveStateInfo) => void>();
    expectTypeOf(cart.subscribe).returns.toEqualTypeOf<Subscription<CartState>>();
    const neverRun = () => {
      const live = cart.subscribe((state) => {
        expectTypeOf(state).toEqualTypeOf<CartState | null>();
      });
      expectTypeOf(live.state).toEqualTypeOf<CartState | null | undefined>();
      // @ts-expect-error the state is a CartState, not a number
      cart.subscribe((state: number | null) => void state);
    };
    expectTypeOf(neverRun).toBeFunction();
  });
});

describe("async operations are refused by the types", () => {
  // With two overloads (operations, dispatch function), TypeScript reports a refused operation at the
  // call: "No overload matches this call … 'entity operations must be synchronous …' is missing".
  it("refuses async plain operations, async runs, and operations returning promises", () => {
    // @ts-expect-error entity operations must be synchronous
    defineEntity("AsyncPlain", { initialState: () => 0, operations: { add: async (ctx, n: number) => (ctx.state += n) } });
    // @ts-expect-error entity operations must be synchronous
    defineEntity("AsyncRun", { initialState: () => 0, operations: { add: { input: z.number(), run: async (ctx, n) => (ctx.state += n) } } });
    // @ts-expect-error entity operations must be synchronous
    defineEntity("ReturnsPromise", { initialState: () => 0, operations: { load: (ctx) => fetch(`https://example.com/${ctx.entityKey}`) } });
    // @ts-expect-error a result that may be a promise is refused too
    defineEntity("MaybePromise", { initialState: () => 0, operations: { maybe: (_ctx, n: number) => (n > 0 ? Promise.resolve(n) : n) } });
    // @ts-expect-error a dispatch function must be synchronous too
    defineEntity<"AsyncFn", number>("AsyncFn", async (ctx) => ctx.state);
  });

  it("keeps synchronous operations of any result type, and the escape hatch of a cast", () => {
    const Fine = defineEntity("Fine", {
      initialState: () => ({ n: 0 }),
      operations: {
        nothing: () => {},
        state: (ctx) => ctx.state,
        unknown: (_ctx, input: unknown) => input,
        anything: (_ctx, input: any) => input,
        // Cast past the check (the runtime still fails an operation that returns a promise).
        forced: (async () => 1) as EntityOperation<{ n: number }>,
      },
    });
    expectTypeOf(Fine.operations.state).returns.toEqualTypeOf<{ n: number }>();
    const Fn = defineEntity<"Fn", number>("Fn", (ctx) => ctx.state);
    expectTypeOf(Fn.name).toEqualTypeOf<"Fn">();
  });
});
