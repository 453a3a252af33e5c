import { open } from "lmdb";
import { afterEach, describe, expect, it } from "vitest";
import { defineEntity } from "../../../src/runtime/index.js";
import { partitionOf } from "../../../src/storage/index.js";
import { RuntimeHarness, call, read, signal } from "../support/runtime-harness.js";

const Counter = defineEntity("Counter", {
  initialState: () => 0,
  operations: {
    add: (ctx, amount: number) => {
      ctx.state += amount;
      return ctx.state;
    },
  },
});

/** Writes `value` as an entity's record, behind the store's back (a damaged disk, a foreign tool). */
async function writeRawRecord(dir: string, entityId: string, value: string, partitions: number): Promise<void> {
  const root = open({ path: dir, encoding: "string", noSubdir: false });
  const db = root.openDB<string, Array<string | number>>({ name: "partitions", encoding: "string" });
  await db.put([partitionOf(entityId, partitions), "e", entityId], value);
  await root.flushed;
  await root.close();
}

describe("an entity whose stored record cannot be read", () => {
  let harness: RuntimeHarness | undefined;
  afterEach(async () => {
    await harness?.dispose();
    harness = undefined;
  });

  it.each([
    ["not JSON", "{broken"],
    ["JSON that is not a record", '"just text"'],
    ["a record with a bad version", '{"version":-1,"state":3}'],
  ])("is quarantined (%s): its requests get entity_unavailable, the others keep serving", async (_what, value) => {
    harness = await RuntimeHarness.open([Counter]);
    harness.runtime.start();
    expect(await call(harness.runtime, "Counter/good", "add", 1)).toEqual({ kind: "result", value: 1 });
    await harness.closeRuntimeAndStore();
    await writeRawRecord(harness.dir, "Counter/damaged", value, 16);
    await harness.restart();

    for (const outcome of [await call(harness.runtime, "Counter/damaged", "add", 1), await signal(harness.runtime, "Counter/damaged", "add", 1), await read(harness.runtime, "Counter/damaged")]) {
      expect(outcome).toMatchObject({ kind: "error", code: "entity_unavailable", message: expect.stringContaining("Counter/damaged is unavailable: its stored record cannot be read") });
    }
    expect(await call(harness.runtime, "Counter/good", "add", 1)).toEqual({ kind: "result", value: 2 });
    expect(await call(harness.runtime, "Counter/other", "add", 5)).toEqual({ kind: "result", value: 5 });
  });
});
