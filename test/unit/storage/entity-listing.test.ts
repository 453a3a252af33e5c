import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareIds, type EntityListing, type EntityListingQuery, type EntityRecord, type LmdbStore } from "../../../src/storage/index.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
let store: LmdbStore;
/** Every record written, by id. */
const written = new Map<string, EntityRecord>();
const T0 = Date.UTC(2026, 0, 1);

/** Keys with characters whose UTF-16 order differs from their code point (and LMDB key) order. */
const ODD_KEYS = ["\ud83d\ude00", "\ue000", "\uffff", "\u00e9", "a/b", "a1", "a", "A", "~", " ", "a\u00a0"];

beforeAll(async () => {
  store = await stores.openStore(stores.newDir());
  const records: Array<[string, EntityRecord]> = [];
  // 10,000 entities of Counter (7,000), Cart (2,000), Cart.v2 and Carts (500 each: names that sort around Cart's ids).
  for (let i = 0; i < 7000; i++) records.push([`Counter/c${i}`, { version: 1 + (i % 3), modifiedAt: T0 + i, state: i }]);
  for (let i = 0; i < 2000; i++) {
    const deleted = i % 10 === 0;
    const locked = i % 250 === 1;
    records.push([`Cart/user-${String(i).padStart(4, "0")}`, { version: 2, ...(i % 100 === 7 ? {} : { modifiedAt: T0 + i * 10 }), ...(deleted ? {} : { state: { items: [i] } }), ...(locked ? { lock: { instanceId: `t${i}`, generation: 1 } } : {}) }]);
  }
  for (let i = 0; i < 500 - ODD_KEYS.length; i++) records.push([`Cart.v2/x${i}`, { version: 1, modifiedAt: T0, state: i }]);
  for (const key of ODD_KEYS) records.push([`Cart.v2/${key}`, { version: 1, modifiedAt: T0, state: key }]);
  for (let i = 0; i < 500; i++) records.push([`Carts/${i}`, { version: 1, modifiedAt: T0, state: i }]);
  for (let from = 0; from < records.length; from += 2000) {
    const batch = store.newBatch();
    for (const [id, record] of records.slice(from, from + 2000)) {
      batch.putEntity(id, record);
      written.set(id, record);
    }
    await store.commit(batch);
  }
});
afterAll(async () => {
  await stores.dispose();
});

/** Every page of a listing, following `next` to the end. */
function pages(query: Omit<EntityListingQuery, "after">): EntityListing[] {
  const all: EntityListing[] = [];
  let after: string | undefined;
  do {
    const page = store.listEntities({ ...query, ...(after === undefined ? {} : { after }) });
    all.push(page);
    after = page.next;
  } while (after !== undefined && all.length < 10_000);
  return all;
}

/** The ids the store holds that a query should list, in code point order. */
function expected(filter: (id: string, record: EntityRecord) => boolean): string[] {
  return [...written].filter(([id, record]) => filter(id, record)).map(([id]) => id).sort(compareIds);
}

