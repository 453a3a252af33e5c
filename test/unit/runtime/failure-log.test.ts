import { afterEach, describe, expect, it } from "vitest";
import { CommitPipeline, defineEntity, EntityRuntime, type Clock, type Outcome } from "../../../src/runtime/index.js";
import { FailureLog } from "../../../src/runtime/failure-log.js";
import { captureLog } from "../support/capture-log.js";
import { TempStores } from "../support/temp-dir.js";

/** A clock moved by hand; `advance` fires the timers that fall due. */
class HandClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current;
  }
  setTimer(fn: () => void, ms: number): unknown {
    this.timers.set(this.next, { at: this.current + ms, fn });
    return this.next++;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    this.current += ms;
    for (const [handle, timer] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > this.current) break;
      this.timers.delete(handle);
      timer.fn();
    }
  }
}

describe("the failure log", () => {
  it("logs the first 10 failures of an entity type per 10 s in full, and one line for the rest at the window's end", () => {
    const clock = new HandClock();
    const log = captureLog();
    const failures = new FailureLog(log, clock);
    for (let i = 0; i < 25; i++) failures.failed("Fragile", () => ({ n: i }));
    for (let i = 0; i < 3; i++) failures.failed("Other", () => ({ n: i }));
    expect(log.at("warn", "operation failed").map((line) => line.fields.n)).toEqual([...Array.from({ length: 10 }, (_, i) => i), 0, 1, 2]);
    expect(log.at("warn", "operation failures suppressed")).toEqual([]);
    clock.advance(9_999);
    expect(log.at("warn", "operation failures suppressed")).toEqual([]);
    clock.advance(1);
    expect(log.at("warn", "operation failures suppressed").map((line) => line.fields)).toEqual([{ entityType: "Fragile", suppressed: 15, logged: 10, windowMs: 10_000 }]);
    // A new window: logged in full again.
    failures.failed("Fragile", () => ({ n: "next" }));
    expect(log.lines.at(-1)).toMatchObject({ message: "operation failed", fields: { n: "next" } });
    expect(clock.pending).toBe(0);
  });

  it("reports what it left out when a window ends before its timer fires, and on close", () => {
    const clock = new HandClock();
    const log = captureLog();
    const failures = new FailureLog(log, clock, { linesPerWindow: 1, windowMs: 1000 });
    failures.failed("Fragile", () => ({}));
    failures.failed("Fragile", () => ({}));
    (clock as unknown as { current: number }).current += 1000; // time moved; the timer has not run yet
    failures.failed("Fragile", () => ({ n: "new window" }));
    failures.failed("Fragile", () => ({}));
    expect(log.lines.map((line) => [line.message, line.fields.suppressed ?? line.fields.n])).toEqual([
      ["operation failed", undefined],
      ["operation failures suppressed", 1],
      ["operation failed", "new window"],
    ]);
    failures.close();
    expect(log.lines.at(-1)).toMatchObject({ message: "operation failures suppressed", fields: { suppressed: 1 } });
    expect(clock.pending).toBe(0);
    clock.advance(5000);
    expect(log.lines).toHaveLength(4);
  });
});

const Fragile = defineEntity("Fragile", {
  initialState: () => 0,
  operations: {
    explode: () => {
      throw new Error("exploded");
    },
  },
});

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

describe("a flood of failing operations", () => {
  it("100,000 failing signals write 10 lines and one that counts the rest, not 100,000", async () => {
    const store = await stores.openStore(stores.newDir());
    const clock = new HandClock(Date.now());
    const log = captureLog();
    const pipeline = new CommitPipeline({ store, log, clock });
    const runtime = new EntityRuntime({ store, pipeline, entities: [Fragile], log });
    runtime.start();
    const total = 100_000;
    let failed = 0;
    await new Promise<void>((resolve) => {
      const replyTo = {
        deliver: (_id: number, outcome: Outcome) => {
          if (outcome.kind === "error" && outcome.code === "operation_failed") failed++;
          if (failed === total) resolve();
        },
      };
      for (let i = 0; i < total; i++) runtime.submit({ kind: "signal", entityId: `Fragile/${i % 100}`, op: "explode", replyTo, requestId: i });
    });
    expect(log.at("warn", "operation failed")).toHaveLength(10);
    clock.advance(10_000);
    expect(log.at("warn", "operation failures suppressed").map((line) => line.fields)).toEqual([{ entityType: "Fragile", suppressed: total - 10, logged: 10, windowMs: 10_000 }]);
    expect(log.lines.filter((line) => line.level === "warn")).toHaveLength(11);
    expect(runtime.failures()).toEqual({ failures: [] }); // client signals: their callers got the error
    await runtime.close();
  });
});
