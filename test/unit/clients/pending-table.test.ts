import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PendingTable } from "../../../clients/pending-table.js";

describe("PendingTable", () => {
  it("takes entries by id, in any order, and lists the rest oldest first", () => {
    const table = new PendingTable<string>();
    table.add(5, "a");
    table.add(6, "b");
    table.add(9, "c");
    expect(table.take(6)).toBe("b");
    expect(table.take(6)).toBeUndefined();
    expect(table.take(7)).toBeUndefined();
    expect(table.take(4)).toBeUndefined();
    expect([...table.values()]).toEqual(["a", "c"]);
    expect(table.size).toBe(2);
    expect(table.drain()).toEqual(["a", "c"]);
    expect(table.size).toBe(0);
    table.add(3, "after drain");
    expect(table.take(3)).toBe("after drain");
  });

  it("keeps its entries when it compacts the answered front", () => {
    const table = new PendingTable<number>();
    for (let id = 1; id <= 5000; id++) table.add(id, id);
    for (let id = 1; id <= 4000; id++) if (id % 1000 !== 0) table.take(id);
    expect([...table.values()].slice(0, 4)).toEqual([1000, 2000, 3000, 4000]);
    for (const id of [1000, 2000, 3000, 4000]) expect(table.take(id)).toBe(id);
    expect(table.take(4500)).toBe(4500);
    table.add(5001, 5001);
    expect(table.size).toBe(1000);
    expect([...table.values()].at(-1)).toBe(5001);
  });

  it("refuses an id that is not larger than the previous one", () => {
    const table = new PendingTable<string>();
    table.add(10, "a");
    expect(() => table.add(10, "b")).toThrow(RangeError);
  });

  it("behaves like a map under any sequence of adds and takes", () => {
    const step = fc.oneof(fc.record({ add: fc.integer({ min: 1, max: 5 }) }), fc.record({ take: fc.nat({ max: 3000 }) }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 3000 }), (steps) => {
        const table = new PendingTable<number>();
        const model = new Map<number, number>();
        let id = 0;
        for (const s of steps) {
          if ("add" in s) {
            id += s.add;
            table.add(id, id);
            model.set(id, id);
          } else {
            const expected = model.get(s.take);
            model.delete(s.take);
            if (table.take(s.take) !== expected) return false;
          }
        }
        return table.size === model.size && JSON.stringify([...table.values()]) === JSON.stringify([...model.values()]);
      }),
    );
  });
});
