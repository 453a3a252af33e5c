import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { connect, type DurableClient, type EntityPage } from "../../clients/index.js";
import * as demo from "../../src/demo/app.js";
import type { Counter } from "../../src/demo/app.js";
import { createLogger } from "../../src/log.js";
import { defineOrchestration } from "../../src/orchestration/index.js";
import { compareIds, LmdbStore } from "../../src/storage/index.js";
import { startTestServer, tempDataDir } from "./support/test-server.js";
import { until } from "./support/until.js";

/** Holds its entities in a critical section until it gets the event `release`. */
const HoldLocks = defineOrchestration("HoldLocks", function* (ctx, ids: string[]) {
  const lock = yield* ctx.lock(ids);
  yield ctx.waitForExternalEvent("release");
  lock.release();
  return "released";
});

describe("listing, deleting and cleaning entities through the client", () => {
  const dir = tempDataDir();
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: DurableClient;
  const started = Date.now();

  beforeAll(async () => {
    // Left by an earlier run: an account locked by an orchestration that was purged since, and an empty counter.
    const store = await LmdbStore.open({ path: dir.path });
    const batch = store.newBatch();
    batch.putEntity("Account/orphaned", { version: 1, state: 50, lock: { instanceId: "purged-long-ago", generation: 1 } });
    batch.putEntity("Stats/left-empty", { version: 3 });
    batch.putEntity("Counter/deleted-before", { version: 2 });
    await store.commit(batch);
    await store.close();
    server = await startTestServer("ws", { app: { ...demo, HoldLocks }, dataDir: dir.path, log: createLogger("error"), liveState: { maxIdleFeeds: 0 } });
    client = await connect(server.url);
    await Promise.all(Array.from({ length: 250 }, (_, i) => client.signal(`Counter/k${i}`, "add", i)));
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
    dir.cleanup();
  });

  it("lists a type's entities a page at a time in one order, with their state, time and a count, typed by definition", async () => {
    const first = await client.listEntities<typeof Counter>({ type: "Counter", pageSize: 100, includeState: true, count: true });
    expectTypeOf(first).toEqualTypeOf<EntityPage<number>>();
    expect(first.entities).toHaveLength(100);
    expect(first.count).toBe(250); // Counter/deleted-before has no state: left out
    expect((await client.listEntities({ type: "Counter", includeDeleted: true, count: true })).count).toBe(251);
    expect(first.continuation).toEqual(expect.any(String));
    const listed = [...first.entities];
    let continuation = first.continuation;
    while (continuation !== undefined) {
      const page = await client.listEntities<typeof Counter>({ type: "Counter", pageSize: 100, includeState: true, continuation });
      expect(page.count).toBeUndefined();
      listed.push(...page.entities);
      continuation = page.continuation;
    }
    const expectedIds = Array.from({ length: 250 }, (_, i) => `Counter/k${i}`).sort(compareIds);
    expect(listed.map((entity) => entity.id)).toEqual(expectedIds);
    for (const entity of listed) {
      expect(entity.state).toBe(Number(entity.id.slice("Counter/k".length)));
      expect(entity.version).toBe(1);
      expect(Date.parse(entity.lastModified!)).toBeGreaterThanOrEqual(started - 1000);
      expect(entity.lockedBy).toBeUndefined();
    }
    const bare = await client.listEntities({ type: "Counter", prefix: "k24", pageSize: 1000 });
    expect(bare.entities.map((entity) => entity.id)).toEqual(["Counter/k24", "Counter/k240", "Counter/k241", "Counter/k242", "Counter/k243", "Counter/k244", "Counter/k245", "Counter/k246", "Counter/k247", "Counter/k248", "Counter/k249"]);
    expect(bare.entities[0]).not.toHaveProperty("state");
    expect(bare.continuation).toBeUndefined();
    expect((await client.listEntities({ type: "counter", ignoreCase: true, prefix: "k24" })).entities).toHaveLength(11);
  });

  it("filters by last-modified time", async () => {
    const before = Date.now();
    await client.signal("Counter/k7", "add", 1);
    const since = await client.listEntities({ type: "Counter", modifiedFrom: new Date(before), count: true });
    expect(since.entities.map((entity) => entity.id)).toEqual(["Counter/k7"]);
    expect(since.count).toBe(1);
    const older = await client.listEntities({ type: "Counter", modifiedTo: before - 1, pageSize: 1000 });
    expect(older.entities.map((entity) => entity.id)).not.toContain("Counter/k7");
    expect(older.entities).toHaveLength(249);
  });

  it("deletes an entity in its turn: live state sees null, listings leave it out, and clean removes it once nobody watches", async () => {
    await client.signal("Counter/doomed", "add", 3);
    const seen: unknown[] = [];
    const live = client.subscribe("Counter/doomed", (state) => seen.push(state));
    await live.ready;
    expect(await client.deleteEntity("Counter/doomed")).toEqual({ deleted: true });
    await until(() => seen.at(-1) === null);
    expect(await client.getWithVersion("Counter/doomed")).toEqual({ state: null, version: 2 });
    expect(await client.deleteEntity("Counter/doomed")).toEqual({ deleted: false });
    expect((await client.listEntities({ type: "Counter", prefix: "doomed" })).entities).toEqual([]);
    const deleted = await client.listEntities({ type: "Counter", prefix: "doomed", includeDeleted: true });
    expect(deleted.entities).toEqual([{ id: "Counter/doomed", version: 2, lastModified: expect.any(String) }]);

    const watched = await client.cleanEntities({ entityType: "Counter" });
    expect(watched.removed).not.toContain("Counter/doomed"); // a subscriber holds version 2: the record stays
    await live.close();
    await until(() => !server.liveState.isWatched("Counter/doomed"));
    const cleaned = await client.cleanEntities({ entityType: "Counter" });
    expect(cleaned.removed).toContain("Counter/doomed");
    expect((await client.listEntities({ type: "Counter", prefix: "doomed", includeDeleted: true })).entities).toEqual([]);
    expect(await client.getWithVersion("Counter/doomed")).toEqual({ state: null, version: 0 });
    expect(await client.call("Counter/doomed", "add", 1)).toBe(1);
  });

  it("cleans: frees a lock whose holder is gone, removes empty entities, keeps a running holder's lock; a delete waits behind that lock", async () => {
    await client.signal("Account/held", "deposit", 10);
    const instanceId = await client.start(HoldLocks, ["Account/held"]);
    const store = server.runtime.pipeline.store;
    await until(() => store.readEntity("Account/held")?.lock !== undefined);

    let deletedAnswer: unknown;
    const deleting = client.deleteEntity("Account/held").then((answer) => (deletedAnswer = answer));
    const report = await client.cleanEntities();
    expect(report.unlocked).toEqual(["Account/orphaned"]);
    expect(report.locksFreed).toBe(1);
    expect(report.removed).toContain("Stats/left-empty");
    expect(report.removedEmpty).toBe(report.removed.length);
    expect(store.readEntity("Account/orphaned")).toMatchObject({ state: 50 });
    expect(store.readEntity("Account/orphaned")?.lock).toBeUndefined();
    expect(store.readEntity("Stats/left-empty")).toBeUndefined();

    const accounts = await client.listEntities({ type: "Account", includeState: true });
    expect(accounts.entities).toEqual([
      { id: "Account/held", version: 1, lastModified: expect.any(String), state: 10, lockedBy: instanceId },
      { id: "Account/orphaned", version: 1, lastModified: expect.any(String), state: 50 },
    ]);
    expect(deletedAnswer).toBeUndefined(); // still waiting for the lock
    expect(await client.call("Account/orphaned", "withdraw", 5)).toBe(45); // free again

    await client.raiseEvent(instanceId, "release");
    expect(await deleting).toEqual({ deleted: true });
    expect((await client.waitForCompletion(instanceId, { timeoutMs: 20_000 })).output).toBe("released");
    expect(await client.get("Account/held")).toBeNull();
    expect((await client.cleanEntities({ entityType: "Account" })).removed).toEqual(["Account/held"]);
  });

  it("answers bad input with a coded error", async () => {
    const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
      [() => client.listEntities({ type: "9bad" }), "bad_request", /entityType/],
      [() => client.listEntities({ type: "Counter/k1" }), "bad_request", /entityType/],
      [() => client.listEntities({ type: "Planet" }), "unknown_entity", /no entity type "Planet" on this server/],
      [() => client.listEntities({ type: "counter" }), "unknown_entity", /"counter"/],
      [() => client.listEntities({ type: "Counter", continuation: "not-a-token" }), "bad_request", /continuation is not one this server gave/],
      [() => client.listEntities({ type: "Counter", pageSize: 0 }), "bad_request", /pageSize/],
      [() => client.listEntities({ type: "Counter", pageSize: 100_000 }), "bad_request", /pageSize/],
      [() => client.listEntities({ type: "Counter", pageSize: 2.5 }), "bad_request", /pageSize/],
      [() => client.listEntities({ type: "Counter", prefix: "a\u0000" }), "bad_request", /prefix/],
      [() => client.listEntities({ type: "Counter", modifiedFrom: new Date(Number.NaN) }), "bad_request", /modifiedFrom/],
      [() => client.deleteEntity("Counter"), "bad_request", /entity/],
      [() => client.deleteEntity("Planet/x"), "unknown_entity", /Planet/],
      [() => client.cleanEntities({ entityType: "Planet" }), "unknown_entity", /Planet/],
      [() => client.cleanEntities({ entityType: "a b" }), "bad_request", /entityType/],
    ];
    for (const [request, code, message] of cases) {
      const error = await request().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error, String(request)).toMatchObject({ code, message: expect.stringMatching(message) });
    }
    // A continuation of another type's listing is refused too.
    const accounts = await client.listEntities({ type: "Counter", pageSize: 1 });
    await expect(client.listEntities({ type: "Account", continuation: accounts.continuation! })).rejects.toMatchObject({ code: "bad_request" });
    expect(client.connected).toBe(true);
  });
});
