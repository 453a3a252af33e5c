import { afterEach, describe, expect, it } from "vitest";
import type { EntityChange } from "../../../src/runtime/index.js";
import { Counter } from "../support/entities.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

/** Collects every durable change, by entity and version. */
function recordChanges(): Map<number, EntityChange> {
  const byVersion = new Map<number, EntityChange>();
  harness.runtime.onChange((changes) => {
    for (const change of changes) byVersion.set(change.version, change);
  });
  return byVersion;
}

describe("read requests", () => {
  it("answer the durable state and version of an entity", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    expect(await readState(runtime, "Counter/r")).toEqual({ state: null, version: 0 });
    await signal(runtime, "Counter/r", "add", 4);
    expect(await readState(runtime, "Counter/r")).toEqual({ state: 4, version: 1 });
  });

  it("after operations in the same tick, answer the state and version their commit gets", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const changes = recordChanges();
    const [, , answer] = await Promise.all([signal(runtime, "Counter/t", "add", 1), signal(runtime, "Counter/t", "add", 2), readState(runtime, "Counter/t")]);
    expect(answer).toEqual({ state: 3, version: 1 });
    expect(changes.get(1)?.state).toBe(3);
  });

  // A read sees exactly the operations before it in the mailbox, never later ones: the state they
  // left becomes a version of its own, committed and published like any other.
  it("between operations of one tick, answer the state the operations before it left, as a durable version", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const changes = recordChanges();
    const [, answer] = await Promise.all([signal(runtime, "Counter/m", "add", 1), readState(runtime, "Counter/m"), signal(runtime, "Counter/m", "add", 1)]);
    expect(answer).toEqual({ state: 1, version: 1 });
    expect(changes.get(1)?.state).toBe(1);
    expect(changes.get(2)).toMatchObject({ state: 2, previousState: 1 });
  });

  it("before any operation of its tick, do not see the operations after it", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const [first] = await Promise.all([readState(runtime, "Counter/new"), signal(runtime, "Counter/new", "add", 5)]);
    expect(first).toEqual({ state: null, version: 0 });
    const [called, read] = await Promise.all([call(runtime, "Counter/new", "get"), readState(runtime, "Counter/new"), signal(runtime, "Counter/new", "add", 100)]);
    expect(called).toEqual({ kind: "result", value: 5 });
    expect(read).toEqual({ state: 5, version: 1 });
    expect(await readState(runtime, "Counter/new")).toEqual({ state: 105, version: 2 });
  });

  // When operations end where the last version was, no version is made, and a read says the old one.
  it("never announce a version that no commit has", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    await signal(runtime, "Counter/v", "add", 5);
    const changes = recordChanges();
    const [, before, , after] = await Promise.all([
      signal(runtime, "Counter/v", "add", 3),
      readState(runtime, "Counter/v"),
      signal(runtime, "Counter/v", "add", -3),
      readState(runtime, "Counter/v"),
      readState(runtime, "Counter/v"),
    ]);
    expect(before).toEqual({ state: 8, version: 2 });
    expect(after).toEqual({ state: 5, version: 3 });
    expect([...changes.values()].map((change) => [change.version, change.state])).toEqual([[2, 8], [3, 5]]);
    const [again] = await Promise.all([readState(runtime, "Counter/v"), signal(runtime, "Counter/v", "add", 0)]);
    expect(again).toEqual({ state: 5, version: 3 });
    expect(await readState(runtime, "Counter/v")).toEqual({ state: 5, version: 3 }); // add 0 changed nothing: no version
  });
});
