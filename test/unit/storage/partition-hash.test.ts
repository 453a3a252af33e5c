import { describe, expect, it } from "vitest";
import { partitionOf } from "../../../src/storage/index.js";

describe("partitionOf", () => {
  it("keeps its values, so partitions never move between versions (FNV-1a then murmur3's finalizer)", () => {
    const full = 2 ** 32;
    expect(partitionOf("", full)).toBe(0xab3e7c0b);
    expect(partitionOf("a", full)).toBe(0x1a80b1b3);
    expect(partitionOf("foobar", full)).toBe(0x0c0da6dc);
    expect(partitionOf("Counter/alice", full)).toBe(0xfcb96bd5);
    expect(partitionOf("Counter/alice", 16)).toBe(partitionOf("Counter/alice", full) % 16);
  });

  it("mixes every bit of the id into the partition (ids differing in one high bit spread)", () => {
    const partitions = new Set(["A", "Q", "a", "q"].map((c) => partitionOf(`Counter/${c}`, 16)));
    expect(partitions.size).toBeGreaterThan(1);
  });

  it("gives the same partition for the same id, within range", () => {
    for (const count of [1, 3, 16, 64]) {
      for (let i = 0; i < 500; i++) {
        const id = `Entity/${i}`;
        const partition = partitionOf(id, count);
        expect(partition).toBe(partitionOf(id, count));
        expect(Number.isInteger(partition) && partition >= 0 && partition < count).toBe(true);
      }
    }
  });

  it("spreads 10,000 ids roughly evenly over 16 partitions", () => {
    const families: Array<(i: number) => string> = [
      (i) => `Counter/${i}`,
      (i) => `User/user-${String(i).padStart(6, "0")}`,
      (i) => `Doc/${i.toString(36)}`,
      (i) => `Room/${(i * 2654435761) >>> 0}/members`,
    ];
    for (const id of families) {
      const counts = new Array<number>(16).fill(0);
      for (let i = 0; i < 10_000; i++) counts[partitionOf(id(i), 16)]!++;
      for (const count of counts) expect(count).toBeGreaterThan(300);
    }
  });
});
