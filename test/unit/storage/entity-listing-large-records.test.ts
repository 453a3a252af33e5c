import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LmdbStore } from "../../../src/storage/index.js";
import { TempStores } from "../support/temp-dir.js";

/*
 * Listing and counting read each record whole (its state too) to filter it. With large states, a page
 * of 1,000 entities, or a count, must not read gigabytes in one synchronous stretch (256 KiB states:
 * a 1,000-entity page took 4 s, a selective filter 7.5 s, with the whole server stalled): a page ends
 * once it has read a bounded number of bytes (short, with a continuation), and a count lets the event
 * loop run between bounded chunks.
 */

const stores = new TempStores();
let store: LmdbStore;
const N = 120;
const STATE_CHARS = 256 * 1024;
const ids = Array.from({ length: N }, (_, i) => `Doc/d${String(i).padStart(4, "0")}`);

beforeAll(async () => {
  store = await stores.openStore(stores.newDir());
  const body = "x".repeat(STATE_CHARS);
  for (let from = 0; from < N; from += 20) {
    const batch = store.newBatch();
    for (const id of ids.slice(from, from + 20)) batch.putEntity(id, { version: 1, modifiedAt: 1000, state: { body, id } });
    await store.commit(batch);
  }
});
afterAll(async () => {
  await stores.dispose();
});

describe("listing entities with large states", () => {
  it("ends a page after a bounded number of bytes read, with or without states, and the pages still list every entity once, in order", () => {
    for (const query of [{}, { includeState: true }, { modifiedFrom: 5000 }]) {
      const listed: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = store.listEntities({ type: "Doc", pageSize: 1000, ...query, ...(after === undefined ? {} : { after }) });
        pages++;
        // 1 MiB of states would be 4 of these records; 8 MiB, 32.
        expect(page.entities.length).toBeLessThanOrEqual(40);
        listed.push(...page.entities.map((entity) => entity.id));
        after = page.next;
      } while (after !== undefined);
      expect(pages).toBeGreaterThan(2);
      expect(listed).toEqual("modifiedFrom" in query ? [] : ids);
    }
  });

  it("counts in chunks of bounded bytes, letting the event loop run between them", async () => {
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const count = await store.countEntities({ type: "Doc" });
    done = true;
    expect(count).toBe(N);
    expect(turns).toBeGreaterThan(2);
  });
});
