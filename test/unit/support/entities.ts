import { defineEntity } from "../../../src/runtime/index.js";

/** A number: `add` adds its input and returns the new value. */
export const Counter = defineEntity("Counter", {
  initialState: () => 0,
  operations: {
    add: (ctx, n: number) => (ctx.state += n),
    get: (ctx) => ctx.state,
  },
});

/** A list that `append` pushes its input onto (in place). */
export const Log = defineEntity("Log", {
  initialState: (): { items: unknown[] } => ({ items: [] }),
  operations: {
    append: (ctx, item: unknown) => {
      ctx.state.items.push(item);
      return ctx.state.items.length;
    },
  },
});
