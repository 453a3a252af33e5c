import { describe, expect, it } from "vitest";
import { FanOut } from "../../../../src/server/live-state/fan-out.js";

/** Busy-waits, as a socket send to a slow kernel does. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe("FanOut", () => {
  it("flushes every target once, however often it was added", async () => {
    const fanOut = new FanOut();
    const flushed = new Map<number, number>();
    const targets = Array.from({ length: 500 }, (_, i) => ({ flush: () => flushed.set(i, (flushed.get(i) ?? 0) + 1) }));
    for (const target of targets) fanOut.add(target);
    for (const target of targets) fanOut.add(target);
    while (fanOut.pending > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(flushed.size).toBe(500);
    expect([...flushed.values()].every((count) => count === 1)).toBe(true);
  });

  it("lets other work run between slices of a long fan-out", async () => {
    const fanOut = new FanOut(2);
    let flushed = 0;
    for (let i = 0; i < 2_000; i++) {
      fanOut.add({
        flush: () => {
          spin(0.05); // 2,000 targets: about 100 ms of sending in all
          flushed++;
        },
      });
    }
    // Work that arrives while the fan-out runs (a call on another connection) gets its turn early.
    const other = new Promise<number>((resolve) => setTimeout(() => setImmediate(() => resolve(flushed)), 0));
    const flushedWhenOtherRan = await other;
    while (fanOut.pending > 0) await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(2_000);
    expect(flushedWhenOtherRan).toBeLessThan(2_000 / 4);
  });
});

describe("FanOut under a fan-out that never catches up", () => {
  it("keeps its queue bounded by the targets waiting, not by every add since it last emptied", async () => {
    const fanOut = new FanOut(1);
    const targets = Array.from({ length: 1_000 }, () => ({ flush: () => spin(0.01) }));
    let longest = 0;
    for (let round = 0; round < 60; round++) {
      for (const target of targets) fanOut.add(target); // a writer faster than the fan-out
      await new Promise((resolve) => setImmediate(resolve));
      longest = Math.max(longest, (fanOut as unknown as { queue: unknown[] }).queue.length);
    }
    expect(longest).toBeLessThan(5 * targets.length);
  });
});
