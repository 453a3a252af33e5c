import { afterEach, describe, expect, it } from "vitest";
import type { DeadLetter, LmdbStore } from "../../../src/storage/index.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

const letter = (seq: number, target: string, extra: Partial<DeadLetter> = {}): DeadLetter => ({
  seq,
  target,
  op: "add",
  input: { n: seq },
  source: "Sender/s",
  code: "operation_failed",
  message: `${target} add: boom ${seq}`,
  atMs: 1_700_000_000_000 + seq,
  ...extra,
});

/** Ids of `Type/<n>` in as many different partitions as `count`. */
function spreadIds(store: LmdbStore, type: string, count: number): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < count; i++) {
    const id = `${type}/${i}`;
    if (!byPartition.has(store.partitionOf(id))) byPartition.set(store.partitionOf(id), id);
  }
  return [...byPartition.values()];
}

describe("dead letters in the LMDB store", () => {
  it("lists a type's letters newest first across partitions, pages below `before`, and keeps each letter whole", async () => {
    const store = await stores.openStore(stores.newDir());
    const ids = spreadIds(store, "Fragile", 5);
    const batch = store.newBatch();
    const addresses = [1, 2, 3, 4, 5, 6, 7].map((seq) => batch.putDeadLetter(letter(seq, ids[seq % ids.length]!)));
    batch.putDeadLetter(letter(8, "Other/x"));
    batch.putDeadLetter(letter(9, "Fragile.v2/x")); // a type whose name starts with Fragile is another type
    await store.commit(batch);

    expect(addresses[0]).toEqual({ partition: store.partitionOf(ids[1]!), entityType: "Fragile", seq: 1 });
    const all = store.readDeadLetters({ entityType: "Fragile", limit: 100 });
    expect(all.map((l) => l.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(all[0]).toEqual(letter(7, ids[2]!));
    expect(store.readDeadLetters({ entityType: "Fragile", limit: 3 }).map((l) => l.seq)).toEqual([7, 6, 5]);
    expect(store.readDeadLetters({ entityType: "Fragile", limit: 3, before: 5 }).map((l) => l.seq)).toEqual([4, 3, 2]);
    expect(store.readDeadLetters({ entityType: "Fragile", limit: 3, before: 1 })).toEqual([]);
    expect(store.readDeadLetters({ entityType: "Nobody", limit: 3 })).toEqual([]);
    // Every type's, merged newest first.
    expect(store.readDeadLetters({ limit: 4 }).map((l) => [l.seq, l.target.split("/")[0]])).toEqual([
      [9, "Fragile.v2"],
      [8, "Other"],
      [7, "Fragile"],
      [6, "Fragile"],
    ]);
    expect(store.readDeadLetters({ limit: 100, before: 8 }).map((l) => l.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(store.readDeadLetterAddresses("Fragile")).toEqual(addresses);
    expect(store.lastDeadLetterSeq()).toBe(9);
  });

  it("deletes letters by address, and keeps them across a reopen", async () => {
    const dir = stores.newDir();
    const store = await stores.openStore(dir);
    const batch = store.newBatch();
    const addresses = [1, 2, 3].map((seq) => batch.putDeadLetter(letter(seq, `Fragile/${seq}`, seq === 2 ? { input: undefined, source: undefined } : {})));
    await store.commit(batch);
    const removal = store.newBatch();
    removal.deleteDeadLetter(addresses[0]!);
    await store.commit(removal);
    await stores.closeStore(store);

    const reopened = await stores.openStore(dir);
    const kept = reopened.readDeadLetters({ entityType: "Fragile", limit: 10 });
    expect(kept.map((l) => l.seq)).toEqual([3, 2]);
    expect(kept[1]).not.toHaveProperty("input");
    expect(kept[1]).not.toHaveProperty("source");
    expect(reopened.readDeadLetterAddresses("Fragile").map((a) => a.seq)).toEqual([2, 3]);
    expect(reopened.lastDeadLetterSeq()).toBe(3);
  });

  it("has no letters and a last number of 0 in a new store", async () => {
    const store = await stores.openStore(stores.newDir());
    expect(store.lastDeadLetterSeq()).toBe(0);
    expect(store.readDeadLetters({ limit: 10 })).toEqual([]);
    expect(store.readDeadLetterAddresses("Fragile")).toEqual([]);
  });
});
