import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LmdbStore, partitionOf, StoreWriteError, type EntityRecord, type EntityStore, type MailboxMessage, type SignalMark, type PageCursor } from "../../../src/storage/index.js";
import { TempStores } from "../support/temp-dir.js";

const stores = new TempStores();
afterEach(async () => {
  await stores.dispose();
});

/** Ids of `Counter/<n>` that fall in `partition`, the first `count` of them. */
function idsIn(store: LmdbStore, partition: number, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (store.partitionOf(`Counter/${i}`) === partition) ids.push(`Counter/${i}`);
  return ids;
}

describe("LmdbStore layout", () => {
  it("uses 16 partitions by default, all local, hashed with partitionOf", async () => {
    const store = await stores.openStore(stores.newDir());
    expect(store.partitionCount).toBe(16);
    expect(store.localPartitions).toEqual(Array.from({ length: 16 }, (_, i) => i));
    for (const id of ["Counter/a", "Log/b/c", "X/ü"]) expect(store.partitionOf(id)).toBe(partitionOf(id, 16));
  });

  it("keeps the partition count it was made with, whatever a later open asks for", async () => {
    const dir = stores.newDir();
    const first = await stores.openStore(dir, 5);
    expect(first.partitionCount).toBe(5);
    const partitions = ["A/1", "A/2", "B/x"].map((id) => first.partitionOf(id));
    await stores.closeStore(first);
    const second = await stores.openStore(dir, 32);
    expect(second.partitionCount).toBe(5);
    expect(second.localPartitions).toEqual([0, 1, 2, 3, 4]);
    expect(["A/1", "A/2", "B/x"].map((id) => second.partitionOf(id))).toEqual(partitions);
    await stores.closeStore(second);
    expect((await stores.openStore(dir)).partitionCount).toBe(5);
  });
});

describe("LmdbStore entity records", () => {
  it("reads undefined for an entity never written", async () => {
    const store = await stores.openStore(stores.newDir());
    expect(store.readEntity("Counter/none")).toBeUndefined();
  });

  it("writes, overwrites and deletes records, and keeps them across a reopen", async () => {
    const dir = stores.newDir();
    const store = await stores.openStore(dir);
    const a: EntityRecord = { version: 3, state: { n: [1, "x", null] } };
    let batch = store.newBatch();
    batch.putEntity("Counter/a", a);
    batch.putEntity("Counter/b", { version: 1, state: 1 });
    batch.putEntity("Counter/c", { version: 1, state: "gone soon" });
    await store.commit(batch);
    batch = store.newBatch();
    batch.putEntity("Counter/b", { version: 2 });
    batch.deleteEntity("Counter/c");
    await store.commit(batch);
    expect(store.readEntity("Counter/a")).toEqual(a);
    expect(store.readEntity("Counter/b")).toEqual({ version: 2 });
    expect(store.readEntity("Counter/c")).toBeUndefined();
    await stores.closeStore(store);
    const reopened = await stores.openStore(dir);
    expect(reopened.readEntity("Counter/a")).toEqual(a);
    expect(reopened.readEntity("Counter/b")).toEqual({ version: 2 });
    expect(reopened.readEntity("Counter/c")).toBeUndefined();
  });

  it("captures values when they are added to a batch", async () => {
    const store = await stores.openStore(stores.newDir());
    const state = { list: [1] };
    const message = { target: "Counter/t", op: "add", input: { n: 1 } };
    const batch = store.newBatch();
    batch.putEntity("Counter/v", { version: 1, state });
    batch.appendMessage(message);
    state.list.push(2);
    message.input.n = 99;
    await store.commit(batch);
    expect(store.readEntity("Counter/v")).toEqual({ version: 1, state: { list: [1] } });
    expect([...store.readMailbox(store.partitionOf("Counter/t"))].map(([, m]) => m)).toEqual([{ target: "Counter/t", op: "add", input: { n: 1 } }]);
  });

  it("writes nothing until commit, then every write of the batch", async () => {
    const store = await stores.openStore(stores.newDir());
    const batch = store.newBatch();
    const ids = Array.from({ length: 200 }, (_, i) => `Counter/${i}`);
    for (const id of ids) batch.putEntity(id, { version: 1, state: id });
    const address = batch.appendMessage({ target: "Counter/7", op: "add", input: 1 });
    expect(batch.size).toBe(201);
    expect(ids.map((id) => store.readEntity(id)).filter((r) => r !== undefined)).toEqual([]);
    expect([...store.readMailbox(address.partition)]).toEqual([]);
    await store.commit(batch);
    expect(ids.map((id) => store.readEntity(id))).toEqual(ids.map((id) => ({ version: 1, state: id })));
    expect([...store.readMailbox(address.partition)]).toEqual([[address, { target: "Counter/7", op: "add", input: 1 }]]);
  });

  it("commits an empty batch, and resolves durable()", async () => {
    const store = await stores.openStore(stores.newDir());
    const batch = store.newBatch();
    expect(batch.size).toBe(0);
    await expect(store.commit(batch)).resolves.toBeUndefined();
    await expect(store.durable()).resolves.toBeUndefined();
  });
});

