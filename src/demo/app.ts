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

/** An aggregator: records numbers and keeps count, sum, min, max and mean. */
export const Stats = defineEntity("Stats", {
  initialState: (): StatsState => ({ count: 0, sum: 0, min: null, max: null, mean: null }),
  operations: {
    record: (ctx, value: number) => {
      if (typeof value !== "number" || !Number.isFinite(value)) throw new TypeError("record takes a number");
      const s = ctx.state;
      s.count += 1;
      s.sum += value;
      s.min = s.min === null ? value : Math.min(s.min, value);
      s.max = s.max === null ? value : Math.max(s.max, value);
      s.mean = s.sum / s.count;
      return s;
    },
    reset: (ctx) => {
      ctx.deleteState();
    },
    get: (ctx) => ctx.state,
  },
});
export * from "./orchestrations/index.js";
