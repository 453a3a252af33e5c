import { afterEach, describe, expect, it } from "vitest";
import type { EntityChange } from "../../../src/runtime/index.js";
import { Counter, Log } from "../support/entities.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("runtime.onChange", () => {
  it("reports one change per turn with contiguous versions, previous and new state", async () => {
    harness = await RuntimeHarness.open([Log]);
    const { runtime } = harness;
    const batches: EntityChange[][] = [];
    runtime.onChange((changes) => batches.push([...changes]));
    for (let turn = 0; turn < 5; turn++) {
      await Promise.all([signal(runtime, "Log/c", "append", `${turn}a`), signal(runtime, "Log/c", "append", `${turn}b`)]);
    }
    const items = (turns: number) => Array.from({ length: turns }, (_, t) => [`${t}a`, `${t}b`]).flat();
    expect(batches).toEqual(
      Array.from({ length: 5 }, (_, t) => [{ entityId: "Log/c", version: t + 1, state: { items: items(t + 1) }, previousState: t === 0 ? null : { items: items(t) } }]),
    );
  });

  it("reports every entity changed in one commit together, and nothing for turns that change nothing", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const batches: EntityChange[][] = [];
    runtime.onChange((changes) => batches.push([...changes]));
    await Promise.all([signal(runtime, "Counter/a", "add", 1), signal(runtime, "Counter/b", "add", 2), signal(runtime, "Counter/a", "add", 3)]);
    await Promise.all([readState(runtime, "Counter/a"), call(runtime, "Counter/b", "get"), call(runtime, "Counter/a", "nope"), signal(runtime, "Counter/b", "add", 0)]);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(2);
    expect(batches[0]).toContainEqual({ entityId: "Counter/a", version: 1, state: 4, previousState: null });
    expect(batches[0]).toContainEqual({ entityId: "Counter/b", version: 1, state: 2, previousState: null });
  });

  it("fires after the commit is on disk, and after that commit's outcomes are delivered", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime, store } = harness;
    const events: string[] = [];
    const onDisk: unknown[] = [];
    runtime.onChange((changes) => {
      for (const change of changes) {
        events.push(`change ${change.entityId} v${change.version}`);
        onDisk.push(store.readEntity(change.entityId));
      }
    });
    for (let i = 1; i <= 3; i++) {
      await new Promise<void>((resolve) => {
        const replyTo = {
          deliver: (id: number) => {
            events.push(`deliver ${id}`);
            resolve();
          },
        };
        runtime.submit({ kind: "signal", entityId: "Counter/g", op: "add", input: i, requestId: i, replyTo });
      });
    }
    expect(events).toEqual(["deliver 1", "change Counter/g v1", "deliver 2", "change Counter/g v2", "deliver 3", "change Counter/g v3"]);
    expect(onDisk).toEqual([
      { version: 1, modifiedAt: expect.any(Number), state: 1 },
      { version: 2, modifiedAt: expect.any(Number), state: 3 },
      { version: 3, modifiedAt: expect.any(Number), state: 6 },
    ]);
  });

  it("keeps running when a listener throws, and stops calling an unsubscribed listener", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const seen: number[] = [];
    runtime.onChange(() => {
      throw new Error("listener bug");
    });
    const stop = runtime.onChange((changes) => seen.push(...changes.map((c) => c.version)));
    expect(await call(runtime, "Counter/l", "add", 1)).toEqual({ kind: "result", value: 1 });
    expect(await call(runtime, "Counter/l", "add", 1)).toEqual({ kind: "result", value: 2 });
    stop();
    expect(await call(runtime, "Counter/l", "add", 1)).toEqual({ kind: "result", value: 3 });
    expect(seen).toEqual([1, 2]);
  });
});