describe("listing entities across partitions", () => {
  it("spreads the test's entities over every partition", () => {
    const partitions = new Set([...written.keys()].filter((id) => id.startsWith("Counter/")).map((id) => store.partitionOf(id)));
    expect(partitions.size).toBe(store.partitionCount);
  });

  it.each([1000, 333])("pages through 7,000 entities of a type, %i at a time: one stable order, none twice, none missing, and the count", async (pageSize) => {
    const listed = pages({ type: "Counter", pageSize });
    const ids = listed.flatMap((page) => page.entities.map((entity) => entity.id));
    expect(ids).toEqual(expected((id) => id.startsWith("Counter/")));
    expect(new Set(ids).size).toBe(7000);
    expect(listed).toHaveLength(Math.ceil(7000 / pageSize));
    for (const page of listed.slice(0, -1)) expect(page.entities).toHaveLength(pageSize);
    expect(listed.at(-1)!.next).toBeUndefined();
    // The same pages again: the order is stable.
    expect(pages({ type: "Counter", pageSize }).flatMap((page) => page.entities.map((entity) => entity.id))).toEqual(ids);
    expect(await store.countEntities({ type: "Counter" })).toBe(7000);
  });

  it("holds the version, the time and the lock of each entity, and the state only when asked", () => {
    const [page] = pages({ type: "Cart", pageSize: 3, includeDeleted: true, keyPrefix: "user-000" }).slice(0, 1);
    expect(page!.entities).toEqual([
      { id: "Cart/user-0000", version: 2, modifiedAt: T0 },
      { id: "Cart/user-0001", version: 2, modifiedAt: T0 + 10, lock: { instanceId: "t1", generation: 1 } },
      { id: "Cart/user-0002", version: 2, modifiedAt: T0 + 20 },
    ]);
    const withState = store.listEntities({ type: "Cart", pageSize: 2, includeState: true, keyPrefix: "user-000" });
    expect(withState.entities).toEqual([
      { id: "Cart/user-0001", version: 2, modifiedAt: T0 + 10, state: { items: [1] }, lock: { instanceId: "t1", generation: 1 } },
      { id: "Cart/user-0002", version: 2, modifiedAt: T0 + 20, state: { items: [2] } },
    ]);
    expect(withState.next).toBe("Cart/user-0002");
  });

  it("lists one type only, exactly: not Cart.v2 or Carts beside Cart", async () => {
    const ids = pages({ type: "Cart", pageSize: 1000, includeDeleted: true }).flatMap((page) => page.entities.map((entity) => entity.id));
    expect(ids).toHaveLength(2000);
    expect(ids.every((id) => id.startsWith("Cart/"))).toBe(true);
    expect(await store.countEntities({ type: "Cart", includeDeleted: true })).toBe(2000);
    expect(await store.countEntities({ type: "Carts" })).toBe(500);
    expect(await store.countEntities({ type: "cart" })).toBe(0);
    expect(store.listEntities({ type: "Nothing", pageSize: 10 })).toEqual({ entities: [] });
  });

  it("leaves entities without state out unless asked, and counts the same way", async () => {
    const live = expected((id, record) => id.startsWith("Cart/") && record.state !== undefined);
    expect(live).toHaveLength(1800);
    expect(pages({ type: "Cart", pageSize: 333 }).flatMap((page) => page.entities.map((entity) => entity.id))).toEqual(live);
    expect(await store.countEntities({ type: "Cart" })).toBe(1800);
  });

  it("filters by key prefix, and counts what the prefix matches", async () => {
    const ids = pages({ type: "Counter", pageSize: 333, keyPrefix: "c12" }).flatMap((page) => page.entities.map((entity) => entity.id));
    expect(ids).toEqual(expected((id) => id.startsWith("Counter/c12")));
    expect(ids).toHaveLength(111); // c12, c120–c129, c1200–c1299
    expect(await store.countEntities({ type: "Counter", keyPrefix: "c12" })).toBe(111);
    expect(store.listEntities({ type: "Counter", pageSize: 10, keyPrefix: "zzz" })).toEqual({ entities: [] });
  });

  it("filters by last-modified time, inclusive at both ends; a record without a time matches no window", async () => {
    const from = T0 + 5000;
    const to = T0 + 9000;
    const inWindow = (id: string, record: EntityRecord) => id.startsWith("Cart/") && record.state !== undefined && record.modifiedAt !== undefined && record.modifiedAt >= from && record.modifiedAt <= to;
    const ids = pages({ type: "Cart", pageSize: 1000, modifiedFrom: from, modifiedTo: to }).flatMap((page) => page.entities.map((entity) => entity.id));
    expect(ids).toEqual(expected(inWindow));
    expect(ids[0]).toBe("Cart/user-0501"); // 0500 was deleted
    expect(ids).toContain("Cart/user-0899");
    expect(ids).not.toContain("Cart/user-0507"); // written without a time
    expect(await store.countEntities({ type: "Cart", modifiedFrom: from, modifiedTo: to })).toBe(ids.length);
    const since = pages({ type: "Counter", pageSize: 1000, modifiedFrom: T0 + 6990 }).flatMap((page) => page.entities.map((entity) => entity.id));
    expect(since.sort(compareIds)).toEqual(Array.from({ length: 10 }, (_, i) => `Counter/c${6990 + i}`).sort(compareIds));
  });

  it("orders ids by code point (LMDB's key order), astral characters after U+FFFF, across partitions", () => {
    const ids = pages({ type: "Cart.v2", pageSize: 7 }).flatMap((page) => page.entities.map((entity) => entity.id));
    expect(ids).toHaveLength(500);
    const odd = ids.filter((id) => ODD_KEYS.includes(id.slice("Cart.v2/".length)));
    expect(odd).toEqual([" ", "A", "a", "a/b", "a1", "a\u00a0", "~", "\u00e9", "\ue000", "\uffff", "\ud83d\ude00"].map((key) => `Cart.v2/${key}`));
    for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1]!, ids[i]!)).toBeLessThan(0);
  });

  it("ends a page early when a selective filter reads many records, with a next that goes on from there", () => {
    const query = { type: "Counter", pageSize: 1000, keyPrefix: "c", modifiedFrom: T0 + 6999, maxScan: 2500 };
    const listed = pages(query);
    expect(listed.length).toBeGreaterThan(2);
    expect(listed.slice(0, -1).every((page) => page.next !== undefined)).toBe(true);
    expect(listed.flatMap((page) => page.entities.map((entity) => entity.id))).toEqual(["Counter/c6999"]);
  });

  it("ends a page with states at about the byte bound (at least one entity)", () => {
    const page = store.listEntities({ type: "Cart", pageSize: 1000, includeState: true, maxBytes: 200 });
    expect(page.entities.length).toBeGreaterThanOrEqual(1);
    expect(page.entities.length).toBeLessThan(10);
    expect(page.next).toBe(page.entities.at(-1)!.id);
  });

  it("continues after the last id of the previous page: an entity written meanwhile before it is not listed, one after it is", async () => {
    const first = store.listEntities({ type: "Carts", pageSize: 100 });
    const batch = store.newBatch();
    batch.putEntity("Carts/0-new", { version: 1, modifiedAt: T0, state: "before the cursor" });
    batch.putEntity("Carts/999-new", { version: 1, modifiedAt: T0, state: "after the cursor" });
    await store.commit(batch);
    const rest = pages({ type: "Carts", pageSize: 1000 }).flatMap((page) => page.entities.map((entity) => entity.id));
    const after = store.listEntities({ type: "Carts", pageSize: 1000, after: first.next! }).entities.map((entity) => entity.id);
    expect(after).toContain("Carts/999-new");
    expect(after).not.toContain("Carts/0-new");
    expect(new Set([...first.entities.map((entity) => entity.id), ...after])).toEqual(new Set(rest.filter((id) => id !== "Carts/0-new")));
    const cleanup = store.newBatch();
    cleanup.deleteEntity("Carts/0-new");
    cleanup.deleteEntity("Carts/999-new");
    await store.commit(cleanup);
  });

  it("reads records without a modifiedAt (written before it was kept) like any other", () => {
    const page = store.listEntities({ type: "Cart", pageSize: 1, keyPrefix: "user-0007" });
    expect(page.entities).toEqual([{ id: "Cart/user-0007", version: 2 }]);
    expect(store.readEntity("Cart/user-0007")).toEqual({ version: 2, state: { items: [7] } });
  });

  it("applies a further condition on the record (what clean uses)", async () => {
    const where = (_id: string, record: EntityRecord) => record.state === undefined || record.lock !== undefined;
    const ids = pages({ type: "Cart", pageSize: 50, includeDeleted: true, where }).flatMap((page) => page.entities.map((entity) => entity.id));
    expect(ids).toEqual(expected((id, record) => id.startsWith("Cart/") && where(id, record)));
    expect(ids).toHaveLength(200 + 8);
    expect(await store.countEntities({ type: "Cart", includeDeleted: true, where })).toBe(208);
  });
});

