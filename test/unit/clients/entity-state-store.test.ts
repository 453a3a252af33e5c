import { describe, expect, expectTypeOf, it } from "vitest";
import { EntityError, ErrorCode } from "../../../protocol/entity-error.js";
import { createEntityStateStore, type LiveStateSource } from "../../../clients/entity-state-store.js";
import type { DurableClient } from "../../../clients/index.js";
import type { LiveStateListener } from "../../../clients/subscription.js";

function source() {
  const listeners: LiveStateListener<unknown>[] = [];
  let closed = 0;
  let refuse: (error: EntityError) => void = () => {};
  const client: LiveStateSource = {
    subscribe<S>(_entityId: string, listener: LiveStateListener<S>) {
      listeners.push(listener as LiveStateListener<unknown>);
      const ready = new Promise((_resolve, reject) => (refuse = reject));
      return { ready, close: async () => void closed++ };
    },
  };
  return { client, listeners, closedCount: () => closed, refuse: (error: EntityError) => refuse(error) };
}

describe("createEntityStateStore", () => {
  it("accepts a DurableClient", () => {
    expectTypeOf<DurableClient>().toExtend<LiveStateSource>();
  });

  it("starts not ready, then hands out a new view per change, and closes on unsubscribe", () => {
    const { client, listeners, closedCount } = source();
    const store = createEntityStateStore<{ n: number }>(client, "Stats/demo");
    const initial = store.getSnapshot();
    expect(initial).toEqual({ state: undefined, version: 0, ready: false });
    let changes = 0;
    const unsubscribe = store.subscribe(() => changes++);
    expect(store.getSnapshot()).toBe(initial);
    listeners[0]?.({ n: 1 }, { version: 1, entity: "Stats/demo", kind: "snapshot" });
    const first = store.getSnapshot();
    expect(first).toEqual({ state: { n: 1 }, version: 1, ready: true });
    expect(store.getSnapshot()).toBe(first);
    listeners[0]?.({ n: 2 }, { version: 2, entity: "Stats/demo", kind: "patch" });
    expect(store.getSnapshot()).toEqual({ state: { n: 2 }, version: 2, ready: true });
    expect(changes).toBe(2);
    unsubscribe();
    expect(closedCount()).toBe(1);
  });

  it("shows the error when the subscription is refused", async () => {
    const { client, refuse } = source();
    const store = createEntityStateStore(client, "Nope/x");
    let changes = 0;
    store.subscribe(() => changes++);
    refuse(new EntityError(ErrorCode.unknown_entity, "no entity type Nope"));
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(store.getSnapshot().error?.code).toBe(ErrorCode.unknown_entity);
    expect(changes).toBe(1);
  });
});
