import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildProcess } from "node:child_process";
import { connect, type DurableClient } from "../../clients/index.js";
import { LmdbStore } from "../../src/storage/index.js";
import { freePort, tempDataDir } from "./support/test-server.js";
import { killAndWait, runCliToEnd, startServerProcess } from "./support/server-process.js";

/** `entities`, `delete`, `clean` and `signal --at` of the built CLI (`npm run build` first) against a server process (the demo app). */
describe("the durable-entities entity commands", () => {
  const dir = tempDataDir();
  let server: { child: ChildProcess; url: string };
  let client: DurableClient;
  const cli = (...args: string[]) => runCliToEnd([...args, "--url", server.url]);
  beforeAll(async () => {
    const store = await LmdbStore.open({ path: dir.path });
    const batch = store.newBatch();
    batch.putEntity("Account/stuck", { version: 1, state: 7, lock: { instanceId: "gone", generation: 1 } });
    await store.commit(batch);
    await store.close();
    server = await startServerProcess(["--data", dir.path, "--port", String(await freePort())]);
    client = await connect(server.url);
    await Promise.all(Array.from({ length: 30 }, (_, i) => client.signal(`Counter/c${String(i).padStart(2, "0")}`, "add", i)));
  });
  afterAll(async () => {
    await client?.close();
    await killAndWait(server.child, "SIGTERM");
    dir.cleanup();
  });

  it("lists a type's entities as a table, a page or all of them, with states, a count and JSON", async () => {
    const page = await cli("entities", "Counter", "--page-size", "10", "--count");
    expect(page.code).toBe(0);
    const lines = page.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ENTITY\s+VERSION\s+LAST MODIFIED\s+LOCKED BY$/);
    expect(lines.slice(1)).toHaveLength(10);
    expect(lines[1]).toMatch(/^Counter\/c00\s+1\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+-$/);
    expect(page.stderr).toMatch(/^10 entities of Counter \(30 match in all\); more with --all, or --continuation (\S+)\n$/);
    const token = /--continuation (\S+)/.exec(page.stderr)![1]!;
    const next = await cli("entities", "Counter", "--page-size", "10", "--continuation", token);
    expect(next.stdout.split("\n")[1]).toMatch(/^Counter\/c10\s/);

    const all = await cli("entities", "Counter", "--page-size", "7", "--all", "--state", "--prefix", "c2");
    expect(all.code).toBe(0);
    const rows = all.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^ENTITY\s+VERSION\s+LAST MODIFIED\s+LOCKED BY\s+STATE$/);
    expect(rows.slice(1).map((row) => row.split(/\s+/)[0])).toEqual(Array.from({ length: 10 }, (_, i) => `Counter/c2${i}`));
    expect(rows[3]).toMatch(/\s22$/);
    expect(all.stderr).toBe("10 entities of Counter\n");

    const json = JSON.parse((await cli("entities", "Account", "--state", "--json")).stdout) as { entities: unknown[] };
    expect(json).toEqual({ entities: [{ id: "Account/stuck", version: 1, state: 7, lockedBy: "gone" }] });
  });

  it("deletes an entity's state, and cleans: removes what has no state, frees locks of orchestrations that no longer run", async () => {
    expect(await cli("delete", "Counter/c05")).toEqual({ code: 0, stdout: "", stderr: "deleted: Counter/c05 (its empty record goes with durable-entities clean)\n" });
    expect(await cli("delete", "Counter/c05")).toMatchObject({ code: 0, stderr: "Counter/c05 has no state: nothing deleted\n" });
    expect(await client.get("Counter/c05")).toBeNull();
    const deleted = await cli("entities", "Counter", "--deleted", "--prefix", "c05", "--json");
    expect(JSON.parse(deleted.stdout)).toEqual({ entities: [{ id: "Counter/c05", version: 2, lastModified: expect.any(String) }] });

    const clean = await cli("clean");
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe("removed   Counter/c05\nunlocked  Account/stuck\n");
    expect(clean.stderr).toBe("removed 1 empty entity, freed 1 lock whose orchestration no longer runs\n");
    expect(JSON.parse((await cli("clean", "Counter", "--json")).stdout)).toEqual({ removedEmpty: 0, locksFreed: 0, removed: [], unlocked: [] });
    expect(await client.call("Account/stuck", "withdraw", 2)).toBe(5);
  });

  it("schedules a signal with --at: +Ns from now, epoch milliseconds or an ISO date", async () => {
    const reached = (id: string, value: number) =>
      new Promise<number>((resolve) => {
        const live = client.subscribe<number>(id, (state) => {
          if (state === value) void live.close().then(() => resolve(Date.now()));
        });
      });
    const later = reached("Counter/later", 5);
    const scheduled = await cli("signal", "Counter/later", "add", "5", "--at", "+2s");
    expect(scheduled.code).toBe(0);
    expect(scheduled.stderr).toMatch(/^scheduled: Counter\/later add at \d{4}-\d\d-\d\dT[\d:.]+Z is durable\n$/);
    const at = Date.parse(/ at (\S+) is durable/.exec(scheduled.stderr)![1]!);
    const early = await client.get("Counter/later");
    if (Date.now() < at) expect(early).toBeNull(); // not before its time
    expect(await later).toBeGreaterThanOrEqual(at);

    const past = reached("Counter/past", 5);
    expect(await cli("signal", "Counter/past", "add", "2", "--at", String(Date.now() - 1000))).toMatchObject({ code: 0 });
    expect(await cli("signal", "Counter/past", "add", "3", "--at", new Date(Date.now() - 1000).toISOString())).toMatchObject({ code: 0 });
    await past; // a time already past: applied at once
  });

  it("refuses bad input with one clear line", async () => {
    const cases: Array<[string[], RegExp, number]> = [
      [["entities"], /^error: usage: durable-entities entities Type /, 2],
      [["entities", "Counter/c01"], /^error: entities takes an entity type name like Counter .*; entities takes the type alone: durable-entities entities Counter --prefix c01\n$/, 2],
      [["entities", "9bad"], /^error: entities takes an entity type name/, 2],
      [["entities", "Planet"], /^error: unknown_entity: no entity type "Planet" on this server/, 1],
      [["entities", "Counter", "--page-size", "0"], /^error: --page-size must be a whole number from 1 to 1000, got "0"\n$/, 2],
      [["entities", "Counter", "--page-size", "5000"], /^error: --page-size must be a whole number from 1 to 1000/, 2],
      [["entities", "Counter", "--continuation", "bogus"], /^error: bad_request: continuation is not one this server gave/, 1],
      [["entities", "Counter", "--modified-from", "yesterday"], /^error: --modified-from takes a time: /, 2],
      [["entities", "Counter", "--colour"], /^error: unknown option --colour; entities takes /, 2],
      [["delete"], /^error: usage: durable-entities delete Name\/key/, 2],
      [["delete", "Counter"], /^error: "Counter" is not an entity id: it has no key/, 2],
      [["delete", "Planet/x"], /^error: unknown_entity: /, 1],
      [["clean", "Planet"], /^error: unknown_entity: /, 1],
      [["clean", "Counter", "extra"], /^error: usage: durable-entities clean \[Type\]/, 2],
      [["signal", "Counter/a", "add", "1", "--at", "soon"], /^error: --at takes a time: \+30s, \+5m/, 2],
      [["signal", "Counter/a", "add", "1", "--at", "99999999999999999"], /^error: --at takes a time/, 2],
      [["call", "Counter/a", "get", "--at", "+1s"], /^error: unknown option --at; call takes --url/, 2],
    ];
    for (const [args, pattern, code] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(" ")).toBe(code);
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(result.stderr, args.join(" ")).toMatch(pattern);
    }
  });
});
