import { afterEach, describe, expect, it } from "vitest";
import { defineEntity, type EntityChange } from "../../../src/runtime/index.js";
import { Counter, Log } from "../support/entities.js";
import { RuntimeHarness, call, readState, signal } from "../support/runtime-harness.js";

/** Records start and end markers around each operation, and notices if another operation starts in between. */
let running = new Set<string>();
let overlaps: string[] = [];
const Tracer = defineEntity("Tracer", {
  initialState: (): string[] => [],
  operations: {
    work: (ctx, input: { tag: string; echo?: number }) => {
      if (running.has(ctx.entityId)) overlaps.push(`${ctx.entityId} ${input.tag}`);
      running.add(ctx.entityId);
      try {
        ctx.state.push(`start:${input.tag}`);
        if (input.echo !== undefined && input.echo > 0) ctx.signalEntity(ctx.entityId, "work", { tag: `${input.tag}+`, echo: input.echo - 1 });
        ctx.state.push(`end:${input.tag}`);
      } finally {
        running.delete(ctx.entityId);
      }
    },
  },
});

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("mailbox order", () => {
  it("applies many signals from one sender to one entity in submission order", async () => {
    harness = await RuntimeHarness.open([Log]);
    const { runtime } = harness;
    const acks = Array.from({ length: 500 }, (_, i) => signal(runtime, "Log/a", "append", i, { clientId: "c", seq: i + 1 }));
    expect(await Promise.all(acks)).toEqual(Array(500).fill({ kind: "ack" }));
    expect(await readState(runtime, "Log/a")).toEqual({ state: { items: Array.from({ length: 500 }, (_, i) => i) }, version: 1 });
  });

  it("keeps submission order across ticks and across signals and calls", async () => {
    harness = await RuntimeHarness.open([Log]);
    const { runtime } = harness;
    const first = [signal(runtime, "Log/a", "append", "s1"), call(runtime, "Log/a", "append", "c2"), signal(runtime, "Log/a", "append", "s3")];
    await Promise.all(first);
    const second = [call(runtime, "Log/a", "append", "c4"), signal(runtime, "Log/a", "append", "s5")];
    expect(await Promise.all(second)).toEqual([{ kind: "result", value: 4 }, { kind: "ack" }]);
    expect(await readState(runtime, "Log/a")).toEqual({ state: { items: ["s1", "c2", "s3", "c4", "s5"] }, version: 2 });
  });
});

describe("one writer", () => {
  it("never interleaves the operations of one entity", async () => {
    running = new Set();
    overlaps = [];
    harness = await RuntimeHarness.open([Tracer]);
    const { runtime } = harness;
    const expected = new Map<string, string[]>();
    const outcomes = [];
    for (let round = 0; round < 3; round++) {
      for (const key of ["x", "y"]) {
        for (let i = 0; i < 20; i++) {
          const tag = `${round}.${i}`;
          outcomes.push(i % 2 === 0 ? signal(runtime, `Tracer/${key}`, "work", { tag }) : call(runtime, `Tracer/${key}`, "work", { tag }));
          expected.set(key, [...(expected.get(key) ?? []), `start:${tag}`, `end:${tag}`]);
        }
      }
      await Promise.all(outcomes);
    }
    expect(overlaps).toEqual([]);
    for (const key of ["x", "y"]) expect((await readState(runtime, `Tracer/${key}`)).state).toEqual(expected.get(key));
  });

  it("runs an entity's signals to itself as whole operations, after the operation that sent them", async () => {
    running = new Set();
    overlaps = [];
    harness = await RuntimeHarness.open([Tracer]);
    const { runtime } = harness;
    const done = new Promise<void>((resolve) => {
      runtime.onChange((changes) => {
        if (changes.some((c) => c.entityId === "Tracer/z" && (c.state as string[]).includes("end:a+++"))) resolve();
      });
    });
    await call(runtime, "Tracer/z", "work", { tag: "a", echo: 3 });
    await done;
    expect(overlaps).toEqual([]);
    expect((await readState(runtime, "Tracer/z")).state).toEqual(["start:a", "end:a", "start:a+", "end:a+", "start:a++", "end:a++", "start:a+++", "end:a+++"]);
  });
});

describe("group commit", () => {
  it("applies 1000 signals submitted in one tick as one change (version 1) with the exact sum", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const changes: EntityChange[] = [];
    runtime.onChange((batch) => changes.push(...batch));
    const acks = Array.from({ length: 1000 }, (_, i) => signal(runtime, "Counter/sum", "add", i + 1));
    const sameTick = readState(runtime, "Counter/sum");
    expect(await Promise.all(acks)).toEqual(Array(1000).fill({ kind: "ack" }));
    expect(await sameTick).toEqual({ state: 500_500, version: 1 });
    expect(await readState(runtime, "Counter/sum")).toEqual({ state: 500_500, version: 1 });
    expect(changes).toEqual([{ entityId: "Counter/sum", version: 1, state: 500_500, previousState: null }]);
    await harness.closeRuntimeAndStore();
    const store = await harness.openStoreOnly();
    expect(store.readEntity("Counter/sum")).toEqual({ version: 1, modifiedAt: expect.any(Number), state: 500_500 });
  });

  it("commits one change per turn across ticks", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    for (let round = 1; round <= 4; round++) {
      await Promise.all(Array.from({ length: 10 }, () => signal(runtime, "Counter/c", "add", round)));
      expect(await readState(runtime, "Counter/c")).toEqual({ state: 10 * ((round * (round + 1)) / 2), version: round });
    }
  });

  it("does not count a turn that leaves the state as it was", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    await signal(runtime, "Counter/n", "add", 5);
    await Promise.all([signal(runtime, "Counter/n", "add", 3), signal(runtime, "Counter/n", "add", -3)]);
    expect(await call(runtime, "Counter/n", "get")).toEqual({ kind: "result", value: 5 });
    expect(await readState(runtime, "Counter/n")).toEqual({ state: 5, version: 1 });
  });

  it("answers calls with their own result within a batch", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const results = await Promise.all([call(runtime, "Counter/r", "add", 1), call(runtime, "Counter/r", "add", 10), call(runtime, "Counter/r", "add", 100)]);
    expect(results).toEqual([
      { kind: "result", value: 1 },
      { kind: "result", value: 11 },
      { kind: "result", value: 111 },
    ]);
  });
});