describe("counting entities", () => {
  it("counts a partition in chunks (more than one chunk of 5,000 in one partition) and matches the listing", async () => {
    const single = await stores.openStore(stores.newDir(), 1);
    const batch = single.newBatch();
    for (let i = 0; i < 11_000; i++) batch.putEntity(`Log/${i}`, i % 4 === 0 ? { version: 1 } : { version: 1, modifiedAt: T0 + i, state: i });
    await single.commit(batch);
    expect(await single.countEntities({ type: "Log", includeDeleted: true })).toBe(11_000);
    expect(await single.countEntities({ type: "Log" })).toBe(8250);
    expect(await single.countEntities({ type: "Log", keyPrefix: "1", includeDeleted: true })).toBe(1 + 10 + 100 + 1000 + 1000);
    const withPrefix = Array.from({ length: 11_000 }, (_, i) => i).filter((i) => String(i).startsWith("1") && i % 4 !== 0);
    expect(await single.countEntities({ type: "Log", keyPrefix: "1" })).toBe(withPrefix.length);
    let listed = 0;
    let after: string | undefined;
    do {
      const page: EntityListing = single.listEntities({ type: "Log", pageSize: 1000, ...(after === undefined ? {} : { after }) });
      listed += page.entities.length;
      after = page.next;
    } while (after !== undefined);
    expect(listed).toBe(8250);
  });
});

describe("compareIds", () => {
  it("is code point order: the order of the ids' UTF-8 bytes", () => {
    const ids = ["a", "\ud83d\ude00", "\uffff", "\ue000", "\ud7ff", "ab", "", "\u0800", "\ud83d\ude01", "b"];
    const byBytes = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...ids].sort(compareIds)).toEqual(byBytes);
  });
});
