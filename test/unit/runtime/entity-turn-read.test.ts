import { afterEach, describe, expect, it } from "vitest";
import type { EntityChange } from "../../../src/runtime/index.js";
import { Counter } from "../support/entities.js";
import { RuntimeHarness, readState, signal } from "../support/runtime-harness.js";

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

  // A read between two operations of one turn is answered with the state the turn commits, never a
  // middle state labelled with the turn's version (LiveStateHub takes subscribers' snapshots from reads).
  it("between operations of one tick, never answer a (version, state) that is not durable", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const changes = recordChanges();
    const [, answer] = await Promise.all([signal(runtime, "Counter/m", "add", 1), readState(runtime, "Counter/m"), signal(runtime, "Counter/m", "add", 1)]);
    expect(changes.get(1)?.state).toBe(2);
    const durableAtVersion = answer.version === 0 ? null : changes.get(answer.version)?.state;
    expect(answer.state).toBe(durableAtVersion);
  });

  // When the turn ends where it started no version is committed, and a read in its middle says so.
  it("never announce a version that no commit has", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    await signal(runtime, "Counter/v", "add", 5);
    const changes = recordChanges();
    const [, answer] = await Promise.all([signal(runtime, "Counter/v", "add", 3), readState(runtime, "Counter/v"), signal(runtime, "Counter/v", "add", -3)]);
    await signal(runtime, "Counter/v", "add", 1);
    expect(changes.get(2)?.state).toBe(6);
    expect(answer.version === 1 ? answer.state === 5 : changes.get(answer.version)?.state === answer.state).toBe(true);
  });
});
