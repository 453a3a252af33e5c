import { z } from "zod";
import { defineEntity } from "../runtime/index.js";

/** A counter, with named operations. */
export const Counter = defineEntity("Counter", {
  initialState: () => 0,
  operations: {
    add: (ctx, amount: number) => {
      if (typeof amount !== "number" || !Number.isFinite(amount)) throw new TypeError("add takes a number");
      ctx.state += amount;
      return ctx.state;
    },
    reset: (ctx) => {
      ctx.state = 0;
    },
    get: (ctx) => ctx.state,
    delete: (ctx) => ctx.deleteState(),
  },
});

/** The same counter as one dispatch function, the way Durable Functions writes entities. */
export const CounterFn = defineEntity<"CounterFn", number>("CounterFn", (ctx) => {
  const state = ctx.getState(() => 0);
  switch (ctx.operationName) {
    case "add": {
      const amount = ctx.getInput<number>();
      if (typeof amount !== "number" || !Number.isFinite(amount)) throw new TypeError("add takes a number");
      ctx.setState(state + amount);
      return state + amount;
    }
    case "reset":
      ctx.setState(0);
      return undefined;
    case "get":
      return state;
    case "delete":
      ctx.deleteState();
      return undefined;
    default:
      throw new Error(`CounterFn has no operation "${ctx.operationName}" (it has: add, reset, get, delete)`);
  }
});

export interface StatsState {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  mean: number | null;
}

/** An aggregator: records numbers and keeps count, sum, min, max and mean. `record`'s input is checked by a schema. */
export const Stats = defineEntity("Stats", {
  initialState: (): StatsState => ({ count: 0, sum: 0, min: null, max: null, mean: null }),
  operations: {
    record: {
      input: z.number(),
      run: (ctx, value) => {
        const s = ctx.state;
        s.count += 1;
        s.sum += value;
        s.min = s.min === null ? value : Math.min(s.min, value);
        s.max = s.max === null ? value : Math.max(s.max, value);
        s.mean = s.sum / s.count;
        return s;
      },
    },
    reset: (ctx) => {
      ctx.deleteState();
    },
    get: (ctx) => ctx.state,
  },
});

/** What `ShoppingCart.addItem` takes: checked on the server before the operation runs. */
export const CartItem = z.object({
  name: z.string().min(1).max(200),
  price: z.number().nonnegative(),
  quantity: z.number().int().positive().default(1),
});
export type CartItem = z.output<typeof CartItem>;

export interface CartState {
  items: CartItem[];
  total: number;
}

/** A shopping cart whose inputs are validated: `addItem` refuses anything that is not a CartItem, with `bad_request`. */
export const ShoppingCart = defineEntity("ShoppingCart", {
  initialState: (): CartState => ({ items: [], total: 0 }),
  operations: {
    addItem: {
      input: CartItem,
      run: (ctx, item) => {
        const line = ctx.state.items.find((existing) => existing.name === item.name && existing.price === item.price);
        if (line) line.quantity += item.quantity;
        else ctx.state.items.push(item);
        return (ctx.state.total = cartTotal(ctx.state.items));
      },
    },
    removeItem: {
      input: z.string().min(1),
      run: (ctx, name) => {
        ctx.state.items = ctx.state.items.filter((line) => line.name !== name);
        return (ctx.state.total = cartTotal(ctx.state.items));
      },
    },
    clear: (ctx) => ctx.deleteState(),
    get: (ctx) => ctx.state,
  },
});

/** The sum of price × quantity, to the cent. */
function cartTotal(items: readonly CartItem[]): number {
  return Math.round(items.reduce((sum, line) => sum + line.price * line.quantity, 0) * 100) / 100;
}
export * from "./orchestrations/index.js";