describe("LmdbStore mailboxes", () => {
  it("appends to the target's partition and reads each partition in append order", async () => {
    const store = await stores.openStore(stores.newDir(), 4);
    const sent: Array<[number, MailboxMessage]> = [];
    for (let round = 0; round < 3; round++) {
      const batch = store.newBatch();
      for (let i = 0; i < 40; i++) {
        const message: MailboxMessage = { target: `Counter/${i}`, op: "add", input: round * 100 + i, source: "Src/1" };
        const address = batch.appendMessage(message);
        expect(address.partition).toBe(store.partitionOf(message.target));
        sent.push([address.partition, message]);
      }
      await store.commit(batch);
    }
    for (const partition of store.localPartitions) {
      const read = [...store.readMailbox(partition)];
      expect(read.map(([address]) => address.partition).every((p) => p === partition)).toBe(true);
      expect(read.map(([, message]) => message)).toEqual(sent.filter(([p]) => p === partition).map(([, m]) => m));
      const seqs = read.map(([address]) => address.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
  });

  it("reads addresses that delete exactly their message", async () => {
    const store = await stores.openStore(stores.newDir(), 2);
    const [a, b, c] = idsIn(store, 1, 3) as [string, string, string];
    let batch = store.newBatch();
    for (const target of [a, b, c]) batch.appendMessage({ target, op: "add", input: target });
    await store.commit(batch);
    const [, middle] = [...store.readMailbox(1)];
    batch = store.newBatch();
    batch.deleteMessage(middle![0]);
    await store.commit(batch);
    expect([...store.readMailbox(1)].map(([, m]) => (m.kind === undefined ? m.input : undefined))).toEqual([a, c]);
  });

  it("orders by number, not text, past seq 9 and 99", async () => {
    const store = await stores.openStore(stores.newDir(), 1);
    const batch = store.newBatch();
    for (let i = 0; i < 120; i++) batch.appendMessage({ target: "Counter/x", op: "add", input: i });
    await store.commit(batch);
    expect([...store.readMailbox(0)].map(([, m]) => (m.kind === undefined ? m.input : undefined))).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });

  it("continues mailbox seqs after a reopen", async () => {
    const dir = stores.newDir();
    const store = await stores.openStore(dir, 3);
    const targets = [0, 1, 2].map((p) => idsIn(store, p, 1)[0]!);
    let batch = store.newBatch();
    const before = [];
    for (let i = 0; i < 5; i++) for (const target of targets) before.push(batch.appendMessage({ target, op: "add", input: i }));
    await store.commit(batch);
    await stores.closeStore(store);

    const reopened = await stores.openStore(dir);
    batch = reopened.newBatch();
    const after = targets.map((target) => batch.appendMessage({ target, op: "add", input: "after" }));
    await reopened.commit(batch);
    for (const address of after) {
      const lastBefore = Math.max(...before.filter((b) => b.partition === address.partition).map((b) => b.seq));
      expect(address.seq).toBeGreaterThan(lastBefore);
      const read = [...reopened.readMailbox(address.partition)];
      expect(read).toHaveLength(6);
      expect(read.at(-1)).toEqual([address, { target: targets[address.partition], op: "add", input: "after" }]);
    }
  });

  it("keeps an empty partition's mailbox empty while others fill", async () => {
    const store = await stores.openStore(stores.newDir(), 8);
    const [target] = idsIn(store, 3, 1);
    const batch = store.newBatch();
    batch.appendMessage({ target: target!, op: "add" });
    await store.commit(batch);
    for (const partition of store.localPartitions) expect([...store.readMailbox(partition)]).toHaveLength(partition === 3 ? 1 : 0);
  });
});

describe("LmdbStore signal marks", () => {
  it("stores, reads, lists per partition and deletes marks, apart from entity records", async () => {
    const dir = stores.newDir();
    const store = await stores.openStore(dir);
    const batch = store.newBatch();
    batch.putEntity("Counter/a", { version: 1, state: 1 });
    batch.putSignalMark("Counter/a", "c1", [7, 1000]);
    batch.putSignalMark("Counter/a", "c/2", [3, 2000]);
    batch.putSignalMark("Counter/b", "c1", [1, 3000]);
    await store.commit(batch);
    expect(store.readSignalMark("Counter/a", "c1")).toEqual([7, 1000]);
    expect(store.readSignalMark("Counter/a", "c3")).toBeUndefined();
    expect(store.readEntity("Counter/a")).toEqual({ version: 1, state: 1 });
    const all = allSignalMarks(store, 100);
    expect(all.sort()).toEqual([
      ["Counter/a", "c/2", [3, 2000]],
      ["Counter/a", "c1", [7, 1000]],
      ["Counter/b", "c1", [1, 3000]],
    ]);
    const removal = store.newBatch();
    removal.deleteSignalMark("Counter/a", "c1");
    await store.commit(removal);
    expect(store.readSignalMark("Counter/a", "c1")).toBeUndefined();
    expect([...store.readMailbox(store.partitionOf("Counter/a"))]).toEqual([]);
  });
});

describe("LmdbStore commit", () => {
  it("commits nothing of a batch when one of its writes fails (all or nothing)", async () => {
    const dir = stores.newDir();
    const store = await stores.openStore(dir);
    const batch = store.newBatch();
    batch.putEntity("Counter/ok", { version: 1, state: 1 });
    batch.putEntity(`Counter/${"k".repeat(4000)}`, { version: 1, state: 2 }); // past LMDB's key size limit
    // A commit queued behind the failing one was built on memory that held its writes: refused as well.
    const behind = store.newBatch();
    behind.putEntity("Counter/behind", { version: 1, state: 4 });
    const failed = store.commit(batch);
    const refused = store.commit(behind);
    await expect(failed).rejects.toThrow(StoreWriteError);
    await expect(refused).rejects.toThrow(/an earlier commit this one follows failed/);
    expect(store.readEntity("Counter/ok")).toBeUndefined();
    expect(store.readEntity("Counter/behind")).toBeUndefined();
    store.resync(); // every commit in flight has settled: the next follows what is on disk
    const next = store.newBatch();
    next.putEntity("Counter/after", { version: 1, state: 3 });
    await store.commit(next);
    await store.close();
    const reopened = await stores.openStore(dir);
    expect(reopened.readEntity("Counter/ok")).toBeUndefined();
    expect(reopened.readEntity("Counter/after")).toEqual({ version: 1, state: 3 });
  });
});

describe("LmdbStore data directory lock", () => {
  it("refuses a data directory another store holds, in this process or another, and frees it on close or death", async () => {
    const dir = stores.newDir();
    const first = await stores.openStore(dir);
    await expect(stores.openStore(dir)).rejects.toThrow(/is in use by another server/);
    const other = await openInChildProcess(dir);
    expect(other).toMatch(/is in use by another server/);
    await first.close();
    const holder = spawnHolder(dir); // a process that takes the lock, then is killed without closing anything
    await holder.locked;
    await expect(stores.openStore(dir)).rejects.toThrow(/is in use by another server/);
    holder.child.kill("SIGKILL");
    await holder.exited;
    const after = await stores.openStore(dir); // the kernel let go of the dead process's lock
    await after.close();
  });
});

describe("LmdbStore data directory lock, taken over", () => {
  it("lets exactly one of two starters racing for a lock left by a killed server take it", async () => {
    const dir = stores.newDir();
    for (let round = 0; round < 3; round++) {
      const killed = spawnHolder(dir);
      await killed.locked;
      killed.child.kill("SIGKILL"); // leaves its socket file behind
      await killed.exited;
      const racers = [spawnHolder(dir), spawnHolder(dir)];
      const outcomes = await Promise.all(racers.map((racer) => racer.outcome));
      expect(outcomes.filter((outcome) => outcome === "locked")).toHaveLength(1);
      expect(outcomes.filter((outcome) => /is in use by another server/.test(outcome))).toHaveLength(1);
      for (const racer of racers) racer.child.kill("SIGKILL");
      await Promise.all(racers.map((racer) => racer.exited));
    }
  });

  it("locks a directory whose path is too long for a socket file", async () => {
    const dir = join(stores.newDir(), "a-rather-long-directory-name-".repeat(4));
    mkdirSync(dir);
    const first = await stores.openStore(dir);
    await expect(stores.openStore(dir)).rejects.toThrow(/is in use by another server/);
    await first.close();
    await (await stores.openStore(dir)).close();
  });
});

/** Tries to open the store at `dir` in a separate Node process; resolves with what it printed. */
async function openInChildProcess(dir: string): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", "-e", `${HOLDER_SCRIPT}; open().then(() => console.log("opened"), (e) => console.log(e.message))`], { env: { ...process.env, DIR: dir }, stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => child.once("exit", resolve));
  return output;
}

/** A separate Node process that opens the store at `dir` and keeps it open until killed (or says why it could not). */
function spawnHolder(dir: string): { child: ChildProcess; locked: Promise<void>; outcome: Promise<string>; exited: Promise<unknown> } {
  const script = `${HOLDER_SCRIPT}; open().then(() => { console.log("locked"); setInterval(() => {}, 1000); }, (e) => { console.log(e.message); setInterval(() => {}, 1000); })`;
  const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { env: { ...process.env, DIR: dir }, stdio: ["ignore", "pipe", "inherit"] });
  const outcome = new Promise<string>((resolve) => child.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
  const locked = outcome.then((line) => (line === "locked" ? undefined : Promise.reject(new Error(line))));
  locked.catch(() => {}); // awaited only where the holder is expected to win
  return { child, locked, outcome, exited: new Promise((resolve) => child.once("exit", resolve)) };
}

const HOLDER_SCRIPT = `const { LmdbStore } = await import(${JSON.stringify(new URL("../../../src/storage/index.js", import.meta.url).href)}); const open = () => LmdbStore.open({ path: process.env.DIR })`;

describe("LmdbStore signal mark pages", () => {
  it("pages through a partition's marks: each exactly once, in pages of at most the limit", async () => {
    const store = await stores.openStore(stores.newDir(), 1);
    const batch = store.newBatch();
    for (let i = 0; i < 25; i++) batch.putSignalMark(`Counter/e${i % 5}`, `client-${i}`, [i, 1000 + i]);
    await store.commit(batch);
    const pageSizes: number[] = [];
    const seen: string[] = [];
    let after: PageCursor | undefined;
    do {
      const page = store.readSignalMarks(0, 7, after);
      pageSizes.push(page.entries.length);
      seen.push(...page.entries.map(([entityId, clientId]) => `${entityId} ${clientId}`));
      after = page.next;
    } while (after !== undefined);
    expect(pageSizes).toEqual([7, 7, 7, 4]);
    expect(new Set(seen).size).toBe(25);
    expect(allSignalMarks(store, 5)).toHaveLength(25); // a last full page is followed by an empty one
  });
});

describe("LmdbStore signal failures", () => {
  it("stores, reads, pages through and deletes failures, apart from marks", async () => {
    const store = await stores.openStore(stores.newDir(), 1);
    const batch = store.newBatch();
    batch.putSignalMark("Counter/a", "c1", [3, 1000]);
    for (const seq of [1, 3, 2]) batch.putSignalFailure("Counter/a", "c1", seq, ["operation_failed", `boom ${seq}`, 1000 + seq]);
    batch.putSignalFailure("Counter/b", "c/2", 7, ["unknown_operation", "no such op", 2000]);
    await store.commit(batch);
    expect(store.readSignalFailure("Counter/a", "c1", 3)).toEqual(["operation_failed", "boom 3", 1003]);
    expect(store.readSignalFailure("Counter/a", "c1", 4)).toBeUndefined();
    expect(store.readSignalFailure("Counter/a", "c2", 3)).toBeUndefined();
    const first = store.readSignalFailures(0, 3);
    const rest = store.readSignalFailures(0, 3, first.next);
    expect([...first.entries, ...rest.entries].sort()).toEqual([
      ["Counter/a", "c1", 1, ["operation_failed", "boom 1", 1001]],
      ["Counter/a", "c1", 2, ["operation_failed", "boom 2", 1002]],
      ["Counter/a", "c1", 3, ["operation_failed", "boom 3", 1003]],
      ["Counter/b", "c/2", 7, ["unknown_operation", "no such op", 2000]],
    ]);
    expect(rest.next).toBeUndefined();
    expect(allSignalMarks(store, 10)).toEqual([["Counter/a", "c1", [3, 1000]]]); // failures are not marks
    const removal = store.newBatch();
    removal.deleteSignalFailure("Counter/a", "c1", 2);
    await store.commit(removal);
    expect(store.readSignalFailure("Counter/a", "c1", 2)).toBeUndefined();
    expect(store.readSignalFailure("Counter/a", "c1", 3)).toBeDefined();
  });
});

describe("LmdbStore signal marks for the longest ids", () => {
  it("stores a mark and a failure for the longest entity id and client id the protocol allows (LMDB keys are limited)", async () => {
    const store = await stores.openStore(stores.newDir());
    const entityId = `${"N".repeat(128)}/${"\u4e00".repeat(512)}`;
    const clientId = "\u4e00".repeat(200);
    const batch = store.newBatch();
    batch.putEntity(entityId, { version: 1, state: 1 });
    batch.putSignalMark(entityId, clientId, [5, 1000]);
    await store.commit(batch);
    expect(store.readSignalMark(entityId, clientId)).toEqual([5, 1000]);
    expect(allSignalMarks(store, 100)).toEqual([[entityId, clientId, [5, 1000]]]);
    const failure = store.newBatch();
    failure.putSignalFailure(entityId, clientId, Number.MAX_SAFE_INTEGER, ["operation_failed", "boom", 1000]);
    await store.commit(failure);
    expect(store.readSignalFailure(entityId, clientId, Number.MAX_SAFE_INTEGER)).toEqual(["operation_failed", "boom", 1000]);
  });
});

/** Every signal mark of every partition, read a page of `limit` at a time. */
function allSignalMarks(store: EntityStore, limit: number): Array<[string, string, SignalMark]> {
  const marks: Array<[string, string, SignalMark]> = [];
  for (const partition of store.localPartitions) {
    let after: PageCursor | undefined;
    do {
      const page = store.readSignalMarks(partition, limit, after);
      marks.push(...page.entries);
      after = page.next;
    } while (after !== undefined);
  }
  return marks;
}

describe("LmdbStore data directories", () => {
  it("opens a directory whose name has a dot in it (store.db, data.v2), and keeps its data there", async () => {
    for (const name of ["store.db", "data.v2"]) {
      const dir = join(stores.newDir(), name);
      const store = await stores.openStore(dir);
      const batch = store.newBatch();
      batch.putEntity("Counter/a", { version: 1, state: 7 });
      await store.commit(batch);
      await stores.closeStore(store);
      const reopened = await stores.openStore(dir);
      expect(reopened.readEntity("Counter/a")).toEqual({ version: 1, state: 7 });
    }
  });
});
