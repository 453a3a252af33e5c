import { afterEach, describe, expect, it } from "vitest";
import { Counter, Log } from "../support/entities.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("entity cache eviction", () => {
  it("keeps at most maxCachedEntities idle entities in memory, and reloads evicted ones from disk", async () => {
    harness = await RuntimeHarness.open([Counter], { maxCachedEntities: 10 });
    const { runtime } = harness;
    const acks = Array.from({ length: 100 }, (_, i) => signal(runtime, `Counter/${i}`, "add", i + 1));
    expect(await Promise.all(acks)).toEqual(Array(100).fill({ kind: "ack" }));
    expect(runtime.cachedEntities).toBeLessThanOrEqual(10);
    for (let i = 0; i < 100; i++) expect(await readState(runtime, `Counter/${i}`)).toEqual({ state: i + 1, version: 1 });
    expect(runtime.cachedEntities).toBeLessThanOrEqual(10);
    const more = await Promise.all(Array.from({ length: 100 }, (_, i) => call(runtime, `Counter/${i}`, "add", 1000)));
    expect(more).toEqual(Array.from({ length: 100 }, (_, i) => ({ kind: "result", value: i + 1001 })));
    expect(runtime.cachedEntities).toBeLessThanOrEqual(10);
    for (let i = 0; i < 100; i += 9) expect(await readState(runtime, `Counter/${i}`)).toEqual({ state: i + 1001, version: 2 });
  });

  it("touches entities across many ticks without growing past the limit", async () => {
    harness = await RuntimeHarness.open([Log], { maxCachedEntities: 10 });
    const { runtime } = harness;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 100; i++) {
        await signal(runtime, `Log/${i}`, "append", round);
        expect(runtime.cachedEntities).toBeLessThanOrEqual(10);
      }
    }
    for (let i = 0; i < 100; i++) expect(await readState(runtime, `Log/${i}`)).toEqual({ state: { items: [0, 1, 2] }, version: 3 });
  });

  it("keeps the de-dup window of an evicted entity", async () => {
    harness = await RuntimeHarness.open([Counter], { maxCachedEntities: 2 });
    const { runtime } = harness;
    await signal(runtime, "Counter/dedup", "add", 5, { clientId: "c", seq: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => signal(runtime, `Counter/other-${i}`, "add", 1)));
    expect(runtime.cachedEntities).toBeLessThanOrEqual(2);
    expect(await signal(runtime, "Counter/dedup", "add", 5, { clientId: "c", seq: 1 })).toEqual({ kind: "ack" });
    expect(await readState(runtime, "Counter/dedup")).toEqual({ state: 5, version: 1 });
  });
});
