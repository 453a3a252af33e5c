import { describe, expect, it } from "vitest";
import { defineOrchestration, type HistoryEvent, type LockHandle, type OrchestrationContext } from "../../../src/orchestration/index.js";
import { FakeEntities } from "./support/fake-entities.js";
import { START_MS, TestHost } from "./support/test-host.js";

// Every TestHost turn also replays the whole history on a fresh executor and checks it agrees with the cached one.

describe("ctx.lock: critical sections", () => {
  const Section = defineOrchestration("Section", function* (ctx) {
    const states = [ctx.isLocked()];
    const task = ctx.lock(["Account/b", "Account/a", "Account/b"]);
    states.push(ctx.isLocked());
    const lock: LockHandle = yield task;
    states.push(ctx.isLocked());
    const balance: number = yield ctx.callEntity("Account/a", "get");
    lock.release();
    lock.release(); // once only
    states.push(ctx.isLocked());
    return { entities: lock.entities, balance, states };
  });

  it("locks the sorted, de-duplicated set, completes with a handle once granted, and release() ends it", () => {
    const host = new TestHost(Section);
    const first = host.start();
    expect(first).toEqual({ actions: [{ type: "LockEntities", id: 0, entityIds: ["Account/a", "Account/b"] }], customStatus: undefined, openTasks: 1, locks: ["Account/a", "Account/b"] });
    const granted = host.turn([host.lockGranted(0)]);
    expect(granted).toMatchObject({ actions: [{ type: "CallEntity", id: 1, entityId: "Account/a", operation: "get" }], openTasks: 1, locks: ["Account/a", "Account/b"] });
    const done = host.turn([host.entityResult(1, 10)]);
    expect(done.actions).toEqual([{ type: "ReleaseLocks", id: 2, entityIds: ["Account/a", "Account/b"] }]);
    expect(done.locks).toEqual([]);
    const locked = { locked: true, entities: ["Account/a", "Account/b"] };
    const free = { locked: false, entities: [] };
    expect(done.end).toEqual({ status: "Completed", output: { entities: ["Account/a", "Account/b"], balance: 10, states: [free, locked, locked, free] } });
    const sent = host.history.filter((e): e is Extract<HistoryEvent, { type: "EventSent" }> => e.type === "EventSent");
    expect(sent.map(({ timestamp, ...event }) => event)).toEqual([
      { eventId: 0, type: "EventSent", instanceId: "Account/a", name: "lock", input: ["Account/a", "Account/b"], entityRequest: "lock" },
      { eventId: 1, type: "EventSent", instanceId: "Account/a", name: "get", entityRequest: "call" },
      { eventId: 2, type: "EventSent", instanceId: "Account/a", name: "release", input: ["Account/a", "Account/b"], entityRequest: "release" },
    ]);
    expect(sent[0]!.timestamp).toBe(START_MS);
  });

  it("a Transfer moves the money inside the section, and the entities see lock, calls, release in order", () => {
    const Transfer = defineOrchestration("Transfer", function* (ctx, { from, to, amount }: { from: string; to: string; amount: number }) {
      const lock = yield* ctx.lock([from, to]);
      try {
        const balance: number = yield ctx.callEntity(from, "get");
        if (balance < amount) return { ok: false };
        yield ctx.callEntity(from, "withdraw", amount);
        yield ctx.callEntity(to, "deposit", amount);
        return { ok: true };
      } finally {
        lock.release();
      }
    });
    const entities = new FakeEntities();
    entities.states.set("Account/x", 70);
    const host = new TestHost(Transfer);
    host.start({ from: "Account/x", to: "Account/w", amount: 50 });
    entities.drive(host);
    expect(host.end).toEqual({ status: "Completed", output: { ok: true } });
    expect(host.last.locks).toEqual([]);
    expect(Object.fromEntries(entities.states)).toEqual({ "Account/x": 20, "Account/w": 50 });
    expect(entities.log).toEqual(["lock Account/w,Account/x", "Account/x get", "Account/x withdraw 50", "Account/w deposit 50", "release Account/w,Account/x"]);
  });

  it("may lock again after a release; a refused lock (a { failure } grant) fails the task and ends the section", () => {
    const Twice = defineOrchestration("Twice", function* (ctx) {
      const first = yield* ctx.lock(["Account/a"]);
      first.release();
      try {
        yield ctx.lock(["Ghost/a"]);
      } catch (error) {
        const second = yield* ctx.lock(["Account/b"]);
        first.release(); // an old handle does nothing
        return { error: (error as Error).message, state: ctx.isLocked(), second: second.entities };
      }
      return "the lock on Ghost/a was granted";
    });
    const host = new TestHost(Twice);
    host.start();
    expect(host.turn([host.lockGranted(0)]).actions).toEqual([
      { type: "ReleaseLocks", id: 1, entityIds: ["Account/a"] },
      { type: "LockEntities", id: 2, entityIds: ["Ghost/a"] },
    ]);
    const refused = host.turn([host.raised("@lock:2", { failure: { errorType: "unknown_entity", message: "no entity type Ghost" } })]);
    expect(refused).toMatchObject({ actions: [{ type: "LockEntities", id: 3, entityIds: ["Account/b"] }], locks: ["Account/b"] });
    expect(host.turn([host.lockGranted(3)]).end).toEqual({
      status: "Completed",
      output: { error: 'operation "lock" of entity "Ghost/a" failed: no entity type Ghost', state: { locked: true, entities: ["Account/b"] }, second: ["Account/b"] },
    });
    expect(host.last.locks).toEqual(["Account/b"]);
  });

  it("refuses a lock on nothing, or on something that is not an entity id", () => {
    const Bad = defineOrchestration("BadLock", function* (ctx) {
      const messages: string[] = [];
      for (const ids of [[], "Account/a", ["Account/a", "nope"]]) {
        try {
          ctx.lock(ids as string[]);
        } catch (error) {
          messages.push(`${(error as Error).name}: ${(error as Error).message}`);
        }
      }
      return { messages, state: ctx.isLocked() };
    });
    expect(new TestHost(Bad).start().end).toEqual({
      status: "Completed",
      output: {
        messages: [
          "TypeError: lock takes a non-empty array of entity ids (Name/key)",
          "TypeError: lock takes a non-empty array of entity ids (Name/key)",
          'TypeError: lock takes an entity id Name/key (e.g. "Account/alice"); got "nope"',
        ],
        state: { locked: false, entities: [] },
      },
    });
  });
});

