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

/** Forwards what it receives to the next hop, as a chain A -> B -> C (entity-to-entity signals). */
export const Relay = defineEntity("Relay", {
  initialState: (): string[] => [],
  operations: {
    relay: (ctx, path: string[]) => {
      ctx.state.push(path.join(">"));
      const [next, ...rest] = path;
      if (next !== undefined) ctx.signalEntity(next, "relay", rest);
    },
  },
});
