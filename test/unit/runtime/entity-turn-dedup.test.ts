import { afterEach, describe, expect, it } from "vitest";
import { Counter, Log } from "../support/entities.js";
import { RuntimeHarness, readState, signal } from "../support/runtime-harness.js";

let harness: RuntimeHarness;
afterEach(async () => {
  await harness.dispose();
});

describe("signal de-duplication", () => {
  it("applies a resend (same clientId and seq) and an older seq once, and acks all of them", async () => {
    harness = await RuntimeHarness.open([Log]);
    const { runtime } = harness;
    const outcomes = await Promise.all([
      signal(runtime, "Log/d", "append", "first", { clientId: "c1", seq: 5 }),
      signal(runtime, "Log/d", "append", "resend", { clientId: "c1", seq: 5 }),
      signal(runtime, "Log/d", "append", "older", { clientId: "c1", seq: 3 }),
      signal(runtime, "Log/d", "append", "next", { clientId: "c1", seq: 6 }),
    ]);
    expect(outcomes).toEqual(Array(4).fill({ kind: "ack" }));
    expect(await readState(runtime, "Log/d")).toEqual({ state: { items: ["first", "next"] }, version: 1 });
  });

  it("remembers applied seqs across ticks", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    expect(await signal(runtime, "Counter/d", "add", 1, { clientId: "c1", seq: 1 })).toEqual({ kind: "ack" });
    expect(await signal(runtime, "Counter/d", "add", 1, { clientId: "c1", seq: 1 })).toEqual({ kind: "ack" });
    expect(await signal(runtime, "Counter/d", "add", 10, { clientId: "c1", seq: 2 })).toEqual({ kind: "ack" });
    expect(await readState(runtime, "Counter/d")).toEqual({ state: 11, version: 2 });
  });

  it("applies the same seq from different clientIds", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    await Promise.all([
      signal(runtime, "Counter/m", "add", 1, { clientId: "a", seq: 1 }),
      signal(runtime, "Counter/m", "add", 10, { clientId: "b", seq: 1 }),
      signal(runtime, "Counter/m", "add", 100, { clientId: "c", seq: 1 }),
    ]);
    expect((await readState(runtime, "Counter/m")).state).toBe(111);
  });

  it("scopes seqs per entity", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    await Promise.all([signal(runtime, "Counter/x", "add", 1, { clientId: "a", seq: 1 }), signal(runtime, "Counter/y", "add", 2, { clientId: "a", seq: 1 })]);
    expect((await readState(runtime, "Counter/x")).state).toBe(1);
    expect((await readState(runtime, "Counter/y")).state).toBe(2);
  });

  it("answers the resend of a failed signal with its failure, without running it again", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const failed = await signal(runtime, "Counter/f", "add", 1, { clientId: "a", seq: 1 }).then(() => signal(runtime, "Counter/f", "nope", 1, { clientId: "a", seq: 2 }));
    expect(failed).toMatchObject({ kind: "error", code: "unknown_operation" });
    expect(await signal(runtime, "Counter/f", "nope", 1, { clientId: "a", seq: 2 })).toEqual(failed);
    expect(await signal(runtime, "Counter/f", "add", 1, { clientId: "a", seq: 1 })).toEqual({ kind: "ack" }); // the one before it succeeded
    expect(await readState(runtime, "Counter/f")).toEqual({ state: 1, version: 1 });
  });

  it("answers a failed signal's resend with its failure while its commit is in flight, and after a restart", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const first = signal(harness.runtime, "Counter/g", "nope", 1, { clientId: "b", seq: 1 });
    await new Promise((resolve) => setImmediate(resolve)); // the first tick is built; its commit is not durable yet
    const resend = signal(harness.runtime, "Counter/g", "nope", 1, { clientId: "b", seq: 1 });
    const failure = await first;
    expect(failure).toMatchObject({ kind: "error", code: "unknown_operation" });
    expect(await resend).toEqual(failure);
    await harness.restart();
    expect(await signal(harness.runtime, "Counter/g", "nope", 1, { clientId: "b", seq: 1 })).toEqual(failure);
    expect((await readState(harness.runtime, "Counter/g")).state).toBeNull();
  });

  it("forgets failures past the window with the sweep", async () => {
    harness = await RuntimeHarness.open([Counter], { dedupWindowMs: 60_000 });
    const { runtime } = harness;
    expect(await signal(runtime, "Counter/h", "nope", 1, { clientId: "c", seq: 1 })).toMatchObject({ kind: "error" });
    expect(await runtime.sweepSignalMarks(Date.now() + 120_000)).toBe(2); // the mark and the failure
    await signal(runtime, "Counter/h", "add", 1, { clientId: "d", seq: 1 }); // the next tick carries the deletes
    await harness.closeRuntimeAndStore();
    const store = await harness.openStoreOnly();
    expect(store.readSignalFailure("Counter/h", "c", 1)).toBeUndefined();
    expect(store.readSignalMark("Counter/h", "c")).toBeUndefined();
  });

  it("remembers applied seqs across a restart", async () => {
    harness = await RuntimeHarness.open([Counter]);
    expect(await signal(harness.runtime, "Counter/r", "add", 7, { clientId: "c1", seq: 9 })).toEqual({ kind: "ack" });
    await harness.restart();
    expect(await signal(harness.runtime, "Counter/r", "add", 7, { clientId: "c1", seq: 9 })).toEqual({ kind: "ack" });
    expect(await signal(harness.runtime, "Counter/r", "add", 1, { clientId: "c1", seq: 10 })).toEqual({ kind: "ack" });
    expect(await readState(harness.runtime, "Counter/r")).toEqual({ state: 8, version: 2 });
  });

  it("stores the signal mark even when the signal changes no state", async () => {
    harness = await RuntimeHarness.open([Counter]);
    await signal(harness.runtime, "Counter/z", "add", 5);
    await signal(harness.runtime, "Counter/z", "add", 0, { clientId: "c1", seq: 4 });
    expect(await readState(harness.runtime, "Counter/z")).toEqual({ state: 5, version: 1 });
    await harness.closeRuntimeAndStore();
    const store = await harness.openStoreOnly();
    const record = store.readEntity("Counter/z");
    expect(record?.version).toBe(1);
    expect(record?.state).toBe(5);
    expect(store.readSignalMark("Counter/z", "c1")?.[0]).toBe(4);
  });

  it("keeps de-duplicating for any number of clients within the window", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    expect(await signal(runtime, "Counter/many", "add", 1, { clientId: "first", seq: 1 })).toEqual({ kind: "ack" });
    await Promise.all(Array.from({ length: 5000 }, (_, i) => signal(runtime, "Counter/many", "add", 1, { clientId: `other-${i}`, seq: 1 })));
    expect(await signal(runtime, "Counter/many", "add", 1, { clientId: "first", seq: 1 })).toEqual({ kind: "ack" }); // a resend
    expect((await readState(runtime, "Counter/many")).state).toBe(5001);
  });

  it("keeps a bounded number of marks in memory: a hot entity signalled by many clients re-reads the rest", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const clients = 10_000;
    await Promise.all(Array.from({ length: clients }, (_, i) => signal(runtime, "Counter/hot", "add", 1, { clientId: `browser-${i}`, seq: 1 })));
    expect(runtime.signalMarksInMemory("Counter/hot")).toBeLessThanOrEqual(4_096);
    expect(await signal(runtime, "Counter/hot", "add", 1, { clientId: "browser-0", seq: 1 })).toEqual({ kind: "ack" }); // a resend, known from disk
    expect(await signal(runtime, "Counter/hot", "add", 1, { clientId: `browser-${clients - 1}`, seq: 1 })).toEqual({ kind: "ack" });
    expect((await readState(runtime, "Counter/hot")).state).toBe(clients);
  });

  it("bounds the marks in memory of an entity that is never idle (a commit always in flight)", async () => {
    harness = await RuntimeHarness.open([Counter]);
    const { runtime } = harness;
    const acks: Array<Promise<unknown>> = [];
    let acked = 0;
    /** The most marks held beyond those of signals not yet durable (which must stay until their commit is): bounded whatever the disk's speed. */
    let mostBeyondInFlight = 0;
    for (let i = 0; i < 12_000; i++) {
      acks.push(signal(runtime, "Counter/busy", "add", 1, { clientId: `client-${i}`, seq: 1 }).then(() => void acked++));
      if (i % 40 === 39) {
        await new Promise((resolve) => setImmediate(resolve)); // a tick of 40 signals; earlier ones still flushing
        const inFlight = i + 1 - acked;
        mostBeyondInFlight = Math.max(mostBeyondInFlight, runtime.signalMarksInMemory("Counter/busy") - inFlight);
      }
    }
    await Promise.all(acks);
    expect(mostBeyondInFlight).toBeLessThanOrEqual(4_096);
    expect(runtime.signalMarksInMemory("Counter/busy")).toBeLessThanOrEqual(4_096 + 40); // once all are durable
    expect(await signal(runtime, "Counter/busy", "add", 1, { clientId: "client-0", seq: 1 })).toEqual({ kind: "ack" }); // still de-duplicated
    expect((await readState(runtime, "Counter/busy")).state).toBe(12_000);
  });

  it("sweeps marks a page at a time: more marks than one page are all found and deleted", async () => {
    harness = await RuntimeHarness.open([Counter], { dedupWindowMs: 60_000 });
    const { runtime } = harness;
    const marks = 12_000; // over two pages of the sweep
    await Promise.all(Array.from({ length: marks }, (_, i) => signal(runtime, `Counter/p${i % 50}`, "add", 1, { clientId: `client-${i}`, seq: 1 })));
    expect(await runtime.sweepSignalMarks(Date.now() + 120_000)).toBe(marks);
    await signal(runtime, "Counter/after", "add", 1, { clientId: "late", seq: 1 }); // the ticks carry the deletes
    await harness.closeRuntimeAndStore();
    const store = await harness.openStoreOnly();
    expect(store.readSignalMark("Counter/p0", "client-0")).toBeUndefined();
    expect(store.readSignalMark("Counter/p49", `client-${marks - 1}`)).toBeUndefined();
    expect(store.readSignalMark("Counter/after", "late")?.[0]).toBe(1);
  });

  it("forgets marks past the window: the sweep deletes them, keeping fresh ones", async () => {
    harness = await RuntimeHarness.open([Counter], { dedupWindowMs: 60_000 });
    const { runtime } = harness;
    await signal(runtime, "Counter/old", "add", 1, { clientId: "c1", seq: 1 });
    await signal(runtime, "Counter/old", "add", 1, { clientId: "c2", seq: 1 });
    expect(await runtime.sweepSignalMarks(Date.now())).toBe(0); // nothing is old yet
    expect(await runtime.sweepSignalMarks(Date.now() + 120_000)).toBe(2);
    await signal(runtime, "Counter/old", "add", 10, { clientId: "c3", seq: 1 }); // the next tick carries the deletes
    await harness.closeRuntimeAndStore();
    const store = await harness.openStoreOnly();
    expect(store.readSignalMark("Counter/old", "c1")).toBeUndefined();
    expect(store.readSignalMark("Counter/old", "c3")?.[0]).toBe(1);
  });
});