describe("locks reported in ReplayResult.locks (for the host to release)", () => {
  const holder = (end: (ctx: OrchestrationContext) => void) =>
    defineOrchestration("Holder", function* (ctx) {
      yield ctx.lock(["Account/b", "Account/a"]);
      yield ctx.callEntity("Account/a", "get");
      end(ctx);
      return "done";
    });

  it.each([
    ["completes", () => {}, { status: "Completed", output: "done" }],
    ["fails", () => { throw new Error("boom"); }, { status: "Failed", failure: { errorType: "Error", message: "boom" } }],
    ["continues as new", (ctx: OrchestrationContext) => ctx.continueAsNew(1), { status: "ContinuedAsNew", input: 1, carryOver: [] }],
  ] as const)("while held, at every turn and when the execution %s holding them", (_what, end, expected) => {
    const host = new TestHost(holder(end));
    expect(host.start().locks).toEqual(["Account/a", "Account/b"]); // being acquired
    expect(host.turn([host.lockGranted(0)]).locks).toEqual(["Account/a", "Account/b"]); // held
    const last = host.turn([host.entityResult(1, 1)]);
    expect(last.end).toEqual(expected);
    expect(last.locks).toEqual(["Account/a", "Account/b"]);
    expect(last.actions).toEqual([]);
  });

  it("a failure that escapes the section releases in finally; the report is then empty", () => {
    const Finally = defineOrchestration("Finally", function* (ctx) {
      const lock = yield* ctx.lock(["Account/a"]);
      try {
        yield ctx.callEntity("Account/a", "withdraw", 5);
      } finally {
        lock.release();
      }
    });
    const host = new TestHost(Finally);
    host.start();
    host.turn([host.lockGranted(0)]);
    const failed = host.turn([host.entityFailed(1, "insufficient funds")]);
    expect(failed).toMatchObject({ actions: [{ type: "ReleaseLocks", id: 2, entityIds: ["Account/a"] }], end: { status: "Failed", failure: { errorType: "EntityOperationFailed" } }, locks: [] });
  });
});
