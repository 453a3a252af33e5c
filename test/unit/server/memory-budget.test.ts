import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { MemoryBudget, STALLED_MS, type BufferHolder } from "../../../src/server/memory-budget.js";

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
  it("sheds holders that made no progress for a while first, even when a reader holds more", () => {
    let now = 0;
    budget = new MemoryBudget(1000, createLogger("silent"), () => now);
    const idle = [new Holder("idle-1", 150), new Holder("idle-2", 160), new Holder("idle-3", 170)];
    for (const holder of idle) budget.note(holder, holder.bytes);
    now += STALLED_MS; // they have held their bytes for a second, without a byte going out
    const reader = new Holder("reader", 600); // one large answer, just queued
    budget.note(reader, 600); // 1,080: over
    expect([...idle, reader].map((h) => [h.name, h.shedCount])).toEqual([
      ["idle-1", 0],
      ["idle-2", 1],
      ["idle-3", 1], // the largest stalled one first, until under three quarters of the budget
      ["reader", 0], // the largest, but it has just got its bytes
    ]);
    expect(budget.totalBytes).toBe(750);
  });

  it("counts a holder whose bytes went down as making progress, and sheds such holders only when the stalled ones are not enough", () => {
    let now = 0;
    budget = new MemoryBudget(1000, createLogger("silent"), () => now);
    const draining = new Holder("draining", 500);
    const idle = new Holder("idle", 100);
    budget.note(draining, 500);
    budget.note(idle, 100);
    now += STALLED_MS - 100;
    draining.bytes = 450; // went down, seen at the next note or refresh
    budget.note(draining, 450);
    now += 200; // idle: no progress for STALLED_MS + 100; draining: for 200 ms
    const large = new Holder("large", 700); // fresh, the largest
    budget.note(large, 700); // 1,250: over; shedding idle (100) is not enough, then the largest of the rest
    expect([draining, idle, large].map((h) => [h.name, h.shedCount])).toEqual([
      ["draining", 0],
      ["idle", 1],
      ["large", 1],
    ]);
    expect(budget.totalBytes).toBe(450);
  });

  it("sees progress that happened without a note when it reads holders again", () => {
    let now = 0;
    budget = new MemoryBudget(1000, createLogger("silent"), () => now);
    const reader = new Holder("reader", 500);
    const idle = new Holder("idle", 400);
    budget.note(reader, 500);
    budget.note(idle, 400);
    now += 5 * STALLED_MS;
    reader.bytes = 300; // drained silently (no note): seen when the budget reads it again
    const late = new Holder("late", 450);
    budget.note(late, 450); // 1,350 as noted; 1,150 as read now: over
    expect([reader, idle, late].map((h) => [h.name, h.shedCount])).toEqual([
      ["reader", 0],
      ["idle", 1],
      ["late", 0],
    ]);
  });

  it("counts a holder that emptied and holds again as fresh", () => {
    let now = 0;
    budget = new MemoryBudget(1000, createLogger("silent"), () => now);
    const bursty = new Holder("bursty", 300);
    const idle = new Holder("idle", 300);
    budget.note(bursty, 300);
    budget.note(idle, 300);
    bursty.bytes = 0;
    budget.note(bursty, 0);
    now += 2 * STALLED_MS;
    bursty.bytes = 600;
    budget.note(bursty, 600); // 900
    const more = new Holder("more", 150);
    budget.note(more, 150); // 1,050: over; idle has held its 300 for two seconds
    expect([bursty, idle, more].map((h) => h.shedCount)).toEqual([0, 1, 0]);
  });
});
