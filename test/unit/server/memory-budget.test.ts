import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { MemoryBudget, type BufferHolder } from "../../../src/server/memory-budget.js";

class Holder implements BufferHolder {
  shedCount = 0;
  constructor(
    readonly name: string,
    public bytes: number,
  ) {}
  heldBytes(): number {
    return this.bytes;
  }
  shed(): void {
    this.shedCount++;
    this.bytes = 0;
  }
}

let budget: MemoryBudget;
afterEach(() => budget.close());

describe("MemoryBudget", () => {
  it("keeps a running total of what holders say they hold", () => {
    budget = new MemoryBudget(1000, createLogger("silent"));
    const a = new Holder("a", 100);
    const b = new Holder("b", 200);
    budget.note(a, 100);
    budget.note(b, 200);
    expect(budget.totalBytes).toBe(300);
    budget.note(a, 50);
    expect(budget.totalBytes).toBe(250);
    budget.forget(b);
    expect(budget.totalBytes).toBe(50);
    budget.note(a, 0);
    expect(budget.totalBytes).toBe(0);
  });

  it("past the budget, sheds the largest holders first, until under three quarters of it", () => {
    budget = new MemoryBudget(1000, createLogger("silent"));
    const holders = [new Holder("small", 100), new Holder("large", 500), new Holder("medium", 300), new Holder("tiny", 10)];
    for (const holder of holders.slice(0, 3)) budget.note(holder, holder.bytes);
    expect(holders.map((h) => h.shedCount)).toEqual([0, 0, 0, 0]);
    budget.note(holders[3]!, 200); // 1,100 now: over
    expect(holders.map((h) => [h.name, h.shedCount])).toEqual([
      ["small", 0],
      ["large", 1],
      ["medium", 0],
      ["tiny", 0],
    ]);
    expect(budget.totalBytes).toBeLessThanOrEqual(750);
  });

  it("reads holders again (their buffers drain silently) and sheds when they grew past the budget", async () => {
    budget = new MemoryBudget(1000, createLogger("silent"));
    const a = new Holder("a", 400);
    const b = new Holder("b", 300);
    budget.note(a, 400);
    budget.note(b, 300);
    a.bytes = 900; // grew without a note
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(a.shedCount).toBe(1);
    expect(b.shedCount).toBe(0);
    b.bytes = 0;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(budget.totalBytes).toBe(0);
  });
});
